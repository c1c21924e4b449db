"""Background work for events: reminders a day before, and deleting accessibility needs 30
days after. Each task is queued when it becomes known (a place confirmed, needs given), runs
at its time, checks again what still holds, and is safe to run more than once."""

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from hub.community.models import NEEDS_KEPT_DAYS, Event


@task()
def registration_remind(*, registration_id: int) -> None:
    from hub.community import services

    services.registration_remind(registration_id=registration_id)
    # Sweep too: a reminder whose own task was lost still goes out, and old needs go.
    services.reminders_send_due()
    services.accessibility_needs_purge()


@task()
def event_cleanup(*, event_id: int) -> None:
    from hub.community import services

    event = Event.objects.filter(pk=event_id).first()
    if event is not None:
        due = event.ends_at + timedelta(days=NEEDS_KEPT_DAYS)
        if due > timezone.now():  # the event moved later: come back then
            event_cleanup.using(run_after=due).enqueue(event_id=event_id)
            return
    services.accessibility_needs_purge()


@task()
def digest_weekly() -> None:
    """Send the weekly digest if it is due, then wait for next week. A digest that is not
    due yet (the task ran early, or twice) sends nothing."""
    from hub.community import mailing

    mailing.digest_send()
    mailing.digest_ensure_scheduled(counting_running=False)


@task()
def funding_reminders() -> None:
    """Remind the followers of funding opportunities whose deadline is near, then come back
    in an hour. Each reminder goes once, however often or however many workers run this."""
    from hub.community import stories

    stories.funding_reminders_send()
    stories.funding_reminders_ensure_scheduled(counting_running=False)
