"""Calendar files (RFC 5545) for events: an invitation or cancellation sent by mail, and the
feed of a person's confirmed events. Times are written in UTC, so every calendar places them
right whatever its own time zone."""

from datetime import UTC, datetime

from django.conf import settings
from icalendar import Calendar, vCalAddress
from icalendar import Event as VEvent

PRODID = "-//Police-Community Engagement Hub//Events//EN"


def event_uid(event) -> str:
    """The same for the life of the event, so updates and cancellations replace the copy a
    calendar already holds."""
    return f"event-{event.uuid}@engagement-hub"


def _location(event) -> str:
    return ", ".join(part for part in (event.venue, " ".join(event.address.split())) if part)


def _vevent(event, *, include_link: bool, cancelled: bool = False) -> VEvent:
    item = VEvent()
    item.add("uid", event_uid(event))
    item.add("dtstamp", datetime.now(UTC))
    item.add("dtstart", event.starts_at.astimezone(UTC))
    item.add("dtend", event.ends_at.astimezone(UTC))
    item.add("sequence", event.sequence)
    item.add("summary", event.title)
    page = settings.SITE_URL + event.get_absolute_url()
    description = f"{event.summary}\n\n{page}"
    if include_link and event.online and event.joining_link:
        item.add("url", event.joining_link)
        description += f"\n\nJoin online: {event.joining_link}"
    elif not event.online:
        item.add("url", page)
    location = _location(event) if event.in_person else ""
    if location:
        item.add("location", location)
    elif include_link and event.joining_link:
        item.add("location", event.joining_link)
    item.add("description", description)
    organiser = vCalAddress(f"mailto:{settings.DEFAULT_FROM_EMAIL}")
    organiser.params["cn"] = event.organisation.name
    item.add("organizer", organiser)
    cancelled = cancelled or event.status == event.Status.CANCELLED
    item.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return item


def _calendar(method: str | None = None, name: str | None = None) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
    return cal


def invitation(event, *, cancel: bool = False) -> str:
    """A calendar invitation for one person with a confirmed place (METHOD:REQUEST), or the
    cancellation that removes it from their calendar (METHOD:CANCEL)."""
    cal = _calendar("CANCEL" if cancel else "REQUEST")
    cal.add_component(_vevent(event, include_link=not cancel, cancelled=cancel))
    return cal.to_ical().decode()


def attachment(event, *, cancel: bool = False) -> dict:
    return {"filename": "cancelled.ics" if cancel else "event.ics",
            "content": invitation(event, cancel=cancel), "mimetype": "text/calendar"}


def feed(events, *, name: str = "My events (Engagement Hub)") -> bytes:
    """A person's confirmed events, for a calendar application to subscribe to."""
    cal = _calendar(name=name)
    for event in events:
        cal.add_component(_vevent(event, include_link=True))
    return cal.to_ical()
