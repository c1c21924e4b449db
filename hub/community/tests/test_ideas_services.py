"""Ideas board services: who may put forward, change, support, comment and decide; bad input
refused with a message that names the field and nothing stored; support counted once, by the
sector the supporter had then; decisions recorded, audited and mailed to the author."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError

from hub.community import ideas
from hub.community.models import Event, Idea, IdeaComment, IdeaSupport
from hub.community.tests.factories import EventFactory
from hub.community.tests.xss_corpus import executable_parts, payloads
from hub.core.models import AuditEvent, OutgoingEmail
from hub.library.models import Tier
from hub.library.tests.factories import ResourceFactory
from hub.members.models import Profile
from hub.members.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

Status = Idea.Status


def make_idea(author, **fields):
    data = {"title": "Residents at the tasking meeting",
            "body_markdown": "Two seats, on a **rota**."} | fields
    return ideas.idea_create(actor=author, **data)


def set_sector(user, sector):
    Profile.objects.filter(user=user).update(sector=sector)


# --- Putting ideas forward --------------------------------------------------------------------

def test_idea_create_renders_sanitised_markdown_and_is_audited(world):
    """A member's idea is stored with its HTML and an audit event that carries no text."""
    idea = make_idea(world.actors["member"])
    assert idea.status == Status.NEW and idea.author == world.actors["member"]
    assert idea.body_html == "<p>Two seats, on a <strong>rota</strong>.</p>\n"
    event = AuditEvent.objects.get(action="community.idea_created")
    assert event.target_id == str(idea.pk) and "rota" not in str(event.context)


@pytest.mark.parametrize("actor", ["visitor", "applicant", "deactivated"])
def test_idea_create_is_for_members_only(world, actor):
    """Visitors, applicants and deactivated accounts are refused and nothing is stored."""
    with pytest.raises(PermissionDenied):
        make_idea(world.actors[actor])
    assert not Idea.objects.exists()


@pytest.mark.parametrize("fields,field", [
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 161}, "title"),
    ({"body_markdown": ""}, "body_markdown"),
    ({"body_markdown": "x" * 8001}, "body_markdown"),
    ({"title": "Nul\x00here"}, "title"),
    ({"body_markdown": "Nul\x00here"}, "body_markdown"),
])
def test_idea_create_refuses_bad_input_naming_the_field(world, fields, field):
    """Empty, too long or NUL-bearing input is refused beside the field; nothing is stored."""
    with pytest.raises(ValidationError) as caught:
        make_idea(world.actors["member"], **fields)
    assert field in caught.value.message_dict
    assert not Idea.objects.exists()


def test_idea_markdown_never_keeps_anything_executable(world):
    """Every cross-site-scripting payload of the shared corpus is stored harmless (those
    carrying a NUL character are refused outright, tested above)."""
    member = world.actors["member"]
    for payload in [p for p in payloads() if "\x00" not in p]:
        idea = make_idea(member, body_markdown=payload)
        assert not executable_parts(idea.body_html), payload
        comment = ideas.idea_comment_create(actor=member, idea=idea, body_markdown=payload)
        assert not executable_parts(comment.body_html), payload


def test_author_edits_while_new_and_not_after(world):
    """The author changes a new idea; once staff take it up the change is refused with a
    message, and the stored text stays as it was."""
    author = world.actors["member"]
    idea = make_idea(author)
    idea = ideas.idea_update(actor=author, idea=idea, title="Changed title",
                             body_markdown="Changed *text*")
    assert idea.body_html == "<p>Changed <em>text</em></p>\n"
    ideas.idea_status_set(actor=world.actors["staff"], idea=idea, status=Status.DISCUSSION)
    with pytest.raises(ValidationError, match="can no longer be changed"):
        ideas.idea_update(actor=author, idea=idea, title="Late", body_markdown="Late")
    assert Idea.objects.get().title == "Changed title"


@pytest.mark.parametrize("actor", ["partner_member", "staff", "moderator", "visitor"])
def test_only_the_author_edits(world, actor):
    idea = make_idea(world.actors["member"])
    with pytest.raises(PermissionDenied):
        ideas.idea_update(actor=world.actors[actor], idea=idea, title="Mine now",
                          body_markdown="No")
    assert Idea.objects.get().title == "Residents at the tasking meeting"


