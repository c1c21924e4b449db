"""The events list is rendered once per audience and shared: people who share a key see the
same events, a change shows at once, and nobody is served another audience's copy."""

import pytest
from django.test import Client
from django.urls import reverse

from hub import policy
from hub.community import services
from hub.community.models import Event, Registration
from hub.community.tests.factories import EventFactory
from hub.members.models import Membership
from hub.members.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("community:home")


def page_for(user=None) -> str:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client.get(LIST).content.decode()


def test_people_who_share_a_key_see_exactly_the_same_events(world):
    organiser = UserFactory(profile__display_name="Named Organiser")
    EventFactory(title="Open to all")
    EventFactory(title="Members only", audience=Event.Audience.MEMBERS)
    EventFactory(title="Still a draft", status=Event.Status.DRAFT,
                 organisation=world.org_a)
    EventFactory(title="Organised by a member", status=Event.Status.DRAFT).organisers.add(
        organiser)
    people = {**world.actors, "organiser": organiser}
    seen = {}
    for role, person in people.items():
        key = policy.events_audience(person)
        visible = set(policy.visible_events(person, Event.objects.all()).values_list(
            "pk", flat=True))
        if key is not None:
            seen.setdefault(key, visible)
            assert seen[key] == visible, role
    assert policy.events_audience(None) == "visitors"
    assert policy.events_audience(world.actors["member"]) == "members"
    for role in ("editor_a", "admin_a", "staff", "organiser"):
        assert policy.events_audience(people[role]) is None, role


def test_a_change_shows_at_once_and_audiences_never_mix(world):
    member = world.actors["member"]
    EventFactory(title="Open to all", capacity=2)
    EventFactory(title="Members only", audience=Event.Audience.MEMBERS)
    # The members' copy is made first; visitors must still get their own.
    assert "Members only" in page_for(member)
    visitor_page = page_for()
    assert "Open to all" in visitor_page and "Members only" not in visitor_page
    assert "2 places left" in page_for()

    # A registration changes the places left for everyone at once.
    event = Event.objects.get(title="Open to all")
    services.registration_create(actor=member, event=event)
    assert "1 place left" in page_for()
    assert "1 place left" in page_for(world.actors["partner_member"])

    # A new event and an edit appear at once too.
    EventFactory(title="Announced later")
    assert "Announced later" in page_for()
    Event.objects.filter(pk=event.pk).first().delete()
    assert "Open to all" not in page_for()


def test_organisers_see_their_drafts_and_never_a_shared_copy(world):
    editor = world.actors["editor_a"]
    EventFactory(title="Public one")
    page_for(world.actors["member"])  # fill the shared copies
    page_for()
    EventFactory(title="Alpha draft", status=Event.Status.DRAFT, organisation=world.org_a)
    assert "Alpha draft" in page_for(editor)
    assert "Alpha draft" not in page_for(world.actors["member"])
    # Becoming an editor moves a member off the shared copy at once.
    newcomer = MembershipFactory(organisation=world.org_a, role=Membership.Role.MEMBER).user
    assert "Alpha draft" not in page_for(newcomer)
    membership = Membership.objects.get(user=newcomer)
    membership.role = Membership.Role.EDITOR
    membership.save()
    policy.forget(newcomer)
    assert "Alpha draft" in page_for(newcomer)


def test_waiting_list_badge_follows_cancellations(world):
    member, other = world.actors["member"], world.actors["partner_member"]
    event = EventFactory(title="Tiny workshop", capacity=1)
    services.registration_create(actor=member, event=event)
    assert "Full: waiting list" in page_for()
    services.registration_create(actor=other, event=event)
    registration = Registration.objects.get(user=member)
    services.registration_cancel(actor=member, registration=registration)
    page = page_for()
    assert "Full: waiting list" in page  # the waiting person took the place
    Registration.objects.filter(user=other).delete()
    assert "1 place left" in page_for()


def test_the_shared_page_offers_each_person_only_their_own_actions(world):
    """The whole page is shared, not just the list: a copy made for visitors never offers
    "My events", and nobody on a shared copy is offered "Add an event"."""
    EventFactory(title="Open to all")
    assert "My events" not in page_for()
    member_page = page_for(world.actors["member"])
    assert "My events" in member_page and "Add an event" not in member_page
    assert "My events" not in page_for()
    editor_page = page_for(world.actors["editor_a"])
    assert "Add an event" in editor_page
    assert "Add an event" not in page_for(world.actors["partner_member"])


def test_filters_and_pages_each_get_their_own_copy(world):
    """The heading, the filter's choice and the events follow the address, copy or not."""
    EventFactory(title="Met online", format=Event.Format.ONLINE)
    EventFactory(title="Met in the hall", format=Event.Format.IN_PERSON)
    client = Client()
    for _ in range(2):
        online = client.get(LIST, {"format": "online"}).content.decode()
        assert "Met online" in online and "Met in the hall" not in online
        assert '<option value="online" selected>' in online
        everything = client.get(LIST).content.decode()
        assert "Met online" in everything and "Met in the hall" in everything
        assert "Upcoming events" in everything
        assert "Past events</h2>" in client.get(LIST, {"when": "past"}).content.decode()


def test_a_visitor_served_from_the_shared_copy_costs_no_queries(
        world, django_assert_max_num_queries):
    """Once made, the visitors' copy is served without the database (the version of the list
    is read from the shared cache at most once a second per process)."""
    for n in range(25):
        EventFactory(title=f"Counted {n}")
    client = Client()
    client.get(LIST)
    with django_assert_max_num_queries(1):
        body = client.get(LIST).content.decode()
    assert "Counted 0" in body and "Page 1 of 2" in body
