"""News and briefings' access rules as a matrix, asked through every surface.

Every actor of the shared ``world`` × news items and briefings of every audience and status.
The expected answers are written out below from the policy's comment, in plain Python, then
compared with the predicates, their queryset twins, the detail pages (a forbidden item answers
exactly like a missing one: 404), the list, the edit pages, the Atom feed and the weekly
digest (the last two carry public items only, whoever asks).
"""

from datetime import timedelta

import pytest
from defusedxml import ElementTree
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import ACTORS
from hub import policy
from hub.community import mailing, news
from hub.community.models import Briefing, NewsItem

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
EVERYONE = set(ACTORS)
MEMBERS = {"member", "partner_member", "editor_a", "approver_a", "admin_a", "admin_a_no_mfa",
           "admin_b", "moderator", "staff", "staff_no_mfa"}
STAFF = {"staff"}
IN_A = {"partner_member", "editor_a", "approver_a", "admin_a", "admin_a_no_mfa"}
IN_B = {"admin_b"}
# Editors and admins write for their organisation; the admin role needs no two-step sign-in
# for this (like editing library items), so the unenrolled admin writes too.
EDITS_A = {"editor_a", "admin_a", "admin_a_no_mfa"}
EDITS_B = {"admin_b"}

# key: (kind, who sees it, who manages it, published?)
EXPECTED = {
    "news_pub": ("news", EVERYONE, STAFF, True),
    "news_draft": ("news", STAFF, STAFF, False),
    "news_gone": ("news", STAFF, STAFF, False),
    "b_public": ("briefing", EVERYONE, EDITS_B | STAFF, True),
    "b_members": ("briefing", MEMBERS, EDITS_B | STAFF, True),
    "b_named_a": ("briefing", IN_A | IN_B | STAFF, EDITS_B | STAFF, True),
    "b_named_c": ("briefing", IN_B | STAFF, EDITS_B | STAFF, True),
    "b_draft": ("briefing", EDITS_B | STAFF, EDITS_B | STAFF, False),
    "b_gone": ("briefing", EDITS_B | STAFF, EDITS_B | STAFF, False),
    "a_named_b": ("briefing", IN_A | IN_B | STAFF, EDITS_A | STAFF, True),
    "a_draft": ("briefing", EDITS_A | STAFF, EDITS_A | STAFF, False),
}
PUBLIC = {"news_pub", "b_public"}


def title(key: str) -> str:
    return f"Title {key.replace('_', ' ')} zq"


@pytest.fixture
def items(world):
    a = world.actors
    made = {}

    def one_news(key, status="published"):
        made[key] = news.news_create(actor=a["staff"], title=title(key), summary=f"About {key}",
                                     body_markdown=f"Body of {key}", status=status)

    def one_briefing(key, by, org, audience, named=(), status="published"):
        made[key] = news.briefing_create(
            actor=a[by], organisation=org, title=title(key), summary=f"About {key}",
            body_markdown=f"Body of {key}", audience=audience, audience_organisations=named,
            status=status)

    one_news("news_pub")
    one_news("news_draft", "draft")
    one_news("news_gone")
    news.news_withdraw(actor=a["staff"], item=made["news_gone"])
    one_briefing("b_public", "admin_b", world.org_b, "public")
    one_briefing("b_members", "admin_b", world.org_b, "members")
    one_briefing("b_named_a", "admin_b", world.org_b, "organisations", [world.org_a])
    one_briefing("b_named_c", "admin_b", world.org_b, "organisations", [world.org_c])
    one_briefing("b_draft", "admin_b", world.org_b, "public", status="draft")
    one_briefing("b_gone", "admin_b", world.org_b, "public")
    news.briefing_withdraw(actor=a["admin_b"], briefing=made["b_gone"])
    one_briefing("a_named_b", "editor_a", world.org_a, "organisations", [world.org_b])
    one_briefing("a_draft", "editor_a", world.org_a, "members", status="draft")
    return {key: type(item).objects.get(pk=item.pk) for key, item in made.items()}


def user_of(world, actor):
    return world.actors[actor] or AnonymousUser()


def client_for(world, actor) -> Client:
    client = Client()
    if world.actors[actor] is not None:
        client.force_login(world.actors[actor])
    return client


