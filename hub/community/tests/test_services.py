"""Registration, the waiting list and what organisers change, through the services."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import close_old_connections, connection
from django.utils import timezone

from hub.community import services
from hub.community.models import Event, Registration
from hub.community.tests.factories import EventFactory
from hub.core.models import AuditEvent, OutgoingEmail
from hub.members.models import Membership
from hub.members.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

CONFIRMED, WAITING, CANCELLED = "confirmed", "waiting", "cancelled"


@pytest.fixture
def organiser():
    return MembershipFactory(role=Membership.Role.EDITOR).user


@pytest.fixture
def event(organiser):
    return EventFactory(organisation=organiser.memberships.first().organisation, capacity=2)


def register(event, person=None, **kwargs):
    person = person or UserFactory()
    return services.registration_create(actor=person, event=event, **kwargs)


def statuses(event):
    return list(event.registrations.order_by("requested_at", "id")
                .values_list("user__email", "status"))


def test_registration_confirms_until_full_then_waits():
    """Places are given until the capacity is reached; then people join the waiting list."""
    event = EventFactory(capacity=2)
    first, second, third = (register(event) for _ in range(3))
    assert [first.status, second.status, third.status] == [CONFIRMED, CONFIRMED, WAITING]


def test_unlimited_capacity_never_waits():
    """An event with no capacity confirms everyone."""
    event = EventFactory(capacity=None)
    assert {register(event).status for _ in range(5)} == {CONFIRMED}


def test_cancel_promotes_first_waiting_in_order(event):
    """When a confirmed person cancels, the person who has waited longest gets the place and
    is emailed with a calendar invitation; the next one keeps waiting."""
    a, b = register(event), register(event)
    c, d = register(event), register(event)
    assert [c.status, d.status] == [WAITING, WAITING]
    OutgoingEmail.objects.all().delete()
    promoted = services.registration_cancel(actor=a.user, registration=a)
    assert [r.pk for r in promoted] == [c.pk]
    c.refresh_from_db()
    d.refresh_from_db()
    assert (c.status, d.status) == (CONFIRMED, WAITING)
    mails = {tuple(m.to): m for m in OutgoingEmail.objects.all()}
    assert "A place has come up" in mails[(c.user.email,)].subject
    assert mails[(c.user.email,)].attachments[0]["filename"] == "event.ics"
    assert "METHOD:CANCEL" in mails[(a.user.email,)].attachments[0]["content"]
    assert (d.user.email,) not in mails
    assert AuditEvent.objects.filter(action="community.registration_promoted").count() == 1
    assert b.status == CONFIRMED


def test_leaving_waiting_list_promotes_nobody(event):
    """Someone leaving the waiting list frees no place."""
    register(event), register(event)
    waiting = register(event)
    after = register(event)
    assert services.registration_cancel(actor=waiting.user, registration=waiting) == []
    after.refresh_from_db()
    assert after.status == WAITING


def test_raising_capacity_promotes_in_order(event, organiser):
    """Raising the capacity gives the new places to the waiting list, oldest first."""
    for _ in range(2):
        register(event)
    w1, w2, w3 = register(event), register(event), register(event)
    services.event_update(actor=organiser, event=event, capacity=4)
    for r in (w1, w2, w3):
        r.refresh_from_db()
    assert [w1.status, w2.status, w3.status] == [CONFIRMED, CONFIRMED, WAITING]
    services.event_update(actor=organiser, event=event, capacity=None)
    w3.refresh_from_db()
    assert w3.status == CONFIRMED


def test_capacity_cannot_drop_below_confirmed(event, organiser):
    """Lowering the capacity below the places already given is refused with the reason."""
    register(event), register(event)
    with pytest.raises(ValidationError) as error:
        services.event_update(actor=organiser, event=event, capacity=1)
    assert "2 people already have a confirmed place" in str(error.value)
    event.refresh_from_db()
    assert event.capacity == 2


def test_full_event_puts_people_on_waiting_list_and_tells_them():
    """A full event does not refuse: it offers the waiting list, and says the position."""
    event = EventFactory(capacity=1)
    register(event)
    waiting = register(event)
    assert waiting.status == WAITING
    mail = OutgoingEmail.objects.get(to=[waiting.user.email])
    assert "waiting list (number 1)" in mail.body
    assert mail.attachments == []


@pytest.mark.parametrize("change, message", [
    ({"registration_closes_at": timezone.now() - timedelta(hours=1)}, "Registration has closed"),
    ({"registration_opens_at": timezone.now() + timedelta(days=1)}, "has not opened yet"),
    ({"status": Event.Status.CANCELLED}, "has been cancelled"),
    ({"starts_at": timezone.now() - timedelta(hours=1)}, "already started"),
    ({"status": Event.Status.DRAFT}, "not open for registration"),
])
def test_registration_refused_with_reason(change, message):
    """Closed registration, a cancelled, started or unpublished event: refused, saying why."""
    event = EventFactory(capacity=5)
    Event.objects.filter(pk=event.pk).update(**change)
    event.refresh_from_db()
    person = UserFactory()
    if change.get("status") == Event.Status.DRAFT:
        with pytest.raises(PermissionDenied):  # a draft is not even visible to members
            register(event, person)
        return
    with pytest.raises(ValidationError) as error:
        register(event, person)
    assert message in str(error.value)
    assert not Registration.objects.filter(event=event).exists()


def test_double_registration_refused():
    """Registering twice is refused, whether confirmed or waiting."""
    event = EventFactory(capacity=1)
    first = register(event)
    with pytest.raises(ValidationError, match="already registered"):
        register(event, first.user)
    waiting = register(event)
    with pytest.raises(ValidationError, match="already on the waiting list"):
        register(event, waiting.user)
    assert event.registrations.count() == 2


def test_cancelling_twice_refused_and_reregistering_queues_again():
    """A cancelled registration cannot be cancelled again; registering again is allowed and
    goes to the back of the queue."""
    event = EventFactory(capacity=1)
    first = register(event)
    services.registration_cancel(actor=first.user, registration=first)
    with pytest.raises(ValidationError, match="already cancelled"):
        services.registration_cancel(actor=first.user, registration=first)
    other = register(event)
    again = register(event, first.user)
    assert (other.status, again.status) == (CONFIRMED, WAITING)
    assert again.pk == first.pk


def test_only_the_person_cancels_their_registration():
    event = EventFactory(capacity=1)
    registration = register(event)
    with pytest.raises(PermissionDenied):
        services.registration_cancel(actor=UserFactory(), registration=registration)


def test_visitors_and_applicants_cannot_register():
    from django.contrib.auth.models import AnonymousUser

    from hub.members.models import User

    event = EventFactory()
    for actor in (AnonymousUser(), UserFactory(standing=User.Standing.APPLICANT)):
        with pytest.raises(PermissionDenied):
            services.registration_create(actor=actor, event=event)


def test_event_cancel_tells_everyone(event, organiser):
    """Cancelling the event mails confirmed people a calendar cancellation and waiting people
    a note; nobody can register afterwards."""
    confirmed = [register(event), register(event)]
    waiting = register(event)
    OutgoingEmail.objects.all().delete()
    assert services.event_cancel(actor=organiser, event=event) == 3
    mails = {m.to[0]: m for m in OutgoingEmail.objects.all()}
    for r in confirmed:
        assert "METHOD:CANCEL" in mails[r.user.email].attachments[0]["content"]
    assert mails[waiting.user.email].attachments == []
    assert "waiting list" in mails[waiting.user.email].body
    with pytest.raises(ValidationError, match="already cancelled"):
        services.event_cancel(actor=organiser, event=event)
    with pytest.raises(ValidationError, match="cancelled"):
        register(event)
    # A cancelled event gives no place to the waiting list.
    services.registration_cancel(actor=confirmed[0].user, registration=confirmed[0])
    waiting.refresh_from_db()
    assert waiting.status == WAITING


def test_cancelled_event_can_be_corrected_but_not_reopened(event, organiser):
    """A cancelled event's text can still be corrected; its status cannot change back, and
    an edit cannot cancel (cancelling tells people, so it has its own action)."""
    with pytest.raises(ValidationError, match="Cancel an event with"):
        services.event_update(actor=organiser, event=event, status=Event.Status.CANCELLED)
    services.event_cancel(actor=organiser, event=event)
    event.refresh_from_db()
    services.event_update(actor=organiser, event=event, summary="Postponed to the autumn.",
                          status=Event.Status.CANCELLED)
    with pytest.raises(ValidationError, match="stays cancelled"):
        services.event_update(actor=organiser, event=event, status=Event.Status.PUBLISHED)
    event.refresh_from_db()
    assert (event.status, event.summary) == (Event.Status.CANCELLED, "Postponed to the autumn.")


def test_only_organisers_change_events(event):
    """A plain member and another organisation's editor may not edit or cancel."""
    other_editor = MembershipFactory(role=Membership.Role.EDITOR).user
    for actor in (UserFactory(), other_editor):
        with pytest.raises(PermissionDenied):
            services.event_update(actor=actor, event=event, capacity=10)
        with pytest.raises(PermissionDenied):
            services.event_cancel(actor=actor, event=event)


