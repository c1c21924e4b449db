"""Ideas board pages through the client: forms that keep what was typed and say what to change,
the list's filters, sorting, search and pages (with a query count that does not grow with the
rows), support shown by sector and never by name, comments and their removal, and the staff's
decision page with outcome links that never leak a restricted title."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hub.community import ideas
from hub.community.models import Event, Idea, IdeaComment, IdeaSupport
from hub.community.tests.factories import EventFactory
from hub.core.models import OutgoingEmail
from hub.library.models import Tier
from hub.library.tests.factories import ResourceFactory
from hub.members.models import Profile
from hub.members.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = Idea.Status


def signed_in(client, user):
    client.force_login(user)
    return client


def make_idea(author, title="Residents at the tasking meeting", body="Two seats, on a rota."):
    return ideas.idea_create(actor=author, title=title, body_markdown=body)


def html(response) -> str:
    return response.content.decode()


# --- Putting an idea forward ------------------------------------------------------------------

def test_member_puts_an_idea_forward(client, world):
    signed_in(client, world.actors["member"])
    response = client.post(reverse("community:idea_new"), {
        "title": "Youth panel on stop and search", "body_markdown": "Quarterly, *with* data."})
    idea = Idea.objects.get()
    assert response.status_code == 302 and response["Location"] == idea.get_absolute_url()
    page = html(client.get(idea.get_absolute_url()))
    assert "<em>with</em>" in page and "Edit your idea" in page


@pytest.mark.parametrize("data,message", [
    ({"title": "", "body_markdown": "Kept body words"}, "Give the idea a title"),
    ({"title": "Kept title words", "body_markdown": ""}, "the idea is empty"),
    ({"title": "Kept title words", "body_markdown": "x" * 8001},
     "Ensure this value has at most 8000 characters"),
    ({"title": "Kept title words", "body_markdown": "Kept body\x00words"},
     "Null characters are not allowed"),
])
def test_bad_idea_input_is_shown_beside_the_field_and_kept(client, world, data, message):
    """The page comes back (400) saying what to fix, with what was typed still in the form."""
    signed_in(client, world.actors["member"])
    response = client.post(reverse("community:idea_new"), data)
    assert response.status_code == 400
    page = html(response)
    assert message in page and 'aria-invalid="true"' in page
    for typed in ("Kept title words", "Kept body words"):
        if typed in data.values():
            assert typed in page
    assert not Idea.objects.exists()


def test_edit_page_is_for_the_author_while_new(client, world):
    author = world.actors["member"]
    idea = make_idea(author)
    url = reverse("community:idea_edit", args=[idea.pk])
    assert signed_in(client, world.actors["partner_member"]).get(url).status_code == 404
    signed_in(client, author)
    response = client.post(url, {"title": "", "body_markdown": "New words typed"})
    assert response.status_code == 400 and "New words typed" in html(response)
    assert Idea.objects.get().body_markdown == "Two seats, on a rota."
    response = client.post(url, {"title": "Better title", "body_markdown": "New words"})
    assert response.status_code == 302 and Idea.objects.get().title == "Better title"
    ideas.idea_status_set(actor=world.actors["staff"], idea=idea, status=Status.DISCUSSION)
    assert client.get(url).status_code == 404


# --- Support ----------------------------------------------------------------------------------

def test_support_twice_shows_a_message_and_withdrawing_works(client, world):
    idea = make_idea(world.actors["partner_member"])
    signed_in(client, world.actors["member"])
    url = reverse("community:idea_support", args=[idea.pk])
    assert client.post(url).status_code == 302
    response = client.post(url, follow=True)
    assert response.status_code == 200
    assert "You already support this idea" in html(response)
    assert IdeaSupport.objects.count() == 1
    assert "Withdraw my support" in html(response)
    response = client.post(reverse("community:idea_support_withdraw", args=[idea.pk]),
                           follow=True)
    assert "Your support is withdrawn" in html(response) and not IdeaSupport.objects.exists()
    response = client.post(reverse("community:idea_support_withdraw", args=[idea.pk]),
                           follow=True)
    assert "nothing to withdraw" in html(response)


def test_support_needs_post(client, world):
    idea = make_idea(world.actors["member"])
    signed_in(client, world.actors["member"])
    assert client.get(reverse("community:idea_support", args=[idea.pk])).status_code == 405
    assert not IdeaSupport.objects.exists()


def test_support_is_shown_by_sector_side_by_side_and_never_by_name(client, world):
    """Each sector has its own line (zero included); supporters' names appear nowhere."""
    idea = make_idea(world.actors["member"])
    names = []
    for n, sector in enumerate(["police", "police", "community", "research"]):
        user = UserFactory(profile__display_name=f"Quiet Supporter {n}")
        Profile.objects.filter(user=user).update(sector=sector)
        ideas.idea_support(actor=user, idea=idea)
        names.append(f"Quiet Supporter {n}")
    signed_in(client, world.actors["partner_member"])
    detail = client.get(idea.get_absolute_url())
    rows = {s.label: s.count for s in detail.context["sectors"]}
    assert rows["Police"] == 2 and rows["Community organisation"] == 1
    assert rows["Academic or research"] == 1 and rows["Youth or community practice"] == 0
    listing = html(client.get(reverse("community:idea_list")))
    assert "Police 2" in listing and "Community organisation 1" in listing
    for page in (html(detail), listing):
        assert not any(name in page for name in names)


