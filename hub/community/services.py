"""Every change to events and registrations goes through a function here, and each checks the
policy again.

Places are given under a lock on the event's row (``select_for_update``), so two people asking
for the last place at once cannot both get it, and the waiting list is served strictly in the
order people joined it. Mail is queued in the same transaction and sent after it commits.
"""

import re
from datetime import time, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from hub import policy
from hub.community import ics
from hub.community.models import (
    NEEDS_KEPT_DAYS,
    AgendaItem,
    CalendarFeed,
    Event,
    Registration,
    new_token,
)
from hub.core.services import audit_record, email_queue, unique_slug

REMINDER_BEFORE = timedelta(hours=24)
RESERVED_SLUGS = {"new", "mine"}
# Time or place: a change to any of these is news for people's calendars.
CALENDAR_FIELDS = {"title", "starts_at", "ends_at", "venue", "address", "joining_link", "format"}
Status = Registration.Status


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _log(actor, action: str, target, event: Event, **context):
    return audit_record(actor=actor, action=f"community.{action}", target=target,
                        organisation=event.organisation, **context)


def _locked(event: Event) -> Event:
    return Event.objects.select_for_update().select_related("organisation").get(pk=event.pk)


# --- Mail -------------------------------------------------------------------------------------

def _mail(person, event: Event, kind: str, subject: str, *, attach: str | None = None,
          **context) -> None:
    body = render_to_string(f"community/email/{kind}.txt", {
        "site_url": settings.SITE_URL, "event": event, "person": person,
        "url": settings.SITE_URL + event.get_absolute_url(), **context})
    attachments = []
    if attach:
        attachments.append(ics.attachment(event, cancel=attach == "cancel"))
    email_queue(subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject, body=body,
                to=[person.email], from_email=settings.DEFAULT_FROM_EMAIL,
                attachments=attachments)


def _schedule_reminder(registration: Registration, event: Event) -> None:
    """The hub has no clock of its own: each confirmed place queues its reminder for a day
    before the event. The task checks again when it runs (the event may have moved, been
    cancelled, or the person cancelled)."""
    from hub.community.tasks import registration_remind

    when = event.starts_at - REMINDER_BEFORE
    pk = registration.pk
    transaction.on_commit(lambda: registration_remind.using(run_after=when).enqueue(
        registration_id=pk))


def _schedule_cleanup(event: Event) -> None:
    from hub.community.tasks import event_cleanup

    when = event.ends_at + timedelta(days=NEEDS_KEPT_DAYS)
    pk = event.pk
    transaction.on_commit(lambda: event_cleanup.using(run_after=when).enqueue(event_id=pk))


def _confirm(registration: Registration, event: Event, *, promoted: bool) -> None:
    now = timezone.now()
    registration.status = Status.CONFIRMED
    registration.confirmed_at = now
    registration.reminded_at = None
    registration.save(update_fields=["status", "confirmed_at", "reminded_at"])
    if promoted:
        _mail(registration.user, event, "promoted", f"A place has come up: {event}",
              attach="request")
        _log(None, "registration_promoted", registration, event, event_id=event.pk)
    else:
        _mail(registration.user, event, "confirmed", f"Your place: {event}", attach="request")
    _schedule_reminder(registration, event)


def _promote(event: Event) -> list[Registration]:
    """Give free places to the waiting list, first come first served. The event is locked."""
    if event.status != Event.Status.PUBLISHED or event.has_started:
        return []
    waiting = event.registrations.select_for_update().filter(status=Status.WAITING) \
        .select_related("user").order_by("requested_at", "id")
    if event.capacity is not None:
        free = event.capacity - event.registrations.filter(status=Status.CONFIRMED).count()
        waiting = waiting[:max(free, 0)]
    promoted = list(waiting)
    for registration in promoted:
        _confirm(registration, event, promoted=True)
    return promoted


# --- Events -----------------------------------------------------------------------------------


AGENDA_LINE = re.compile(r"^(?:(?P<time>\d{1,2}[:.]\d{2})\s+)?(?P<title>.+?)"
                         r"(?:\s+[—–-]{1,2}\s+(?P<speaker>.+))?$")


