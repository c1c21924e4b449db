"""Success stories' and funding opportunities' access rules as a matrix, asked through every
surface.

Every actor of the shared ``world`` × stories and opportunities of every status. The expected
answers are written out below from the policy's comment, in plain Python, then compared with
the predicates, their queryset twins, the detail pages (a forbidden item answers exactly like a
missing one: 404), the edit pages, the lists, the Atom feeds, the weekly digest (the last two
carry public items only, whoever asks) and following.
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
from hub.community import mailing, stories
from hub.community.models import FundingFollow, FundingOpportunity, Story

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
EVERYONE = set(ACTORS)
MEMBERS = {"member", "partner_member", "editor_a", "approver_a", "admin_a", "admin_a_no_mfa",
           "admin_b", "moderator", "staff", "staff_no_mfa"}
STAFF = {"staff"}
# Editors and admins tell their organisation's stories; as for briefings the admin role needs
# no two-step sign-in for this, so the unenrolled admin writes too.
EDITS_A = {"editor_a", "admin_a", "admin_a_no_mfa"}
EDITS_B = {"admin_b"}

# key: (kind, who sees it, who manages it, listed as open?)
EXPECTED = {
    "s_pub": ("story", EVERYONE, EDITS_B | STAFF, True),
    "s_draft": ("story", EDITS_B | STAFF, EDITS_B | STAFF, False),
    "s_gone": ("story", EDITS_B | STAFF, EDITS_B | STAFF, False),
    "a_pub": ("story", EVERYONE, EDITS_A | STAFF, True),
    "a_draft": ("story", EDITS_A | STAFF, EDITS_A | STAFF, False),
    "hub_draft": ("story", STAFF, STAFF, False),
    "f_pub": ("funding", EVERYONE, {"admin_b"} | STAFF, True),
    "f_closed": ("funding", EVERYONE, STAFF, False),
    "f_draft": ("funding", {"admin_b"} | STAFF, {"admin_b"} | STAFF, False),
    "f_gone": ("funding", {"admin_b"} | STAFF, {"admin_b"} | STAFF, False),
    "fa_draft": ("funding", {"editor_a"} | STAFF, {"editor_a"} | STAFF, False),
}
PUBLIC_STORIES = {"s_pub", "a_pub"}
FOLLOWABLE = {"f_pub"}


def title(key: str) -> str:
    return f"Title {key.replace('_', ' ')} zq"


def story_fields(key, org, status="published"):
    return dict(title=title(key), summary=f"About {key}", organisation=org,
                context="Before.", what_was_done="Done.", outcome="After.",
                evidence="Counted.", status=status)


def funding_fields(key, status="published", days=20):
    return dict(title=title(key), funder="A Trust", amount="Up to £1,000",
                summary=f"About {key}", eligibility="Groups.",
                deadline=timezone.now() + timedelta(days=days),
                link="https://funding.example.org/x", status=status)


@pytest.fixture
def items(world):
    a = world.actors
    made = {}
    made["s_pub"] = stories.story_create(actor=a["admin_b"], **story_fields("s_pub", world.org_b))
    made["s_draft"] = stories.story_create(actor=a["admin_b"],
                                           **story_fields("s_draft", world.org_b, "draft"))
    made["s_gone"] = stories.story_create(actor=a["admin_b"],
                                          **story_fields("s_gone", world.org_b))
    stories.story_withdraw(actor=a["admin_b"], story=made["s_gone"])
    made["a_pub"] = stories.story_create(actor=a["editor_a"],
                                         **story_fields("a_pub", world.org_a))
    made["a_draft"] = stories.story_create(actor=a["editor_a"],
                                           **story_fields("a_draft", world.org_a, "draft"))
    made["hub_draft"] = stories.story_create(actor=a["staff"],
                                             **story_fields("hub_draft", None, "draft"))
    made["f_pub"] = stories.funding_create(actor=a["admin_b"], **funding_fields("f_pub"))
    made["f_closed"] = stories.funding_create(actor=a["staff"], **funding_fields("f_closed"))
    FundingOpportunity.objects.filter(pk=made["f_closed"].pk).update(
        deadline=timezone.now() - timedelta(days=1))
    made["f_draft"] = stories.funding_create(actor=a["admin_b"],
                                             **funding_fields("f_draft", "draft"))
    made["f_gone"] = stories.funding_create(actor=a["admin_b"], **funding_fields("f_gone"))
    stories.funding_withdraw(actor=a["admin_b"], opportunity=made["f_gone"])
    made["fa_draft"] = stories.funding_create(actor=a["editor_a"],
                                              **funding_fields("fa_draft", "draft"))
    return {key: type(item).objects.get(pk=item.pk) for key, item in made.items()}


def user_of(world, actor):
    return world.actors[actor] or AnonymousUser()


def client_for(world, actor) -> Client:
    client = Client()
    if world.actors[actor] is not None:
        client.force_login(world.actors[actor])
    return client


def test_predicates_and_querysets_agree_with_the_matrix(world, items):
    """can_view_* and visible_* give the written-out answer for every actor and item, and
    can_manage_* names exactly the managers."""
    wrong = []
    for actor in ACTORS:
        user = user_of(world, actor)
        seen_stories = set(policy.visible_stories(user, Story.objects.all())
                           .values_list("pk", flat=True))
        seen_funding = set(policy.visible_funding(user, FundingOpportunity.objects.all())
                           .values_list("pk", flat=True))
        for key, (kind, sees, manages, _) in EXPECTED.items():
            item = items[key]
            if kind == "story":
                answers = (policy.can_view_story(user, item), item.pk in seen_stories,
                           policy.can_manage_story(user, item))
            else:
                answers = (policy.can_view_funding(user, item), item.pk in seen_funding,
                           policy.can_manage_funding(user, item))
            expected = (actor in sees, actor in sees, actor in manages)
            if answers != expected:
                wrong.append(f"{actor} × {key}: {answers} != {expected}")
    assert not wrong, "\n".join(wrong)


def test_who_may_write(world):
    """Staff and the editors and admins of partner organisations write both; nobody else."""
    writers = EDITS_A | EDITS_B | STAFF
    for actor in ACTORS:
        user = user_of(world, actor)
        assert policy.can_write_stories(user) == (actor in writers), actor
        assert policy.can_write_funding(user) == (actor in writers), actor


def test_detail_and_edit_pages_answer_404_to_those_who_may_not(world, items):
    """The page is 200 for those who may see it and 404 for everyone else; the edit page is
    200 for those who manage the item, 404 for other signed-in people and a sign-in redirect
    for visitors."""
    wrong = []
    for actor in ACTORS:
        client = client_for(world, actor)
        signed_in = actor in MEMBERS or actor == "applicant"
        for key, (_, sees, manages, _) in EXPECTED.items():
            item = items[key]
            status = client.get(item.get_absolute_url()).status_code
            if status != (200 if actor in sees else 404):
                wrong.append(f"{actor} × {key} page: {status}")
            if item.status == "withdrawn":
                continue
            edit = client.get(item.get_absolute_url() + "edit/").status_code
            expected = 200 if actor in manages else 404 if signed_in else 302
            if edit != expected:
                wrong.append(f"{actor} × {key} edit: {edit} != {expected}")
    assert not wrong, "\n".join(wrong)


def test_lists_show_exactly_the_published_items(world, items):
    """Story and funding lists hold published items only, for every actor; closed
    opportunities sit under "closed"; drafts appear only in their writers' own section."""
    wrong = []
    open_funding = {title(k) for k, v in EXPECTED.items() if v[0] == "funding" and v[3]}
    for actor in ACTORS:
        client = client_for(world, actor)
        shown = {s.title for s in client.get(reverse("community:story_list"))
                 .context["page"].object_list}
        if shown != {title(k) for k in PUBLIC_STORIES}:
            wrong.append(f"{actor} stories: {sorted(shown)}")
        page = client.get(reverse("community:funding_list"))
        shown = {f.title for f in page.context["opportunities"]}
        if shown != open_funding:
            wrong.append(f"{actor} funding: {sorted(shown)}")
        drafts = {f.title for f in page.context["unpublished"]}
        expected_drafts = {title(k) for k, v in EXPECTED.items()
                           if v[0] == "funding" and items[k].status != "published"
                           and actor in v[1]}
        if drafts != expected_drafts:
            wrong.append(f"{actor} funding drafts: {sorted(drafts ^ expected_drafts)}")
        closed = {f.title for f in client.get(reverse("community:funding_list"),
                                              {"show": "closed"}).context["opportunities"]}
        if closed != {title("f_closed")}:
            wrong.append(f"{actor} closed funding: {sorted(closed)}")
    assert not wrong, "\n".join(wrong)