def test_bad_edit_keeps_what_was_saved(world):
    author = world.actors["member"]
    idea = make_idea(author)
    with pytest.raises(ValidationError):
        ideas.idea_update(actor=author, idea=idea, title="", body_markdown="New text")
    assert Idea.objects.get().body_markdown == "Two seats, on a **rota**."


# --- Support ----------------------------------------------------------------------------------

def test_support_records_the_sector_at_the_time(world):
    """The sector stored is the supporter's then; a later change of sector leaves it."""
    member = world.actors["member"]
    set_sector(member, "police")
    idea = make_idea(world.actors["partner_member"])
    support = ideas.idea_support(actor=member, idea=idea)
    assert support.sector == "police"
    set_sector(member, "community")
    assert IdeaSupport.objects.get().sector == "police"


def test_supporting_twice_is_a_clear_message_not_an_error(world):
    """The second support is refused with a message and the count stays at one."""
    member = world.actors["member"]
    idea = make_idea(world.actors["partner_member"])
    ideas.idea_support(actor=member, idea=idea)
    with pytest.raises(ValidationError, match="already support"):
        ideas.idea_support(actor=member, idea=idea)
    assert IdeaSupport.objects.count() == 1


def test_a_racing_double_support_meets_the_same_message(world, monkeypatch):
    """When the existence check loses a race, the unique constraint answers as a message."""
    member = world.actors["member"]
    idea = make_idea(world.actors["partner_member"])
    ideas.idea_support(actor=member, idea=idea)

    class NoneExists:
        def exists(self):
            return False

    real_filter = IdeaSupport.objects.filter
    monkeypatch.setattr(IdeaSupport.objects, "filter",
                        lambda *a, **k: NoneExists() if "user" in k else real_filter(*a, **k))
    with pytest.raises(ValidationError, match="already support"):
        ideas.idea_support(actor=member, idea=idea)
    monkeypatch.undo()
    assert IdeaSupport.objects.count() == 1


def test_the_database_refuses_a_second_support_row(world):
    idea = make_idea(world.actors["member"])
    IdeaSupport.objects.create(idea=idea, user=world.actors["member"])
    with pytest.raises(IntegrityError):
        IdeaSupport.objects.create(idea=idea, user=world.actors["member"])


def test_support_is_withdrawn_and_withdrawing_again_says_so(world):
    member = world.actors["member"]
    idea = make_idea(world.actors["partner_member"])
    ideas.idea_support(actor=member, idea=idea)
    ideas.idea_support_withdraw(actor=member, idea=idea)
    assert not IdeaSupport.objects.exists()
    with pytest.raises(ValidationError, match="do not support"):
        ideas.idea_support_withdraw(actor=member, idea=idea)


def test_support_closes_when_an_idea_is_decided(world):
    """A declined or adopted idea takes no new support and keeps what it had."""
    member, other = world.actors["member"], world.actors["partner_member"]
    idea = make_idea(other)
    ideas.idea_support(actor=other, idea=idea)
    ideas.idea_status_set(actor=world.actors["staff"], idea=idea, status=Status.DECLINED,
                          reason="Out of the hub's scope.")
    with pytest.raises(ValidationError, match="support is closed"):
        ideas.idea_support(actor=member, idea=idea)
    with pytest.raises(ValidationError):
        ideas.idea_support_withdraw(actor=other, idea=idea)
    assert IdeaSupport.objects.count() == 1


@pytest.mark.parametrize("actor", ["visitor", "applicant", "deactivated"])
def test_support_is_for_members_only(world, actor):
    idea = make_idea(world.actors["member"])
    with pytest.raises(PermissionDenied):
        ideas.idea_support(actor=world.actors[actor], idea=idea)
    assert not IdeaSupport.objects.exists()


# --- Comments ---------------------------------------------------------------------------------

def test_comment_bad_input_is_refused(world):
    member = world.actors["member"]
    idea = make_idea(member)
    for body, field in (("", "body_markdown"), ("  \n", "body_markdown"),
                        ("x" * 4001, "body_markdown"), ("a\x00b", "body_markdown")):
        with pytest.raises(ValidationError) as caught:
            ideas.idea_comment_create(actor=member, idea=idea, body_markdown=body)
        assert field in caught.value.message_dict
    assert not IdeaComment.objects.exists()


def test_author_deletes_own_comment_only(world):
    member, other = world.actors["member"], world.actors["partner_member"]
    idea = make_idea(member)
    comment = ideas.idea_comment_create(actor=member, idea=idea, body_markdown="Yes")
    with pytest.raises(PermissionDenied):
        ideas.idea_comment_delete(actor=other, comment=comment)
    ideas.idea_comment_delete(actor=member, comment=comment)
    assert not IdeaComment.objects.exists()