def test_a_decided_idea_offers_no_support_button(client, world):
    idea = make_idea(world.actors["member"])
    ideas.idea_status_set(actor=world.actors["staff"], idea=idea, status=Status.DECLINED,
                          reason="No")
    page = html(signed_in(client, world.actors["partner_member"]).get(idea.get_absolute_url()))
    assert "Support this idea" not in page and "support is closed" in page


# --- Comments ---------------------------------------------------------------------------------

def test_comment_is_posted_sanitised(client, world):
    idea = make_idea(world.actors["member"])
    signed_in(client, world.actors["partner_member"])
    response = client.post(reverse("community:idea_comment", args=[idea.pk]),
                           {"body_markdown": "**Yes** <script>alert(1)</script>"})
    comment = IdeaComment.objects.get()
    assert response["Location"].endswith(f"#comment-{comment.pk}")
    page = html(client.get(idea.get_absolute_url()))
    assert "<strong>Yes</strong>" in page and "<script>alert(1)" not in page


@pytest.mark.parametrize("body,message", [
    ("", "the comment is empty"), ("x" * 4001, "at most 4000 characters"),
    ("Kept comment\x00text", "Null characters are not allowed"),
])
def test_bad_comment_is_refused_on_the_page_and_kept(client, world, body, message):
    idea = make_idea(world.actors["member"])
    signed_in(client, world.actors["partner_member"])
    response = client.post(reverse("community:idea_comment", args=[idea.pk]),
                           {"body_markdown": body})
    assert response.status_code == 400 and message in html(response)
    if "Kept" in body:
        assert "Kept comment" in html(response)
    assert not IdeaComment.objects.exists()


def test_commenting_on_a_missing_idea_is_not_found(client, world):
    signed_in(client, world.actors["member"])
    response = client.post(reverse("community:idea_comment", args=[999999]),
                           {"body_markdown": "Hello"})
    assert response.status_code == 404 and not IdeaComment.objects.exists()


def test_author_deletes_own_comment_from_the_page(client, world):
    idea = make_idea(world.actors["member"])
    comment = ideas.idea_comment_create(actor=world.actors["partner_member"], idea=idea,
                                        body_markdown="Mine")
    url = reverse("community:idea_comment_delete", args=[comment.pk])
    assert signed_in(client, world.actors["member"]).post(url).status_code == 404
    signed_in(client, world.actors["partner_member"])
    assert "Delete my comment" in html(client.get(idea.get_absolute_url()))
    assert client.post(url).status_code == 302 and not IdeaComment.objects.exists()


def test_moderator_removes_a_comment_with_a_reason_that_stays_in_its_place(client, world):
    idea = make_idea(world.actors["member"])
    comment = ideas.idea_comment_create(actor=world.actors["partner_member"], idea=idea,
                                        body_markdown="Secretword rant")
    url = reverse("community:idea_comment_remove", args=[comment.pk])
    signed_in(client, world.actors["moderator"])
    assert "Remove this comment" in html(client.get(idea.get_absolute_url()))
    response = client.post(url, {"reason": ""})
    assert response.status_code == 400 and "Give a reason" in html(response)
    assert client.post(url, {"reason": "Off topic"}).status_code == 302
    page = html(signed_in(client, world.actors["member"]).get(idea.get_absolute_url()))
    assert "Removed by a moderator: Off topic" in page and "Secretword" not in page