def test_own_story_list_holds_what_each_writer_manages(world, items):
    """"My organisation's stories" lists every status of the organisation's stories for its
    editors and admins; staff see all; others are refused."""
    wrong = []
    for actor in ACTORS:
        response = client_for(world, actor).get(reverse("community:story_mine"))
        if actor in EDITS_A | EDITS_B | STAFF:
            shown = {s.title for s in response.context["stories"]}
            expected = {title(k) for k, v in EXPECTED.items()
                        if v[0] == "story" and actor in v[2]}
            if shown != expected:
                wrong.append(f"{actor}: {sorted(shown ^ expected)}")
        elif response.status_code not in (302, 404):
            wrong.append(f"{actor}: {response.status_code}")
    assert not wrong, "\n".join(wrong)


def feed_titles(client, name) -> set[str]:
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ElementTree.fromstring(response.content)
    return {entry.findtext(f"{ATOM}title") for entry in root.iter(f"{ATOM}entry")}


def test_feeds_hold_public_items_only_whoever_asks(world, items):
    for actor in ACTORS:
        client = client_for(world, actor)
        assert feed_titles(client, "community:story_feed") == {
            title(k) for k in PUBLIC_STORIES}, actor
        assert feed_titles(client, "community:funding_feed") == {title("f_pub")}, actor