def test_named_organiser_can_edit(event):
    """A member named as an organiser may edit the event without an organisation role."""
    helper = UserFactory()
    event.organisers.add(helper)
    services.event_update(actor=helper, event=event, capacity=10)
    event.refresh_from_db()
    assert event.capacity == 10


def test_create_checks_organisation_and_agenda(organiser):
    """An organiser creates events only for an organisation they edit for; a bad agenda line
    is named."""
    org = organiser.memberships.first().organisation
    other = MembershipFactory().organisation
    start = timezone.now() + timedelta(days=3)
    fields = dict(title="Forum", summary="S", format=Event.Format.ONLINE, starts_at=start,
                  ends_at=start + timedelta(hours=1), status=Event.Status.PUBLISHED,
                  audience=Event.Audience.PUBLIC)
    with pytest.raises(ValidationError) as error:
        services.event_create(actor=organiser, organisation=other, **fields)
    assert "organisation" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.event_create(actor=organiser, organisation=org,
                              agenda="10:00 Welcome — Chair\n25:99 Broken", **fields)
    assert "line 2" in str(error.value)
    assert not Event.objects.filter(title="Forum").exists()
    event = services.event_create(actor=organiser, organisation=org,
                                  agenda="10:00 Welcome — Chair\nLunch", **fields)
    assert [(i.title, i.speaker) for i in event.agenda.all()] == [("Welcome", "Chair"),
                                                                  ("Lunch", "")]
    assert services.agenda_text(event) == "10:00 Welcome — Chair\nLunch"
    assert organiser in event.organisers.all()
    with pytest.raises(PermissionDenied):
        services.event_create(actor=UserFactory(), organisation=org, **fields)


