"""Funding opportunities: what is refused (a link that is not a web address, a deadline past
when publishing, NUL characters, following twice), and the deadline reminders through the real
task worker and a real SMTP server (aiosmtpd on loopback, as the mailing list's tests): once per
follower, N days before, again after the deadline moves later, never for a withdrawn or closed
opportunity, and never twice when two workers sweep at once. Also the weekly digest's
sections for stories and funding."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from hub.community import mailing, stories
from hub.community.models import Digest, FundingFollow, FundingOpportunity, Subscription
from hub.community.tasks import funding_reminders
from hub.community.tests import test_mailing
from hub.core.models import OutgoingEmail
from hub.core.tasks import RECURRING
from hub.members.models import Membership, User
from hub.members.tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from hub.members.tests.test_services import run_worker

smtp = test_mailing.smtp  # the same real SMTP server on loopback
DAY = timedelta(days=1)


@pytest.fixture
def editor(db):
    org = OrganisationFactory(name="Canal Police", slug="canal", is_partner=True)
    return MembershipFactory(organisation=org, role=Membership.Role.EDITOR).user


def fields(**extra):
    return {"title": "Bridges Fund", "funder": "The Canal Trust", "amount": "Up to £5,000",
            "summary": "For projects that bring neighbours together.",
            "eligibility": "Community groups in the city.",
            "deadline": timezone.now() + 20 * DAY, "link": "https://funding.example.org/b",
            "status": "published"} | extra


def make(editor, **extra) -> FundingOpportunity:
    return stories.funding_create(actor=editor, **fields(**extra))


# --- Bad input --------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("link", ["ftp://funding.example.org/b", "javascript:alert(1)",
                                  "not a link", ""])
def test_a_link_that_is_not_a_web_address_is_refused(editor, link):
    with pytest.raises(ValidationError) as error:
        make(editor, link=link)
    assert "link" in error.value.message_dict
    assert not FundingOpportunity.objects.exists()


@pytest.mark.django_db
def test_a_past_deadline_is_refused_when_publishing_but_not_in_a_draft(editor):
    with pytest.raises(ValidationError) as error:
        make(editor, deadline=timezone.now() - DAY)
    assert "has passed" in error.value.message_dict["deadline"][0]
    draft = make(editor, deadline=timezone.now() - DAY, status="draft")
    with pytest.raises(ValidationError):
        stories.funding_update(actor=editor, opportunity=draft, status="published")
    draft = stories.funding_update(actor=editor, opportunity=draft, status="published",
                                   deadline=timezone.now() + DAY)
    assert draft.status == "published"


@pytest.mark.django_db
def test_a_closed_opportunity_can_be_corrected_but_not_moved_into_the_past(editor):
    opportunity = make(editor)
    FundingOpportunity.objects.filter(pk=opportunity.pk).update(
        deadline=timezone.now() - DAY)
    opportunity.refresh_from_db()
    fixed = stories.funding_update(actor=editor, opportunity=opportunity, amount="£5,000")
    assert fixed.amount == "£5,000"
    with pytest.raises(ValidationError):
        stories.funding_update(actor=editor, opportunity=fixed,
                               deadline=timezone.now() - 2 * DAY)


@pytest.mark.django_db
def test_nul_characters_and_empty_required_fields_are_refused(editor):
    with pytest.raises(ValidationError) as error:
        make(editor, eligibility="anyone\x00")
    assert "eligibility" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        make(editor, funder="", eligibility="")
    assert {"funder", "eligibility"} <= set(error.value.message_dict)
    assert not FundingOpportunity.objects.exists()


@pytest.mark.django_db
def test_only_writers_list_and_only_their_lister_or_staff_change(editor):
    member = UserFactory()
    with pytest.raises(PermissionDenied):
        make(member)
    opportunity = make(editor)
    other = MembershipFactory(organisation=OrganisationFactory(is_partner=True),
                              role=Membership.Role.EDITOR).user
    with pytest.raises(PermissionDenied):
        stories.funding_update(actor=other, opportunity=opportunity, title="Mine")
    with pytest.raises(PermissionDenied):
        stories.funding_withdraw(actor=other, opportunity=opportunity)


@pytest.mark.django_db
def test_following_twice_or_something_closed_is_explained(editor):
    member = UserFactory()
    opportunity = make(editor)
    stories.funding_follow(actor=member, opportunity=opportunity)
    with pytest.raises(ValidationError, match="already follow"):
        stories.funding_follow(actor=member, opportunity=opportunity)
    assert FundingFollow.objects.count() == 1
    stories.funding_unfollow(actor=member, opportunity=opportunity)
    with pytest.raises(ValidationError, match="not following"):
        stories.funding_unfollow(actor=member, opportunity=opportunity)
    draft = make(editor, title="Draft fund", status="draft")
    with pytest.raises(PermissionDenied):  # the member cannot see it
        stories.funding_follow(actor=member, opportunity=draft)
    opportunity = stories.funding_withdraw(actor=editor, opportunity=opportunity)
    with pytest.raises((PermissionDenied, ValidationError)):
        stories.funding_follow(actor=member, opportunity=opportunity)
    applicant = UserFactory(standing=User.Standing.APPLICANT)
    with pytest.raises(PermissionDenied):
        stories.funding_follow(actor=applicant, opportunity=make(editor, title="Open"))


# --- Reminders --------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_each_follower_is_reminded_once_n_days_before_through_smtp(smtp, editor):
    """Nothing goes out while the deadline is far; inside the window each follower gets one
    mail with the title, the local deadline and both links; sweeping again sends nothing."""
    opportunity = make(editor, deadline=timezone.now() + 10 * DAY)
    people = [UserFactory(email=f"follower{n}@example.org") for n in range(2)]
    for person in people:
        stories.funding_follow(actor=person, opportunity=opportunity)
    assert stories.funding_reminders_send() == 0
    run_worker()  # the sweep that following scheduled, and nothing to send
    assert smtp.messages == []

    later = timezone.now() + 3 * DAY + timedelta(hours=1)  # 7 days less an hour before
    assert stories.funding_reminders_send(now=later) == 2
    assert stories.funding_reminders_send(now=later + timedelta(hours=2)) == 0
    run_worker()
    assert sorted(m["To"] for m in smtp.messages) == [p.email for p in people]
    text = smtp.body()
    assert "Bridges Fund" in text and "https://funding.example.org/b" in text
    assert opportunity.get_absolute_url() in text
    local = timezone.localtime(opportunity.deadline)
    assert local.strftime("%H:%M") in text and local.tzname() in text
    assert smtp.messages[0]["Subject"].endswith("Deadline soon: Bridges Fund")
    assert all(f.reminded_at is not None for f in FundingFollow.objects.all())


@pytest.mark.django_db(transaction=True)
def test_the_setting_decides_how_many_days_before(smtp, editor):
    opportunity = make(editor, deadline=timezone.now() + 10 * DAY)
    stories.funding_follow(actor=UserFactory(), opportunity=opportunity)
    with override_settings(HUB_FUNDING_REMINDER_DAYS=2):
        assert stories.funding_reminders_send(now=timezone.now() + 7 * DAY) == 0
        assert stories.funding_reminders_send(now=timezone.now() + 8 * DAY + DAY / 2) == 1


@pytest.mark.django_db
def test_two_workers_sweeping_at_once_send_one_reminder(editor):
    """Both workers found the same follow due before either claimed it: only the first
    claim succeeds, so one mail is queued."""
    opportunity = make(editor, deadline=timezone.now() + 3 * DAY)
    follow = stories.funding_follow(actor=UserFactory(), opportunity=opportunity)
    due_seen_by_both = list(stories._due(timezone.now()).values_list("pk", flat=True))
    assert due_seen_by_both == [follow.pk]
    sent = [stories.funding_remind(follow_id=pk) for pk in due_seen_by_both * 2]
    assert sent == [True, False]
    assert OutgoingEmail.objects.count() == 1


@pytest.mark.django_db
def test_a_failed_send_releases_the_claim(editor, monkeypatch):
    """The claim and the queued mail commit together: if queuing fails, the follow is still
    due and the next sweep tries again."""
    opportunity = make(editor, deadline=timezone.now() + 3 * DAY)
    follow = stories.funding_follow(actor=UserFactory(), opportunity=opportunity)

    def broken(**kwargs):
        raise RuntimeError("queue down")

    monkeypatch.setattr(stories, "email_queue", broken)
    with pytest.raises(RuntimeError):
        stories.funding_remind(follow_id=follow.pk)
    follow.refresh_from_db()
    assert follow.reminded_at is None
    monkeypatch.undo()
    assert stories.funding_reminders_send() == 1


@pytest.mark.django_db
def test_moving_the_deadline_later_reminds_again_before_the_new_one(editor):
    """A follower reminded for the old deadline is reminded again for a deadline moved well
    later, at the new time; a small move inside the window sends no second mail."""
    opportunity = make(editor, deadline=timezone.now() + 5 * DAY)
    follow = stories.funding_follow(actor=UserFactory(), opportunity=opportunity)
    assert stories.funding_reminders_send() == 1

    opportunity = stories.funding_update(actor=editor, opportunity=opportunity,
                                         deadline=timezone.now() + 6 * DAY)
    follow.refresh_from_db()
    assert follow.reminded_at is not None  # the new reminder time is already past
    assert stories.funding_reminders_send() == 0

    stories.funding_update(actor=editor, opportunity=opportunity,
                           deadline=timezone.now() + 30 * DAY)
    follow.refresh_from_db()
    assert follow.reminded_at is None
    assert stories.funding_reminders_send() == 0  # not yet: 30 days away
    assert stories.funding_reminders_send(now=timezone.now() + 24 * DAY) == 1
    assert OutgoingEmail.objects.count() == 2


@pytest.mark.django_db
def test_moving_the_deadline_earlier_brings_the_reminder_forward(editor):
    opportunity = make(editor, deadline=timezone.now() + 30 * DAY)
    stories.funding_follow(actor=UserFactory(), opportunity=opportunity)
    assert stories.funding_reminders_send() == 0
    stories.funding_update(actor=editor, opportunity=opportunity,
                           deadline=timezone.now() + 4 * DAY)
    assert stories.funding_reminders_send() == 1


@pytest.mark.django_db
def test_withdrawn_closed_or_deactivated_get_nothing(editor):
    withdrawn = make(editor, title="Withdrawn fund", deadline=timezone.now() + 3 * DAY)
    closing = make(editor, title="Closing fund", deadline=timezone.now() + 3 * DAY)
    people = [UserFactory() for _ in range(3)]
    stories.funding_follow(actor=people[0], opportunity=withdrawn)
    stories.funding_follow(actor=people[1], opportunity=closing)
    stories.funding_follow(actor=people[2], opportunity=closing)
    stories.funding_withdraw(actor=editor, opportunity=withdrawn)
    User.objects.filter(pk=people[2].pk).update(is_active=False)
    # The sweep that ran last before the deadline was missed: after it, nothing goes out.
    assert stories.funding_reminders_send(now=timezone.now() + 4 * DAY) == 0
    assert stories.funding_reminders_send() == 1  # only the active follower of the open one
    assert OutgoingEmail.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_reminder_sweep_is_a_recurring_task_that_keeps_one_run_waiting(editor):
    """``serve`` ensures it at start; following ensures it too; running it sends what is due
    and leaves exactly one run waiting an hour on."""
    assert stories.funding_reminders_ensure_scheduled in RECURRING
    opportunity = make(editor, deadline=timezone.now() + 3 * DAY)
    stories.funding_follow(actor=UserFactory(), opportunity=opportunity)
    stories.funding_reminders_ensure_scheduled()
    waiting = DBTaskResult.objects.filter(task_path=funding_reminders.module_path,
                                          status=TaskResultStatus.READY)
    assert waiting.count() == 1
    run_worker()
    assert FundingFollow.objects.get().reminded_at is not None
    assert waiting.count() == 1
    assert waiting.get().run_after > timezone.now() + timedelta(minutes=50)


# --- The weekly digest ------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_the_digest_carries_new_stories_and_funding_through_smtp(smtp, editor):
    from hub.community.models import Story

    Subscription.objects.create(email="reader@example.org",
                                status=Subscription.Status.CONFIRMED,
                                asked_at=timezone.now(), confirmed_at=timezone.now())
    Digest.objects.create(period_start=timezone.now() - 14 * DAY,
                          period_end=timezone.now() - 7 * DAY - timedelta(minutes=1),
                          items=0, recipients=0)
    org = editor.memberships.get().organisation
    with transaction.atomic():
        stories.story_create(actor=editor, title="Street football league", summary="S.",
                             organisation=org, context="C.", what_was_done="W.",
                             outcome="O.", evidence="E.", status="published")
        stories.story_create(actor=editor, title="Unfinished story", summary="S.",
                             organisation=org, context="C.", what_was_done="W.",
                             outcome="O.", evidence="E.", status="draft")
        make(editor)
        make(editor, title="Draft fund", status="draft")
    assert Story.objects.count() == 2
    digest = mailing.digest_send()
    assert digest.items == 2
    run_worker()
    text = smtp.body()
    assert "Success stories" in text and "Street football league" in text
    assert "Told by Canal Police" in text
    assert "Funding opportunities" in text and "Bridges Fund" in text
    assert "The Canal Trust · closes" in text
    assert "Unfinished story" not in text and "Draft fund" not in text