def agenda_parse(text: str) -> list[dict]:
    """One agenda item a line: an optional time (HH:MM), a title, and optionally " — " and
    the speaker. Raises a ValidationError naming every line it cannot read."""
    items, problems = [], []
    for number, line in enumerate((text or "").splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        match = AGENDA_LINE.match(line)
        when = None
        if match and match["time"]:
            hours, minutes = (int(part) for part in re.split(r"[:.]", match["time"]))
            if hours > 23 or minutes > 59:
                match = None
            else:
                when = time(hours, minutes)
        if match is None or len(match["title"]) > 200 or len(match["speaker"] or "") > 200:
            problems.append(f"line {number} (“{line[:40]}”)")
            continue
        items.append({"time": when, "title": match["title"].strip(),
                      "speaker": (match["speaker"] or "").strip()})
    if problems:
        raise ValidationError({"agenda": "Write each item as “10:00 Title — Speaker” (the time "
                                         "and speaker are optional). Check "
                                         + ", ".join(problems) + "."})
    if len(items) > 60:
        raise ValidationError({"agenda": "An agenda can have at most 60 items."})
    return items


def agenda_text(event: Event) -> str:
    lines = []
    for item in event.agenda.all():
        line = f"{item.time:%H:%M} {item.title}" if item.time else item.title
        lines.append(f"{line} — {item.speaker}" if item.speaker else line)
    return "\n".join(lines)


def _set_agenda(event: Event, text: str | None) -> None:
    if text is None:
        return
    items = agenda_parse(text)
    event.agenda.all().delete()
    AgendaItem.objects.bulk_create(AgendaItem(event=event, position=n, **item)
                                   for n, item in enumerate(items, 1))


def _check_organisation(actor, organisation) -> None:
    allowed = policy.event_organisation_ids(actor)
    if allowed is not None and organisation.pk not in allowed:
        raise ValidationError({"organisation": "Choose an organisation whose events you run."})


@transaction.atomic
def event_create(*, actor, agenda: str = "", organisers=(), **fields) -> Event:
    _require(policy.can_organise_events(actor))
    _check_organisation(actor, fields["organisation"])
    if fields.get("status") == Event.Status.CANCELLED:
        raise ValidationError({"status": "A new event cannot start cancelled."})
    event = Event(created_by=actor, slug=unique_slug(Event, fields.get("title", ""),
                                                     reserved=RESERVED_SLUGS), **fields)
    event.full_clean()
    event.save()
    _set_agenda(event, agenda)
    event.organisers.set({actor, *organisers})
    _log(actor, "event_created", event, event, status=event.status)
    return event


@transaction.atomic
def event_update(*, actor, event: Event, agenda: str | None = None, organisers=None,
                 **fields) -> Event:
    """Change an event. Raising the capacity gives the new places to the waiting list in
    order; it cannot go below the places already confirmed."""
    _require(policy.can_manage_event(actor, event))
    event = _locked(event)
    if "organisation" in fields and fields["organisation"].pk != event.organisation_id:
        _check_organisation(actor, fields["organisation"])
    new_status = fields.get("status", event.status)
    if new_status != event.status and Event.Status.CANCELLED in (new_status, event.status):
        raise ValidationError({"status": "Cancel an event with “Cancel this event”; a "
                                         "cancelled event stays cancelled."})
    if event.status == Event.Status.PUBLISHED and fields.get("status") == Event.Status.DRAFT \
            and event.registrations.exclude(status=Status.CANCELLED).exists():
        raise ValidationError({"status": "People have registered: the event cannot go back to "
                                         "being a draft. Cancel it instead."})
    changed = {name for name, value in fields.items() if getattr(event, name) != value}
    old_capacity = event.capacity
    for name, value in fields.items():
        setattr(event, name, value)
    confirmed = event.registrations.filter(status=Status.CONFIRMED).count()
    if event.capacity is not None and event.capacity < confirmed:
        raise ValidationError({"capacity": f"{confirmed} people already have a confirmed "
                                           "place: the capacity cannot be lower."})
    if changed & CALENDAR_FIELDS:
        event.sequence += 1
    event.full_clean()
    event.save()
    _set_agenda(event, agenda)
    if organisers is not None:
        event.organisers.set(organisers)
    promoted = _promote(event) if "capacity" in changed or "status" in changed else []
    if "starts_at" in changed:
        for registration in event.registrations.filter(status=Status.CONFIRMED,
                                                       reminded_at=None):
            _schedule_reminder(registration, event)
    _log(actor, "event_updated", event, event, fields=sorted(changed),
         capacity_from=old_capacity if "capacity" in changed else None,
         promoted=len(promoted))
    return event


@transaction.atomic
def event_cancel(*, actor, event: Event) -> int:
    """Cancel the event and tell everyone who registered; confirmed places get a calendar
    cancellation. Returns how many people were told."""
    _require(policy.can_manage_event(actor, event))
    event = _locked(event)
    if event.status == Event.Status.CANCELLED:
        raise ValidationError("This event is already cancelled.")
    if event.is_past:
        raise ValidationError("This event has already taken place.")
    event.status = Event.Status.CANCELLED
    event.sequence += 1
    event.save(update_fields=["status", "sequence", "modified"])
    told = 0
    for registration in event.registrations.exclude(status=Status.CANCELLED) \
            .select_related("user"):
        _mail(registration.user, event, "event_cancelled", f"Cancelled: {event}",
              attach="cancel" if registration.status == Status.CONFIRMED else None,
              registration=registration)
        told += 1
    _log(actor, "event_cancelled", event, event, told=told)
    return told


@transaction.atomic
def event_followup(*, actor, event: Event, notes: str, resources) -> Event:
    """Notes and library items after the event. Only items the organiser may see are
    linked; each reader then sees only those they may see themselves."""
    _require(policy.can_manage_event(actor, event))
    event = _locked(event)
    if not event.has_started:
        raise ValidationError("Notes and resources can be added once the event has begun.")
    from hub.library.models import Resource

    ids = [resource.pk for resource in resources]
    allowed = policy.visible_resources(actor, Resource.objects.filter(pk__in=ids))
    event.notes = notes
    event.full_clean()
    event.save(update_fields=["notes", "modified"])
    event.resources.set(allowed)
    _log(actor, "event_followup", event, event, resources=len(ids))
    return event


# --- Registrations ----------------------------------------------------------------------------

@transaction.atomic
def registration_create(*, actor, event: Event, accessibility_needs: str = "") -> Registration:
    """A confirmed place if there is room, otherwise a place on the waiting list."""
    _require(policy.can_register_for_event(actor, event))
    event = _locked(event)
    problem = event.registration_problem()
    if problem:
        raise ValidationError(problem)
    needs = (accessibility_needs or "").strip()
    if len(needs) > 1000:
        raise ValidationError({"accessibility_needs": "Please keep this under 1,000 "
                                                      "characters."})
    registration = Registration.objects.select_for_update().filter(event=event, user=actor) \
        .first()
    if registration and registration.status != Status.CANCELLED:
        raise ValidationError("You are already registered for this event."
                              if registration.status == Status.CONFIRMED else
                              "You are already on the waiting list for this event.")
    if registration is None:
        registration = Registration(event=event, user=actor)
    registration.requested_at = timezone.now()
    registration.cancelled_at = None
    registration.accessibility_needs = needs
    confirmed = event.registrations.filter(status=Status.CONFIRMED).count()
    has_room = event.capacity is None or confirmed < event.capacity
    registration.status = Status.WAITING
    registration.save()
    if has_room:
        _confirm(registration, event, promoted=False)
    else:
        position = event.registrations.filter(status=Status.WAITING).count()
        _mail(actor, event, "waiting", f"Waiting list: {event}", position=position)
    if needs:
        _schedule_cleanup(event)
    _log(actor, "registered", registration, event, event_id=event.pk,
         status=registration.status)
    return registration


@transaction.atomic
def registration_cancel(*, actor, registration: Registration) -> list[Registration]:
    """Give up a place or leave the waiting list. A freed place goes to the first person
    waiting, who is told by mail. Returns the people promoted."""
    _require(policy.is_member(actor) and registration.user_id == actor.pk)
    event = _locked(registration.event)
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    if registration.status == Status.CANCELLED:
        raise ValidationError("You have already cancelled this registration.")
    if event.is_past:
        raise ValidationError("This event has already taken place.")
    was = registration.status
    registration.status = Status.CANCELLED
    registration.cancelled_at = timezone.now()
    registration.accessibility_needs = ""
    registration.save(update_fields=["status", "cancelled_at", "accessibility_needs"])
    if was == Status.CONFIRMED and event.status == Event.Status.PUBLISHED:
        _mail(actor, event, "registration_cancelled", f"Cancelled: your place at {event}",
              attach="cancel")
    _log(actor, "registration_cancelled", registration, event, event_id=event.pk, was=was)
    return _promote(event) if was == Status.CONFIRMED else []


def registration_remind(*, registration_id: int, now=None) -> bool:
    """Send the reminder for one confirmed place if the event starts within a day; never
    twice. Returns whether a reminder was sent."""
    now = now or timezone.now()
    with transaction.atomic():
        registration = Registration.objects.select_for_update().select_related(
            "event__organisation", "user").filter(pk=registration_id).first()
        if registration is None or registration.reminded_at is not None:
            return False
        event = registration.event
        if registration.status != Status.CONFIRMED or event.status != Event.Status.PUBLISHED \
                or event.starts_at <= now or not registration.user.is_active:
            return False
        if event.starts_at - now > REMINDER_BEFORE + timedelta(minutes=5):
            _schedule_reminder(registration, event)  # the event moved later: wait for it
            return False
        registration.reminded_at = now
        registration.save(update_fields=["reminded_at"])
        _mail(registration.user, event, "reminder", f"Tomorrow: {event}",
              can_join=bool(event.online and event.joining_link))
    return True


def reminders_send_due(*, now=None) -> int:
    """Every reminder that is due and not yet sent: a sweep that catches any whose own task
    was lost. Safe to run as often as wanted."""
    now = now or timezone.now()
    due = Registration.objects.filter(
        status=Status.CONFIRMED, reminded_at=None, event__status=Event.Status.PUBLISHED,
        event__starts_at__gt=now, event__starts_at__lte=now + REMINDER_BEFORE,
    ).values_list("pk", flat=True)
    return sum(registration_remind(registration_id=pk, now=now) for pk in list(due))


def accessibility_needs_purge(*, now=None) -> int:
    """Delete accessibility needs 30 days after the event they were given for."""
    now = now or timezone.now()
    count = Registration.objects.filter(
        event__ends_at__lte=now - timedelta(days=NEEDS_KEPT_DAYS)).exclude(
        accessibility_needs="").update(accessibility_needs="")
    if count:
        audit_record(actor=None, action="community.needs_purged", count=count)
    return count


# --- Calendar feed ----------------------------------------------------------------------------

@transaction.atomic
def calendar_feed_reset(*, actor) -> str:
    """Make the person a new calendar address, stopping any old one. Returns the token, which
    is not kept: only its hash is."""
    _require(policy.is_member(actor))
    token, digest = new_token()
    CalendarFeed.objects.update_or_create(user=actor, defaults={
        "token_hash": digest, "created": timezone.now()})
    audit_record(actor=actor, action="community.calendar_reset")
    return token


def calendar_feed_stop(*, actor) -> None:
    _require(policy.is_member(actor))
    CalendarFeed.objects.filter(user=actor).delete()


def registrations_release(*, user) -> int:
    """Delete every registration of ``user`` (their data is being erased). A confirmed place
    at an event still to come goes to the first person waiting, as if they had cancelled;
    the erased person is not mailed. Returns how many registrations went."""
    mine = Registration.objects.filter(user=user)
    count = 0
    for registration in list(mine.select_related("event")):
        with transaction.atomic():
            event = _locked(registration.event)
            was = Registration.objects.filter(pk=registration.pk).values_list(
                "status", flat=True).first()
            Registration.objects.filter(pk=registration.pk).delete()
            count += 1
            if (was == Status.CONFIRMED and event.status == Event.Status.PUBLISHED
                    and not event.is_past):
                _promote(event)
    return count