@pytest.mark.parametrize("actor,allowed", [
    ("moderator", True), ("staff", True), ("staff_no_mfa", False), ("member", False),
    ("admin_a", False), ("editor_a", False),
])
def test_moderators_and_staff_remove_a_comment_with_a_reason(world, actor, allowed):
    """The comment stays, marked removed with who, when and why; an audit event is kept."""
    idea = make_idea(world.actors["member"])
    comment = ideas.idea_comment_create(actor=world.actors["partner_member"], idea=idea,
                                        body_markdown="Off topic")
    if not allowed:
        with pytest.raises(PermissionDenied):
            ideas.idea_comment_remove(actor=world.actors[actor], comment=comment,
                                      reason="Off topic")
        assert IdeaComment.objects.get().removed_at is None
        return
    ideas.idea_comment_remove(actor=world.actors[actor], comment=comment, reason="Off topic")
    comment.refresh_from_db()
    assert comment.removed_at and comment.removed_by == world.actors[actor]
    assert comment.removed_reason == "Off topic"
    assert AuditEvent.objects.filter(action="community.idea_comment_removed").count() == 1


def test_removing_needs_a_reason_and_happens_once(world):
    idea = make_idea(world.actors["member"])
    comment = ideas.idea_comment_create(actor=world.actors["member"], idea=idea,
                                        body_markdown="Text")
    moderator = world.actors["moderator"]
    for reason, field in (("", "reason"), ("x" * 301, "reason"), ("a\x00", "reason")):
        with pytest.raises(ValidationError) as caught:
            ideas.idea_comment_remove(actor=moderator, comment=comment, reason=reason)
        assert field in caught.value.message_dict
    ideas.idea_comment_remove(actor=moderator, comment=comment, reason="Spam")
    with pytest.raises(ValidationError, match="already been removed"):
        ideas.idea_comment_remove(actor=moderator, comment=comment, reason="Again")


# --- Decisions --------------------------------------------------------------------------------

@pytest.mark.parametrize("actor", ["member", "moderator", "staff_no_mfa", "admin_a",
                                   "editor_a", "visitor"])
def test_only_staff_decide(world, actor):
    idea = make_idea(world.actors["member"])
    with pytest.raises(PermissionDenied):
        ideas.idea_status_set(actor=world.actors[actor], idea=idea, status=Status.DISCUSSION)
    assert Idea.objects.get().status == Status.NEW


def test_declining_without_a_reason_is_refused_beside_the_reason(world):
    idea = make_idea(world.actors["member"])
    with pytest.raises(ValidationError) as caught:
        ideas.idea_status_set(actor=world.actors["staff"], idea=idea, status=Status.DECLINED,
                              reason="   ")
    assert "status_reason" in caught.value.message_dict
    assert Idea.objects.get().status == Status.NEW
    assert not OutgoingEmail.objects.exists()


def test_decision_is_recorded_audited_and_mailed_to_the_author(world):
    """Status, reason, who and when are kept; the audit event names both statuses; the author
    gets one mail with the reason and the link."""
    staff, author = world.actors["staff"], world.actors["member"]
    idea = make_idea(author)
    idea = ideas.idea_status_set(actor=staff, idea=idea, status=Status.DECLINED,
                                 reason="It would collect reports about people.")
    assert idea.status_changed_by == staff and idea.status_changed_at is not None
    event = AuditEvent.objects.get(action="community.idea_status_set")
    assert event.context["previous"] == "new" and event.context["status"] == "declined"
    mail = OutgoingEmail.objects.get()
    assert mail.to == [author.email] and "declined" in mail.subject
    assert "collect reports about people" in mail.body and idea.get_absolute_url() in mail.body


def test_changing_only_the_reason_sends_no_mail_and_nothing_changed_is_refused(world):
    staff = world.actors["staff"]
    idea = make_idea(world.actors["member"])
    ideas.idea_status_set(actor=staff, idea=idea, status=Status.DISCUSSION, reason="Looking")
    ideas.idea_status_set(actor=staff, idea=idea, status=Status.DISCUSSION,
                          reason="Looking, with the council")
    assert OutgoingEmail.objects.count() == 1
    with pytest.raises(ValidationError, match="Nothing changed"):
        ideas.idea_status_set(actor=staff, idea=idea, status=Status.DISCUSSION,
                              reason="Looking, with the council")


