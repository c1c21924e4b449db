"""Story pages through the client: the structured form that keeps what was typed and says what
to change, links that never show a title the reader may not see (in the page or in the form's
choices), the list's organisation filter and text search, the feed, and list queries that do
not grow with rows."""

import pytest
from defusedxml import ElementTree
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hub.assessment.models import Initiative
from hub.community import stories
from hub.community.models import Story
from hub.library.models import Tier
from hub.library.tests.factories import ResourceFactory
from hub.members.models import Membership
from hub.members.tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    enrol_mfa,
)

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def cast():
    org = OrganisationFactory(name="Harbour Youth Trust", slug="harbour", is_partner=True)
    police = OrganisationFactory(name="Hill Police", slug="hill", is_partner=True)
    staff = UserFactory(is_staff=True)
    enrol_mfa(staff)
    return {"org": org, "police": police, "staff": staff,
            "editor": MembershipFactory(organisation=org, role=Membership.Role.EDITOR).user,
            "member": UserFactory()}


def post_data(org, **extra):
    return {"title": "Night football", "summary": "A league on Friday nights.",
            "organisation": org.pk, "context": "Fights after school.",
            "what_was_done": "Officers and youth workers ran a league.",
            "outcome": "Fewer calls.", "evidence": "Call logs.", "other_partners": "",
            "status": "published"} | extra


def tell(cast, title="Night football", **extra):
    data = {"title": title, "summary": "A league on Friday nights.",
            "organisation": cast["org"], "context": "Fights after school.",
            "what_was_done": "Officers and youth workers ran a league.",
            "outcome": "Fewer calls.", "evidence": "Call logs.", "status": "published"} | extra
    return stories.story_create(actor=cast["editor"], **data)


def test_form_keeps_input_and_names_each_empty_part(client, cast):
    client.force_login(cast["editor"])
    response = client.post(reverse("community:story_new"), post_data(
        cast["org"], context="", evidence="", what_was_done="Kept <b>steps</b>"))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"context", "evidence"} <= set(errors)
    page = response.content.decode()
    assert 'value="Night football"' in page and "Kept &lt;b&gt;steps&lt;/b&gt;" in page
    assert "This field is required." in page
    assert not Story.objects.exists()


def test_form_refuses_nul_characters_with_a_message(client, cast):
    client.force_login(cast["editor"])
    response = client.post(reverse("community:story_new"),
                           post_data(cast["org"], outcome="Fewer\x00calls"))
    assert response.status_code == 400
    assert "Null characters are not allowed." in response.content.decode()
    assert not Story.objects.exists()


def test_editor_publishes_and_every_part_is_shown(client, cast):
    client.force_login(cast["editor"])
    response = client.post(reverse("community:story_new"), post_data(
        cast["org"], partners=[cast["police"].pk], other_partners="St Mary's School"))
    story = Story.objects.get()
    assert response.status_code == 302 and response["Location"] == story.get_absolute_url()
    page = client.get(story.get_absolute_url()).content.decode()
    for text in ("The context", "Fights after school.", "What was done", "The outcome",
                 "The evidence", "Call logs.", "Hill Police", "St Mary&#x27;s School",
                 "Harbour Youth Trust"):
        assert text in page, text


def test_member_may_not_open_the_form(client, cast):
    client.force_login(cast["member"])
    assert client.get(reverse("community:story_new")).status_code == 404
    response = client.post(reverse("community:story_new"), post_data(cast["org"]))
    assert response.status_code == 404 and not Story.objects.exists()