def test_predicates_and_querysets_agree_with_the_matrix(world, items):
    """can_view_* and visible_* give the written-out answer for every actor and item."""
    wrong = []
    for actor in ACTORS:
        user = user_of(world, actor)
        seen_news = set(policy.visible_news(user, NewsItem.objects.all()).values_list(
            "pk", flat=True))
        seen_briefings = set(policy.visible_briefings(user, Briefing.objects.all())
                             .values_list("pk", flat=True))
        for key, (kind, sees, manages, _) in EXPECTED.items():
            item = items[key]
            if kind == "news":
                answers = (policy.can_view_news(user, item), item.pk in seen_news,
                           policy.can_manage_news(user, item))
            else:
                answers = (policy.can_view_briefing(user, item), item.pk in seen_briefings,
                           policy.can_manage_briefing(user, item))
            expected = (actor in sees, actor in sees, actor in manages)
            if answers != expected:
                wrong.append(f"{actor} × {key}: {answers} != {expected}")
    assert not wrong, "\n".join(wrong)


def test_detail_and_edit_pages_answer_404_to_those_who_may_not(world, items):
    """The page is 200 for its audience and 404 for everyone else; the edit page is 200 for
    those who manage the item, 404 for other members and a sign-in redirect for visitors."""
    wrong = []
    for actor in ACTORS:
        client = client_for(world, actor)
        signed_in = actor in MEMBERS or actor == "applicant"
        for key, (_, sees, manages, published) in EXPECTED.items():
            item = items[key]
            status = client.get(item.get_absolute_url()).status_code
            if status != (200 if actor in sees else 404):
                wrong.append(f"{actor} × {key} page: {status}")
            if not published:
                continue
            edit = client.get(item.get_absolute_url() + "edit/").status_code
            expected = 200 if actor in manages else 404 if signed_in else 302
            if edit != expected:
                wrong.append(f"{actor} × {key} edit: {edit} != {expected}")
    assert not wrong, "\n".join(wrong)


def test_list_shows_exactly_the_published_items_each_actor_may_see(world, items):
    """The list holds published items of the actor's audiences, never drafts or withdrawn
    ones; the news/briefings filter splits it."""
    wrong = []
    for actor in ACTORS:
        client = client_for(world, actor)
        response = client.get(reverse("community:news_list"))
        shown = {entry.item.title for entry in response.context["page"].object_list}
        expected = {title(key) for key, (_, sees, _, published) in EXPECTED.items()
                    if published and actor in sees}
        if shown != expected:
            wrong.append(f"{actor}: {sorted(shown ^ expected)}")
        only_news = client.get(reverse("community:news_list"), {"kind": "news"})
        if {e.kind for e in only_news.context["page"].object_list} - {"news"}:
            wrong.append(f"{actor}: the news filter let briefings through")
    assert not wrong, "\n".join(wrong)


def feed_titles(client) -> set[str]:
    response = client.get(reverse("community:news_feed"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    return {entry.findtext(f"{ATOM}title") for entry in root.iter(f"{ATOM}entry")}


def test_feed_holds_public_items_only_whoever_asks(world, items):
    """Staff, a named organisation's member and a visitor read the same feed: published news
    and public briefings."""
    expected = {title("news_pub"), "Briefing: " + title("b_public")}
    for actor in ACTORS:
        assert feed_titles(client_for(world, actor)) == expected, actor


def test_digest_lists_public_items_only(items):
    """The weekly email's news section holds published news and public briefings only."""
    now = timezone.now()
    sections = dict(mailing.digest_sections(now - timedelta(days=7),
                                            now + timedelta(minutes=1)))
    assert {item.title for item in sections["News and briefings"]} == {
        title(key) for key in PUBLIC}


def test_withdrawn_item_stays_gone_for_its_former_audience(world, items):
    """A briefing everyone saw answers 404 to them once withdrawn, while its writers still
    open it, marked as withdrawn."""
    briefing = items["b_public"]
    news.briefing_withdraw(actor=world.actors["admin_b"], briefing=briefing)
    assert client_for(world, "member").get(briefing.get_absolute_url()).status_code == 404
    page = client_for(world, "admin_b").get(briefing.get_absolute_url())
    assert page.status_code == 200 and b"Withdrawn" in page.content
    assert "Briefing: " + title("b_public") not in feed_titles(Client())