# --- Deciding ---------------------------------------------------------------------------------

def test_declining_without_a_reason_is_a_form_error_and_keeps_the_choice(client, world):
    idea = make_idea(world.actors["member"])
    signed_in(client, world.actors["staff"])
    url = reverse("community:idea_status", args=[idea.pk])
    response = client.post(url, {"status": "declined", "status_reason": "",
                                 "outcome_note": ""})
    assert response.status_code == 400
    page = html(response)
    assert "Say why the idea is declined" in page
    assert 'value="declined" id="id_status_3" checked' in page or (
        response.context["form"]["status"].value() == "declined")
    assert Idea.objects.get().status == Status.NEW and not OutgoingEmail.objects.exists()
    response = client.post(url, {"status": "declined", "status_reason": "Out of scope"})
    assert response.status_code == 302
    idea.refresh_from_db()
    assert idea.status == Status.DECLINED and idea.status_changed_by == world.actors["staff"]
    assert OutgoingEmail.objects.get().to == [world.actors["member"].email]
    page = html(signed_in(client, world.actors["partner_member"]).get(idea.get_absolute_url()))
    assert "Why it was declined" in page and "Out of scope" in page


def test_outcome_links_never_leak_what_a_reader_cannot_see(client, world):
    """Staff link an adopted idea to a members-only event and a restricted resource: a member
    sees the event but not the resource's title; the resource's owner side sees both."""
    staff = world.actors["staff"]
    idea = make_idea(world.actors["member"])
    event = EventFactory(title="Ward walk with residents", audience=Event.Audience.MEMBERS)
    restricted = ResourceFactory(title="Zanzibarword restricted tables",
                                 metadata_tier=Tier.RESTRICTED, organisation=world.org_a,
                                 contributor=world.actors["editor_a"])
    form_page = html(signed_in(client, staff).get(
        reverse("community:idea_status", args=[idea.pk])))
    assert "Zanzibarword" in form_page  # staff may choose it
    client.post(reverse("community:idea_status", args=[idea.pk]), {
        "status": "adopted", "status_reason": "Agreed", "outcome_event": event.pk,
        "outcome_resource": restricted.pk, "outcome_note": "A pilot in Eastgate."})
    assert Idea.objects.get().outcome_resource == restricted
    member_page = html(signed_in(client, world.actors["member"]).get(idea.get_absolute_url()))
    assert "Ward walk with residents" in member_page and "A pilot in Eastgate." in member_page
    assert "Zanzibarword" not in member_page
    editor_page = html(signed_in(client, world.actors["editor_a"]).get(
        idea.get_absolute_url()))
    assert "Zanzibarword" in editor_page


def test_status_form_offers_only_what_the_decider_may_see(world):
    """The choices come from the policy's visible_events and visible_resources."""
    from hub import policy
    from hub.community.ideas_forms import StatusForm

    staff = world.actors["staff"]
    draft = EventFactory(status=Event.Status.DRAFT)
    form = StatusForm(user=staff)
    assert list(form.fields["outcome_event"].queryset) == list(
        policy.visible_events(staff, Event.objects.all()).order_by("-starts_at", "-pk"))
    assert draft in form.fields["outcome_event"].queryset


# --- The list ---------------------------------------------------------------------------------

def test_list_filters_by_status_searches_and_sorts(client, world):
    staff = world.actors["staff"]
    quiet = make_idea(world.actors["member"], title="Quiet idea about lamps", body="Lights")
    loud = make_idea(world.actors["member"], title="Loud idea about youth", body="Panel")
    talked = make_idea(world.actors["member"], title="Talked idea", body="Lamps and benches")
    for _ in range(3):
        ideas.idea_support(actor=UserFactory(), idea=loud)
    for n in range(2):
        ideas.idea_comment_create(actor=UserFactory(), idea=talked, body_markdown=f"c{n}")
    ideas.idea_status_set(actor=staff, idea=quiet, status=Status.DISCUSSION)
    signed_in(client, world.actors["partner_member"])
    url = reverse("community:idea_list")

    def titles(**params):
        return [i.title for i in client.get(url, params).context["page"].object_list]

    assert titles() == ["Talked idea", "Loud idea about youth", "Quiet idea about lamps"]
    assert titles(sort="supported")[0] == "Loud idea about youth"
    assert titles(sort="discussed")[0] == "Talked idea"
    assert titles(status="discussion") == ["Quiet idea about lamps"]
    assert set(titles(q="lamps")) == {"Quiet idea about lamps", "Talked idea"}
    assert titles(q="zzz-nothing") == [] and titles(status="bogus", sort="bogus") == titles()
    assert "No ideas match" in html(client.get(url, {"q": "zzz-nothing"}))