def test_restricted_titles_never_leak_through_the_story_or_its_form(client, cast):
    """Staff link a team-only initiative and a restricted report: a member reading the story
    sees neither title, the editor's form does not offer them, and saving that form keeps
    them linked."""
    hidden_initiative = Initiative.objects.create(
        name="Secret panel zq", area="Hill", country="GB", lead_organisation=cast["police"],
        kind=Initiative.Kind.OTHER, description="x", audience="team", created_by=cast["staff"])
    open_initiative = Initiative.objects.create(
        name="Open league zq", area="Hill", country="GB", lead_organisation=cast["org"],
        kind=Initiative.Kind.OTHER, description="x", audience="public",
        created_by=cast["staff"])
    hidden = ResourceFactory(title="Restricted review zq", organisation=cast["police"],
                             metadata_tier=Tier.RESTRICTED)
    shown = ResourceFactory(title="Public toolkit zq")
    story = tell(cast)
    stories.story_update(actor=cast["staff"], story=story,
                         initiatives=[hidden_initiative, open_initiative],
                         resources=[hidden, shown])
    client.force_login(cast["member"])
    page = client.get(story.get_absolute_url()).content.decode()
    assert "Open league zq" in page and "Public toolkit zq" in page
    assert "Secret panel zq" not in page and "Restricted review zq" not in page

    client.force_login(cast["editor"])
    form_page = client.get(reverse("community:story_edit", args=[story.slug])).content.decode()
    assert "Open league zq" in form_page and "Public toolkit zq" in form_page
    assert "Secret panel zq" not in form_page and "Restricted review zq" not in form_page
    response = client.post(reverse("community:story_edit", args=[story.slug]), post_data(
        cast["org"], initiatives=[open_initiative.pk], resources=[shown.pk]))
    assert response.status_code == 302
    assert set(story.initiatives.all()) == {hidden_initiative, open_initiative}
    assert set(story.resources.all()) == {hidden, shown}

    client.force_login(cast["staff"])
    page = client.get(story.get_absolute_url()).content.decode()
    assert "Secret panel zq" in page and "Restricted review zq" in page


def test_list_filters_by_organisation_or_partner_and_searches_words(client, cast):
    tell(cast, "Night football", partners=[cast["police"]])
    tell(cast, "Cooking club", what_was_done="Officers cooked with parents.")
    stories.story_create(actor=cast["staff"], title="Hub-wide survey", summary="S.",
                         organisation=cast["police"], context="C.", what_was_done="W.",
                         outcome="O.", evidence="E.", status="published")
    tell(cast, "Unpublished thing", status="draft")

    def titles(**params):
        response = client.get(reverse("community:story_list"), params)
        assert response.status_code == 200
        return {s.title for s in response.context["page"].object_list}

    assert titles() == {"Night football", "Cooking club", "Hub-wide survey"}
    assert titles(organisation=cast["police"].pk) == {"Night football", "Hub-wide survey"}
    assert titles(organisation=cast["org"].pk) == {"Night football", "Cooking club"}
    assert titles(q="parents COOKED") == {"Cooking club"}
    assert titles(q="football", organisation=cast["police"].pk) == {"Night football"}
    assert titles(q="nothing-like-this") == set()
    assert titles(q="bad\x00input", organisation="x") == set()  # refused quietly, no error
    page = client.get(reverse("community:story_list"), {"q": "zzz"}).content.decode()
    assert "No published story matches" in page


def test_feed_lists_published_stories_with_their_organisation(client, cast):
    tell(cast)
    tell(cast, "Still a draft", status="draft")
    response = client.get(reverse("community:story_feed"))
    root = ElementTree.fromstring(response.content)
    entries = list(root.iter(f"{ATOM}entry"))
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["Night football"]
    assert entries[0].find(f"{ATOM}author").findtext(f"{ATOM}name") == "Harbour Youth Trust"


def test_withdraw_page_asks_then_withdraws(client, cast):
    story = tell(cast)
    client.force_login(cast["editor"])
    url = reverse("community:story_withdraw", args=[story.slug])
    assert b"Withdraw it" in client.get(url).content
    response = client.post(url, follow=True)
    assert b"Withdrawn" in response.content
    story.refresh_from_db()
    assert story.status == Story.Status.WITHDRAWN


def _count(client, url) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("viewer", ["visitor", "member", "editor"])
def test_story_list_queries_do_not_grow_with_rows(client, cast, viewer):
    if viewer != "visitor":
        client.force_login(cast[viewer])

    def add(n):
        for i in range(n):
            partner = OrganisationFactory()
            tell(cast, f"Story {Story.objects.count()} {i}", partners=[partner, cast["police"]])

    add(2)
    url = reverse("community:story_list")
    few = _count(client, url), _count(client, url + "?q=story")
    add(5)
    many = _count(client, url), _count(client, url + "?q=story")
    assert many == few
