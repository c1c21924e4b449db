"""What every page's header and footer get: links and menus made once per process, and the
policy's answers asked only when a template shows them."""

import re

import pytest
from django.db import connection
from django.template import Context, RequestContext, Template
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from hub import policy
from hub.core import context_processors
from hub.members.models import User
from hub.members.tests.factories import enrol_mfa

pytestmark = pytest.mark.django_db

# Sign-in brings two queries on every page: the session, then the person (or, when this process
# keeps them, the people version: hub/members/caching.py).
SIGNED_IN = 2


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def current_items(body: str) -> list[str]:
    menu = body[body.index('<nav aria-label="Main"'):]
    menu = menu[:menu.index("</nav>")]
    return re.findall(r'aria-current="page">([^<]+)<', menu)


@pytest.mark.parametrize(("path", "section"), [
    ("/", "home"), ("/library/", "library"), ("/library/42/", "library"),
    ("/assessment/", "assessment"), ("/research/", "research"), ("/community/", "community"),
    ("/community/spaces/", "community"), ("/directory/", "directory"),
    ("/organisations/", "directory"), ("/organisations/alpha/", ""), ("/your-data/", ""),
    ("/accounts/login/", ""),
])
def test_nav_section_names_the_menu_item_of_each_page(path, section):
    """A section's pages all belong to it; home and the directory only on their own pages."""
    assert context_processors.nav_section(path) == section


@pytest.mark.parametrize(("path", "current"), [
    ("/", ["Home"]), ("/library/", ["Library"]), ("/community/", ["Community"]),
    ("/organisations/", ["Directory"]), ("/your-data/", []),
])
def test_the_menu_marks_the_current_section_only(client, path, current):
    """Each page gets the menu of its own section, though the menus are made once and kept."""
    for _ in range(2):
        assert current_items(client.get(path).content.decode()) == current


def test_the_head_and_footer_are_the_layouts(client):
    """The kept parts carry the stylesheet, the htmx script and the footer's links."""
    body = client.get("/").content.decode()
    head = body[:body.index("</head>")]
    assert 'rel="stylesheet"' in head and "htmx" in head
    footer = body[body.index('<footer class="site-footer">'):]
    assert 'href="/your-data/"' in footer and "never people" in footer


@pytest.mark.parametrize(("role", "budget"), [
    ("member", 1), ("editor_a", 1), ("approver_a", 1), ("admin_a_no_mfa", 1), ("staff", 1),
    # Staff who have not enrolled are asked about it first, then for their organisations.
    ("staff_no_mfa", 2),
])
def test_a_signed_in_page_asks_the_policy_in_few_queries(world, role, budget,
                                                         django_assert_max_num_queries):
    """The home page costs a signed-in person one query beyond signing in, whatever their
    organisation roles: their memberships and two-step sign-in come from one query."""
    client = client_for(world.actors[role])
    client.get("/")
    with django_assert_max_num_queries(SIGNED_IN + budget):
        body = client.get("/").content.decode()
    person = User.objects.get(pk=world.actors[role].pk)
    assert ("Set up two-step sign-in" in body) == policy.needs_mfa_enrolment(person)
    assert ('href="/admin/"' in body) == policy.can_use_admin(person)
    assert ('href="/applications/"' in body) == policy.can_decide_any_application(person)


def test_policy_answers_cost_nothing_when_a_template_does_not_show_them(world):
    """An htmx fragment (or any template) that shows none of the header's answers makes no
    query for them; one that shows them gets the policy's answer."""
    person = User.objects.get(pk=world.actors["admin_a_no_mfa"].pk)
    request = RequestFactory().get("/")
    request.user = person
    with CaptureQueriesContext(connection) as queries:
        Template("{{ site_urls.home }}").render(RequestContext(request))
    assert len(queries) == 0
    shown = Template("{% if needs_mfa %}enrol{% endif %}").render(RequestContext(request))
    assert shown == "enrol"


def test_roles_and_two_step_sign_in_come_together_and_stay_right(world):
    """Loading a person's roles also learns whether they use two-step sign-in when they hold
    powers, and the answer follows a later enrolment (on a fresh copy of the person)."""
    admin = User.objects.get(pk=world.actors["admin_a_no_mfa"].pk)
    with CaptureQueriesContext(connection) as queries:
        assert policy.holds_powers(admin)
        assert policy.needs_mfa_enrolment(admin)
        assert not policy.admin_org_ids(admin)
    assert len(queries) == 1
    enrol_mfa(admin)
    fresh = User.objects.get(pk=admin.pk)
    assert not policy.needs_mfa_enrolment(fresh)
    assert policy.admin_org_ids(fresh) == {world.org_a.pk}
    # People without powers are not asked: the answer is looked up if anything needs it.
    editor = User.objects.get(pk=world.actors["editor_a"].pk)
    policy.org_roles(editor)
    assert not hasattr(editor, "_hub_mfa")
    assert policy.mfa_enrolled(editor) is False


def test_site_parts_are_rendered_afresh_in_debug(settings):
    """With DEBUG on, an edit to a partial shows without restarting."""
    settings.DEBUG = True
    first = context_processors.site_part("footer")
    assert first is not context_processors.site_part("footer")
    assert Template("{{ part }}").render(Context({"part": first})).startswith("<footer")