def test_list_pages_and_keeps_filters_in_page_links(client, world):
    for n in range(23):
        make_idea(world.actors["member"], title=f"Numbered idea {n}")
    signed_in(client, world.actors["member"])
    first = client.get(reverse("community:idea_list"), {"q": "Numbered", "sort": "supported"})
    assert len(first.context["page"].object_list) == 20
    assert "q=Numbered&amp;sort=supported&amp;page=2" in html(first)
    second = client.get(reverse("community:idea_list"), {"q": "Numbered", "page": "2"})
    assert len(second.context["page"].object_list) == 3
    assert client.get(reverse("community:idea_list"), {"page": "x"}).status_code == 200


def _add_rows(world, count, start):
    staff = world.actors["staff"]
    event, resource = EventFactory(), ResourceFactory()
    for n in range(start, start + count):
        author = MembershipFactory(organisation=world.org_a).user
        idea = make_idea(author, title=f"Counted idea {n}")
        for sector in ("police", "community", "research"):
            user = UserFactory()
            Profile.objects.filter(user=user).update(sector=sector)
            ideas.idea_support(actor=user, idea=idea)
            ideas.idea_comment_create(actor=user, idea=idea, body_markdown="Counted")
        ideas.idea_status_set(actor=staff, idea=idea, status=Status.ADOPTED, reason="Yes",
                              outcome_event=event, outcome_resource=resource)


@pytest.mark.parametrize("params", [{}, {"sort": "supported"}, {"sort": "discussed"},
                                    {"status": "adopted", "q": "Counted"}])
def test_list_query_count_does_not_grow_with_rows(client, world, params):
    """The list page makes as many queries for 12 ideas as for 3."""
    _add_rows(world, 3, 0)
    signed_in(client, world.actors["partner_member"])
    url = reverse("community:idea_list")
    client.get(url, params)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url, params).status_code == 200
    _add_rows(world, 9, 3)
    client.get(url, params)  # as before the first count: the signed-in person is kept again
    with CaptureQueriesContext(connection) as many:
        response = client.get(url, params)
    assert len(response.context["page"].object_list) == 12
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_detail_query_count_does_not_grow_with_comments(client, world):
    idea = make_idea(world.actors["member"])
    for n in range(2):
        ideas.idea_comment_create(actor=UserFactory(), idea=idea, body_markdown=f"c{n}")
    signed_in(client, world.actors["moderator"])
    client.get(idea.get_absolute_url())
    with CaptureQueriesContext(connection) as few:
        client.get(idea.get_absolute_url())
    for n in range(8):
        user = MembershipFactory(organisation=world.org_b).user
        ideas.idea_comment_create(actor=user, idea=idea, body_markdown=f"more {n}")
    client.get(idea.get_absolute_url())  # as before the first count: the person is kept again
    with CaptureQueriesContext(connection) as many:
        client.get(idea.get_absolute_url())
    assert len(many) == len(few)


def test_odd_list_input_and_missing_ideas_answer_calmly(client, world):
    """A NUL in the search, an unknown page number, and support for a missing idea: a page
    or a 404, never an error, and nothing stored."""
    signed_in(client, world.actors["member"])
    assert client.get(reverse("community:idea_list"), {"q": "a\x00b"}).status_code == 200
    assert client.get(reverse("community:idea_list"), {"page": "999"}).status_code == 200
    for name in ("idea_support", "idea_support_withdraw"):
        assert client.post(reverse(f"community:{name}", args=[999999])).status_code == 404
    assert client.get(reverse("community:idea_detail", args=[999999])).status_code == 404
    assert not IdeaSupport.objects.exists()
