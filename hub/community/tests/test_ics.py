"""Calendar files, read back with icalendar, and the mail that carries them."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from icalendar import Calendar

from hub.community import ics, services
from hub.community.tests.factories import EventFactory
from hub.core.models import OutgoingEmail
from hub.core.tasks import email_send
from hub.members.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def parse(text):
    cal = Calendar.from_ical(text)
    return cal, cal.walk("VEVENT")


def test_invitation_has_stable_uid_utc_times_and_place():
    """METHOD:REQUEST, a UID that stays the same, start and end in UTC, summary, location
    and the joining link."""
    event = EventFactory(title="Trust forum", venue="Town hall", address="1 High St")
    cal, (item,) = parse(ics.invitation(event))
    assert str(cal["method"]) == "REQUEST"
    assert str(item["uid"]) == ics.event_uid(event) == ics.event_uid(event)
    assert item.decoded("dtstart") == event.starts_at.replace(microsecond=0)
    assert item.decoded("dtend") == event.ends_at.replace(microsecond=0)
    assert item["dtstart"].to_ical().endswith(b"Z")
    assert item["dtend"].to_ical().endswith(b"Z")
    assert item.decoded("dtstart").utcoffset() == timedelta(0)
    assert str(item["summary"]) == "Trust forum"
    assert str(item["location"]) == "Town hall, 1 High St"
    assert str(item["url"]) == event.joining_link
    assert str(item["status"]) == "CONFIRMED"


def test_cancellation_has_same_uid_and_no_link():
    event = EventFactory()
    cal, (item,) = parse(ics.invitation(event, cancel=True))
    assert str(cal["method"]) == "CANCEL"
    assert str(item["status"]) == "CANCELLED"
    assert str(item["uid"]) == ics.event_uid(event)
    assert "secret-room" not in ics.invitation(event, cancel=True)


def test_online_only_event_uses_link_as_location():
    event = EventFactory(format="online", venue="")
    _, (item,) = parse(ics.invitation(event))
    assert str(item["location"]) == event.joining_link


def test_confirmation_mail_carries_the_invitation():
    """Sent by the task that sends queued mail, the confirmation has the .ics attached."""
    event = EventFactory(capacity=3, title="Launch")
    person = UserFactory()
    services.registration_create(actor=person, event=event)
    queued = OutgoingEmail.objects.get(to=[person.email])
    email_send.call(email_id=queued.pk)
    (message,) = mail.outbox
    assert message.to == [person.email]
    assert "Your place: Launch" in message.subject
    ((filename, content, mimetype),) = message.attachments
    assert (filename, mimetype) == ("event.ics", "text/calendar")
    _, (item,) = parse(content)
    assert str(item["uid"]) == ics.event_uid(event)
    assert not OutgoingEmail.objects.filter(pk=queued.pk).exists()


def test_mail_without_attachments_still_sends():
    """Messages queued before attachments existed, or without any, send as before."""
    from hub.core.services import email_queue

    queued = email_queue(subject="Hello", body="Body", to=["x@example.org"])
    email_send.call(email_id=queued.pk)
    assert mail.outbox[0].attachments == []


def test_feed_lists_confirmed_events_only():
    person = UserFactory()
    confirmed = EventFactory(capacity=1, title="Confirmed one")
    full = EventFactory(capacity=1, title="Waiting one")
    services.registration_create(actor=UserFactory(), event=full)
    services.registration_create(actor=person, event=confirmed)
    services.registration_create(actor=person, event=full)
    from hub.community.selectors import feed_events

    cal, items = parse(ics.feed(feed_events(person)))
    assert "method" not in cal
    assert [str(i["summary"]) for i in items] == ["Confirmed one"]
    assert timezone.now() + timedelta(days=30) > items[0].decoded("dtstart")
