"""Reminders a day before the event, sent once, and only while the place still stands."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from hub.community import services, tasks
from hub.community.models import Event
from hub.community.tests.factories import EventFactory
from hub.core.models import OutgoingEmail
from hub.members.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def soon_event(**kwargs):
    return EventFactory(starts_at=timezone.now() + timedelta(hours=20), **kwargs)


def reminders(person):
    return OutgoingEmail.objects.filter(to=[person.email], subject__contains="Tomorrow")


def test_confirmed_place_queues_its_reminder_a_day_before(django_capture_on_commit_callbacks):
    """A confirmed place queues one reminder task to run 24 hours before the start."""
    event = EventFactory(starts_at=timezone.now() + timedelta(days=5))
    with django_capture_on_commit_callbacks(execute=True):
        registration = services.registration_create(actor=UserFactory(), event=event)
    task = DBTaskResult.objects.get(task_path="hub.community.tasks.registration_remind")
    assert task.args_kwargs["kwargs"] == {"registration_id": registration.pk}
    assert abs(task.run_after - (event.starts_at - timedelta(hours=24))) < timedelta(seconds=1)


def test_reminder_sent_once():
    """Running the reminder twice (or the sweep after it) sends one message."""
    event = soon_event()
    registration = services.registration_create(actor=UserFactory(), event=event)
    assert services.registration_remind(registration_id=registration.pk)
    assert not services.registration_remind(registration_id=registration.pk)
    assert services.reminders_send_due() == 0
    tasks.registration_remind.call(registration_id=registration.pk)
    assert reminders(registration.user).count() == 1


def test_sweep_sends_due_reminders_only():
    """The sweep reminds confirmed people of events within a day, not later ones, not people
    waiting, not cancelled events."""
    soon = soon_event(capacity=1)
    later = EventFactory(starts_at=timezone.now() + timedelta(days=3))
    cancelled = soon_event()
    first, waiting, far, gone = UserFactory(), UserFactory(), UserFactory(), UserFactory()
    services.registration_create(actor=first, event=soon)
    services.registration_create(actor=waiting, event=soon)
    services.registration_create(actor=far, event=later)
    services.registration_create(actor=gone, event=cancelled)
    Event.objects.filter(pk=cancelled.pk).update(status=Event.Status.CANCELLED)
    assert services.reminders_send_due() == 1
    assert reminders(first).count() == 1
    for person in (waiting, far, gone):
        assert not reminders(person).exists()


def test_no_reminder_after_cancelling():
    event = soon_event()
    registration = services.registration_create(actor=UserFactory(), event=event)
    services.registration_cancel(actor=registration.user, registration=registration)
    assert not services.registration_remind(registration_id=registration.pk)


def test_event_moved_later_waits(django_capture_on_commit_callbacks):
    """A reminder task that finds the event moved later queues itself for the new time."""
    event = soon_event()
    registration = services.registration_create(actor=UserFactory(), event=event)
    Event.objects.filter(pk=event.pk).update(starts_at=timezone.now() + timedelta(days=4),
                                             ends_at=timezone.now() + timedelta(days=4, hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert not services.registration_remind(registration_id=registration.pk)
    assert DBTaskResult.objects.filter(
        task_path="hub.community.tasks.registration_remind",
        run_after__gt=timezone.now() + timedelta(days=2)).exists()


def test_cleanup_task_purges_needs_after_30_days():
    event = EventFactory(starts_at=timezone.now() - timedelta(days=40),
                         ends_at=timezone.now() - timedelta(days=40) + timedelta(hours=2))
    from hub.community.models import Registration

    registration = Registration.objects.create(event=event, user=UserFactory(),
                                               status="confirmed", accessibility_needs="Loop")
    tasks.event_cleanup.call(event_id=event.pk)
    registration.refresh_from_db()
    assert registration.accessibility_needs == ""
