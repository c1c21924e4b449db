"""Reads that the event pages share. Every list goes through the policy first."""

from django.db.models import Count, F, Q
from django.http import Http404
from django.utils import timezone

from hub import policy
from hub.community.models import Event, Registration

CONFIRMED = Registration.Status.CONFIRMED
WAITING = Registration.Status.WAITING


def _with_counts(qs):
    confirmed = Count("registrations", filter=Q(registrations__status=CONFIRMED))
    return qs.annotate(
        confirmed_count=confirmed,
        waiting_count=Count("registrations", filter=Q(registrations__status=WAITING)),
        places_left=F("capacity") - confirmed,
    )


def event_list(*, user, when: str = "upcoming", format: str = ""):
    """Events this person may see: upcoming ones soonest first, or past ones latest first."""
    qs = policy.visible_events(user, Event.objects.all()).select_related("organisation")
    now = timezone.now()
    if when == "past":
        qs = qs.filter(ends_at__lte=now).order_by("-starts_at", "-id")
    else:
        qs = qs.filter(ends_at__gt=now).order_by("starts_at", "id")
    if format in Event.Format.values:
        qs = qs.filter(format=format)
    return _with_counts(qs)


def event_get(*, user, slug: str) -> Event:
    """The event, or 404 when it does not exist or this person may not see it."""
    qs = policy.visible_events(user, Event.objects.filter(slug=slug))
    event = _with_counts(qs.select_related("organisation")).first()
    if event is None:
        raise Http404("No such event.")
    return event


def event_managed_get(*, user, slug: str) -> Event:
    event = event_get(user=user, slug=slug)
    if not policy.can_manage_event(user, event):
        raise Http404("No such event.")
    return event


def registration_for(*, user, event: Event) -> Registration | None:
    if not policy.is_member(user):
        return None
    return Registration.objects.filter(event=event, user=user).first()


def waiting_position(registration: Registration) -> int:
    return Registration.objects.filter(
        event_id=registration.event_id, status=WAITING).filter(
        Q(requested_at__lt=registration.requested_at)
        | Q(requested_at=registration.requested_at, pk__lte=registration.pk)).count()


def registrations_for_organisers(*, user, event: Event) -> dict:
    if not policy.can_view_registrations(user, event):
        raise Http404("No such event.")
    qs = event.registrations.select_related("user__profile").order_by("requested_at", "id")
    return {
        "confirmed": [r for r in qs if r.status == CONFIRMED],
        "waiting": [r for r in qs if r.status == WAITING],
        "cancelled": [r for r in qs if r.status == Registration.Status.CANCELLED],
    }


def my_registrations(*, user):
    """The person's own registrations that still stand, with events they may still see."""
    visible = policy.visible_events(user, Event.objects.all()).values("pk")
    return (Registration.objects.filter(user=user, event__in=visible)
            .exclude(status=Registration.Status.CANCELLED)
            .select_related("event__organisation").order_by("event__starts_at", "event_id"))


def feed_events(user):
    """Events on a person's calendar feed: those where they hold a confirmed place, plus
    cancelled ones they had a place at, so calendars can drop them."""
    visible = policy.visible_events(user, Event.objects.all())
    return (visible.filter(registrations__user=user, registrations__status=CONFIRMED)
            .select_related("organisation").order_by("starts_at", "id"))


def visible_event_resources(*, user, event: Event):
    """The library items linked to the event that this person may see."""
    return policy.visible_resources(user, event.resources.all()).order_by("title")