def test_in_person_event_needs_a_venue(organiser):
    start = timezone.now() + timedelta(days=3)
    with pytest.raises(ValidationError) as error:
        services.event_create(actor=organiser, title="Meeting", summary="S",
                              format=Event.Format.IN_PERSON, starts_at=start,
                              ends_at=start + timedelta(hours=1),
                              organisation=organiser.memberships.first().organisation)
    assert "venue" in error.value.message_dict


def test_changing_time_raises_sequence(event, organiser):
    """A change of time or place raises the calendar sequence; other changes do not."""
    services.event_update(actor=organiser, event=event, summary="New summary")
    event.refresh_from_db()
    assert event.sequence == 0
    services.event_update(actor=organiser, event=event,
                          starts_at=event.starts_at + timedelta(hours=1),
                          ends_at=event.ends_at + timedelta(hours=1))
    event.refresh_from_db()
    assert event.sequence == 1


def test_followup_links_only_resources_the_organiser_sees(event, organiser):
    from hub.library.models import Resource, Tier
    from hub.library.tests.factories import ResourceFactory

    Event.objects.filter(pk=event.pk).update(starts_at=timezone.now() - timedelta(days=2),
                                             ends_at=timezone.now() - timedelta(days=1))
    event.refresh_from_db()
    public = ResourceFactory(metadata_tier=Tier.PUBLIC)
    hidden = ResourceFactory(metadata_tier=Tier.RESTRICTED, file_tier=Tier.RESTRICTED)
    hidden_draft = ResourceFactory(status=Resource.Status.DRAFT)
    services.event_followup(actor=organiser, event=event, notes="We agreed things.",
                            resources=[public, hidden, hidden_draft])
    assert list(event.resources.all()) == [public]


def test_followup_waits_for_the_event(event, organiser):
    with pytest.raises(ValidationError, match="once the event has begun"):
        services.event_followup(actor=organiser, event=event, notes="Too soon", resources=[])


def test_accessibility_needs_kept_then_purged():
    """Needs are stored for the organisers and deleted 30 days after the event; cancelling
    deletes them at once."""
    event = EventFactory(capacity=None)
    kept = register(event, accessibility_needs="Step-free access please")
    dropped = register(event, accessibility_needs="A hearing loop")
    services.registration_cancel(actor=dropped.user, registration=dropped)
    dropped.refresh_from_db()
    assert dropped.accessibility_needs == ""
    assert services.accessibility_needs_purge() == 0
    Event.objects.filter(pk=event.pk).update(starts_at=timezone.now() - timedelta(days=32),
                                             ends_at=timezone.now() - timedelta(days=31))
    assert services.accessibility_needs_purge() == 1
    kept.refresh_from_db()
    assert kept.accessibility_needs == ""


def test_calendar_feed_reset_replaces_token():
    person = UserFactory()
    first = services.calendar_feed_reset(actor=person)
    second = services.calendar_feed_reset(actor=person)
    assert first != second and len(second) >= 40
    from hub.community.models import CalendarFeed, token_hash

    assert CalendarFeed.objects.get(user=person).token_hash == token_hash(second)
    services.calendar_feed_stop(actor=person)
    assert not CalendarFeed.objects.filter(user=person).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'",
                    reason="true concurrency needs PostgreSQL's row locks")
def test_two_people_racing_for_the_last_place():
    """Two registrations at once for the last place: one gets it, the other waits."""
    event = EventFactory(capacity=1)
    people = [UserFactory(), UserFactory()]
    barrier = threading.Barrier(2)
    results = []

    def go(person):
        try:
            barrier.wait()
            results.append(register(event, person).status)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=go, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [CONFIRMED, WAITING]
    assert event.registrations.filter(status=CONFIRMED).count() == 1
    assert connection.vendor == "postgresql"