def test_digest_lists_public_items_only(items):
    now = timezone.now()
    sections = dict(mailing.digest_sections(now - timedelta(days=7), now + timedelta(minutes=1)))
    assert {i.title for i in sections["Success stories"]} == {title(k) for k in PUBLIC_STORIES}
    # The closed one is public but no longer worth a line in the weekly email.
    assert {i.title for i in sections["Funding opportunities"]} == {title("f_pub")}


def test_following_is_for_members_and_open_published_opportunities(world, items):
    """can_follow_funding holds for members × the open published opportunity only; the
    follow address agrees (404 for what one may not see or follow, sign-in for visitors)."""
    wrong = []
    for actor in ACTORS:
        user = user_of(world, actor)
        client = client_for(world, actor)
        for key, (kind, sees, _, _) in EXPECTED.items():
            if kind != "funding":
                continue
            item = items[key]
            may = actor in MEMBERS and key in FOLLOWABLE
            if policy.can_follow_funding(user, item) != may:
                wrong.append(f"{actor} × {key}: predicate")
            response = client.post(reverse("community:funding_follow", args=[item.slug]),
                                   {"action": "follow"})
            followed = FundingFollow.objects.filter(opportunity=item, user_id=getattr(
                user, "pk", None)).exists()
            if followed != may:
                wrong.append(f"{actor} × {key}: followed={followed}")
            signed_out = actor in ("visitor", "deactivated")  # the session holds nobody
            if signed_out and response.status_code != 302:
                wrong.append(f"{actor} × {key}: {response.status_code}")
            elif not signed_out and actor not in sees and response.status_code != 404:
                wrong.append(f"{actor} × {key}: {response.status_code} for an unseen item")
    assert not wrong, "\n".join(wrong)


def test_withdrawn_story_stays_gone_for_its_former_readers(world, items):
    story = items["s_pub"]
    stories.story_withdraw(actor=world.actors["admin_b"], story=story)
    assert client_for(world, "member").get(story.get_absolute_url()).status_code == 404
    page = client_for(world, "admin_b").get(story.get_absolute_url())
    assert page.status_code == 200 and b"Withdrawn" in page.content
    assert title("s_pub") not in feed_titles(Client(), "community:story_feed")
