"""The event pages through the client: lists, registering, bad input, the calendar feed."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hub.community import services
from hub.community.models import Event, Registration
from hub.community.tests.factories import EventFactory
from hub.members.models import Membership
from hub.members.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def organiser():
    return MembershipFactory(role=Membership.Role.EDITOR).user


def detail(event):
    return reverse("community:event_detail", args=[event.slug])


def test_list_shows_upcoming_and_past_apart_with_places(client):
    full = EventFactory(title="Full workshop", capacity=1)
    services.registration_create(actor=UserFactory(), event=full)
    EventFactory(title="Open forum", capacity=10)
    EventFactory(title="Last year's forum", starts_at=timezone.now() - timedelta(days=30))
    page = client.get(reverse("community:home")).content.decode()
    assert "Full workshop" in page and "Full: waiting list" in page
    assert "Open forum" in page and "10 places left" in page
    assert "Last year" not in page
    page = client.get(reverse("community:home"), {"when": "past"}).content.decode()
    assert "Last year" in page and "Open forum" not in page


def test_list_filters_by_format(client):
    EventFactory(title="Online only", format="online", venue="")
    EventFactory(title="In the hall", format="in_person")
    page = client.get(reverse("community:home"), {"format": "online"}).content.decode()
    assert "Online only" in page and "In the hall" not in page
    page = client.get(reverse("community:home"), {"format": "nonsense"}).content.decode()
    assert "Online only" in page and "In the hall" in page


def test_list_paginates(client):
    from hub.community.demo import bulk_events

    bulk_events(45)
    response = client.get(reverse("community:home"), {"page": 3})
    assert response.status_code == 200
    assert "Page 3 of 3" in response.content.decode()
    assert client.get(reverse("community:home"), {"page": "x"}).status_code == 200


def test_register_and_cancel_through_pages(client):
    event = EventFactory(capacity=1)
    person = UserFactory()
    client.force_login(person)
    page = client.get(detail(event)).content.decode()
    assert "secret-room" not in page and "Register" in page
    response = client.post(reverse("community:register", args=[event.slug]),
                           {"accessibility_needs": "Step-free access"}, follow=True)
    page = response.content.decode()
    assert "Your place is confirmed" in page
    assert "https://meet.example.org/secret-room" in page
    registration = Registration.objects.get(event=event, user=person)
    assert registration.accessibility_needs == "Step-free access"
    response = client.post(reverse("community:registration_cancel", args=[event.slug]),
                           follow=True)
    assert "Your registration is cancelled" in response.content.decode()
    response = client.post(reverse("community:registration_cancel", args=[event.slug]),
                           follow=True)
    assert "already cancelled" in response.content.decode()


def test_register_refusal_shown_on_page_keeping_input(client):
    """Over-long accessibility needs: the page says so and keeps what was typed."""
    event = EventFactory()
    client.force_login(UserFactory())
    text = "x" * 1001
    response = client.post(reverse("community:register", args=[event.slug]),
                           {"accessibility_needs": text})
    assert response.status_code == 400
    page = response.content.decode()
    assert "at most 1000 characters" in page and text in page
    assert not Registration.objects.exists()


def test_closed_registration_explained(client):
    event = EventFactory(registration_closes_at=timezone.now() - timedelta(hours=1))
    client.force_login(UserFactory())
    assert "Registration has closed" in client.get(detail(event)).content.decode()
    response = client.post(reverse("community:register", args=[event.slug]))
    assert response.status_code == 400
    assert "Registration has closed" in response.content.decode()


def test_full_event_offers_waiting_list(client):
    event = EventFactory(capacity=1)
    services.registration_create(actor=UserFactory(), event=event)
    client.force_login(UserFactory())
    assert "Join the waiting list" in client.get(detail(event)).content.decode()
    response = client.post(reverse("community:register", args=[event.slug]), follow=True)
    page = response.content.decode()
    assert "on the waiting list" in page and "(number 1)" in page
    assert "secret-room" not in page


def _form_data(org, **overrides):
    start = timezone.localtime() + timedelta(days=10)
    data = {
        "title": "Spring forum", "summary": "Residents and officers meet.", "description": "",
        "format": "hybrid", "starts_at": start.strftime("%Y-%m-%dT10:00"),
        "ends_at": start.strftime("%Y-%m-%dT12:00"), "timezone": "Europe/London",
        "venue": "Town hall", "address": "", "joining_link": "https://meet.example.org/x",
        "accessibility": "Step-free", "capacity": "20", "registration_opens_at": "",
        "registration_closes_at": "", "audience": "public", "organisation": org.pk,
        "status": "published", "agenda": "10:00 Welcome — Chair\n11:00 Discussion",
        "organiser_emails": "",
    }
    data.update(overrides)
    return data


def test_create_event_through_form(client, organiser):
    org = organiser.memberships.first().organisation
    client.force_login(organiser)
    assert client.get(reverse("community:event_new")).status_code == 200
    response = client.post(reverse("community:event_new"), _form_data(org), follow=True)
    assert "Event published" in response.content.decode()
    event = Event.objects.get(title="Spring forum")
    assert timezone.localtime(event.starts_at).hour == 10
    assert event.agenda.count() == 2


def test_times_are_read_in_the_events_time_zone(client, organiser):
    org = organiser.memberships.first().organisation
    client.force_login(organiser)
    client.post(reverse("community:event_new"), _form_data(org, timezone="America/New_York"))
    event = Event.objects.get(title="Spring forum")
    assert event.starts_at.astimezone(event.tz).hour == 10
    page = client.get(reverse("community:event_edit", args=[event.slug])).content.decode()
    assert "T10:00" in page


def test_bad_event_form_keeps_everything(client, organiser):
    """Several mistakes: each is explained beside its field, nothing is saved, and what was
    typed is still there."""
    org = organiser.memberships.first().organisation
    client.force_login(organiser)
    data = _form_data(org, venue="", joining_link="http://not-secure.example.org",
                      agenda="10:00 Welcome\n99:99 Broken line", organiser_emails="nobody@x.org")
    response = client.post(reverse("community:event_new"), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert not Event.objects.exists()
    assert "nobody@x.org" in page and "Residents and officers meet." in page
    assert "No member of the hub has these addresses" in page
    # The form's own checks ran; the service's (venue, agenda, https) run once they pass.
    response = client.post(reverse("community:event_new"), dict(data, organiser_emails=""))
    page = response.content.decode()
    assert response.status_code == 400
    assert "Say where the event takes place" in page and "Enter a valid URL" in page
    assert "99:99 Broken line" in page
    # With those put right, the service reads the agenda and names the line it cannot.
    response = client.post(reverse("community:event_new"), dict(
        data, organiser_emails="", venue="Town hall", joining_link="https://meet.example.org/x"))
    page = response.content.decode()
    assert response.status_code == 400
    assert "line 2" in page and "99:99 Broken line" in page and "Town hall" in page
    assert not Event.objects.exists()


def test_ordinary_member_cannot_create(client):
    client.force_login(UserFactory())
    assert client.get(reverse("community:event_new")).status_code == 404
    client.logout()
    assert client.get(reverse("community:event_new")).status_code == 302


def test_registrations_page_for_organisers_only(client, organiser):
    event = EventFactory(organisation=organiser.memberships.first().organisation, capacity=1)
    first, second = UserFactory(), UserFactory()
    services.registration_create(actor=first, event=event, accessibility_needs="BSL please")
    services.registration_create(actor=second, event=event)
    url = reverse("community:event_registrations", args=[event.slug])
    client.force_login(first)
    assert client.get(url).status_code == 404
    assert "BSL please" not in client.get(detail(event)).content.decode()
    client.force_login(organiser)
    page = client.get(url).content.decode()
    assert "BSL please" in page and second.email in page


def test_cancel_event_page(client, organiser):
    event = EventFactory(organisation=organiser.memberships.first().organisation)
    client.force_login(organiser)
    url = reverse("community:event_cancel", args=[event.slug])
    assert client.get(url).status_code == 200
    response = client.post(url, follow=True)
    assert "The event is cancelled" in response.content.decode()
    event.refresh_from_db()
    assert event.status == Event.Status.CANCELLED


def test_followup_page(client, organiser):
    from hub.library.tests.factories import ResourceFactory

    event = EventFactory(organisation=organiser.memberships.first().organisation,
                         starts_at=timezone.now() - timedelta(days=2))
    resource = ResourceFactory(title="Notes pack")
    client.force_login(organiser)
    url = reverse("community:event_followup", args=[event.slug])
    response = client.post(url, {"notes": "We agreed to meet again.",
                                 "resources": [resource.pk]}, follow=True)
    page = response.content.decode()
    assert "We agreed to meet again." in page and "Notes pack" in page


def test_calendar_page_and_feed(client):
    person = UserFactory()
    event = EventFactory(title="In my calendar")
    services.registration_create(actor=person, event=event)
    client.force_login(person)
    assert client.get(reverse("community:calendar")).status_code == 200
    page = client.post(reverse("community:calendar"), {"action": "reset"}).content.decode()
    import re

    address = re.search(r"http://testserver(/community/calendar/[\w-]+\.ics)", page).group(1)
    client.logout()
    response = client.get(address)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert b"In my calendar" in response.content
    assert b"secret-room" in response.content
    assert client.get("/community/calendar/not-a-real-token.ics").status_code == 404
    client.force_login(person)
    client.post(reverse("community:calendar"), {"action": "reset"})
    client.logout()
    assert client.get(address).status_code == 404  # the old address stopped working


def test_my_events_page(client):
    person = UserFactory()
    event = EventFactory(title="Coming soon", capacity=1)
    services.registration_create(actor=UserFactory(), event=event)
    services.registration_create(actor=person, event=event)
    client.force_login(person)
    page = client.get(reverse("community:my_events")).content.decode()
    assert "Coming soon" in page and "On the waiting list" in page


def test_demo_loads_twice(db):
    """The demo's events load once, with the launch conference and a full workshop."""
    from django.core.management import call_command

    call_command("demo_load", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("demo_load", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115
    launch = Event.objects.get(title__startswith="Launch conference")
    assert launch.format == "hybrid" and launch.agenda.count() > 3 and launch.accessibility
    assert Registration.objects.filter(status="waiting").count() == 2
    assert Event.objects.filter(notes__gt="").exclude(resources=None).exists()
    assert Event.objects.count() == 5