def test_staff_own_idea_sends_no_mail(world):
    staff = world.actors["staff"]
    idea = make_idea(staff)
    ideas.idea_status_set(actor=staff, idea=idea, status=Status.DISCUSSION)
    assert not OutgoingEmail.objects.exists()


def test_adopted_idea_links_to_what_came_of_it(world):
    staff = world.actors["staff"]
    idea = make_idea(world.actors["member"])
    event, resource = EventFactory(), ResourceFactory()
    idea = ideas.idea_status_set(actor=staff, idea=idea, status=Status.ADOPTED,
                                 reason="Agreed", outcome_event=event,
                                 outcome_resource=resource, outcome_note="A pilot ran.")
    assert (idea.outcome_event, idea.outcome_resource, idea.outcome_note) == (
        event, resource, "A pilot ran.")


def test_outcome_links_belong_to_adopted_ideas(world):
    idea = make_idea(world.actors["member"])
    with pytest.raises(ValidationError) as caught:
        ideas.idea_status_set(actor=world.actors["staff"], idea=idea,
                              status=Status.DISCUSSION, outcome_note="Something")
    assert "outcome_note" in caught.value.message_dict


def test_unknown_status_and_overlong_reason_are_refused(world):
    idea = make_idea(world.actors["member"])
    staff = world.actors["staff"]
    with pytest.raises(ValidationError) as caught:
        ideas.idea_status_set(actor=staff, idea=idea, status="shelved")
    assert "status" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        ideas.idea_status_set(actor=staff, idea=idea, status=Status.DISCUSSION,
                              reason="x" * 2001)
    assert "status_reason" in caught.value.message_dict


def test_outcome_must_be_something_the_decider_sees(world, monkeypatch):
    """A link to an event or resource the decider cannot see is refused (the policy is asked
    even for staff, who today see everything)."""
    from hub import policy

    idea = make_idea(world.actors["member"])
    event = EventFactory(status=Event.Status.DRAFT)
    resource = ResourceFactory(metadata_tier=Tier.RESTRICTED)
    monkeypatch.setattr(policy, "can_view_event", lambda user, obj: False)
    monkeypatch.setattr(policy, "can_view_resource", lambda user, obj: False)
    with pytest.raises(ValidationError) as caught:
        ideas.idea_status_set(actor=world.actors["staff"], idea=idea, status=Status.ADOPTED,
                              outcome_event=event, outcome_resource=resource)
    assert {"outcome_event", "outcome_resource"} <= set(caught.value.message_dict)


def test_deleted_author_leaves_the_idea_and_no_mail(world):
    author = UserFactory()
    idea = make_idea(author)
    author.delete()
    idea.refresh_from_db()
    ideas.idea_status_set(actor=world.actors["staff"], idea=idea, status=Status.DISCUSSION)
    assert Idea.objects.get().author is None and not OutgoingEmail.objects.exists()


# --- Demo content -----------------------------------------------------------------------------

def test_demo_ideas_cover_every_status_and_load_once(db):
    """The demo has ideas in every status, support from several sectors, comments (one
    removed with a reason) and an adopted idea linked to its event and toolkit; loading it
    again adds nothing."""
    from hub.community import ideas_demo
    from hub.members import demo as members_demo

    members_demo.load()
    event = EventFactory(title="Eastgate spring listening session")
    toolkit = ResourceFactory(
        title="Listening Before Acting: A Toolkit for Open Community Safety Meetings")
    assert ideas_demo.load() == len(ideas_demo.IDEAS)
    assert set(Idea.objects.values_list("status", flat=True)) == set(Status.values)
    assert len(set(IdeaSupport.objects.values_list("sector", flat=True))) >= 4
    assert IdeaComment.objects.filter(removed_at__isnull=False).exclude(
        removed_reason="").count() == 1
    adopted = Idea.objects.get(status=Status.ADOPTED)
    assert (adopted.outcome_event, adopted.outcome_resource) == (event, toolkit)
    assert Idea.objects.get(status=Status.DECLINED).status_reason
    counts = (Idea.objects.count(), IdeaSupport.objects.count(), IdeaComment.objects.count())
    ideas_demo.load()
    assert counts == (Idea.objects.count(), IdeaSupport.objects.count(),
                      IdeaComment.objects.count())
