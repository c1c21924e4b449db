"""Events' access rules as a full matrix, asked through every surface.

Eleven actors × five kinds of event (public, members-only, a draft, a cancelled public one
and a cancelled members-only one). The expected answer for each combination is written out
below from the rules in the policy's comment, in plain Python and without asking the policy,
then compared with the predicates, their queryset twin, the list page, the event page, the
joining link, the registrations page, the edit page and "My events". A forbidden event must
answer exactly like a missing one (404).
"""

import re
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.urls import reverse

from hub import policy
from hub.community.models import Event, Registration
from hub.community.tests.factories import EventFactory
from hub.members.models import Membership, User
from hub.members.tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    enrol_mfa,
)

pytestmark = pytest.mark.django_db

ACTORS = ["visitor", "applicant", "member", "organiser", "org_admin", "named_organiser",
          "other_editor", "registrant", "waiting", "staff", "staff_no_mfa", "deactivated"]
KINDS = ["public", "members", "draft", "cancelled", "cancelled_members"]

SIGNED_OUT = {"visitor", "deactivated"}
MEMBERS = set(ACTORS) - SIGNED_OUT - {"applicant"}
# The events belong to organisation A, whose editor and admin run them; one member is named
# as an organiser of every event. Staff (with two-step sign-in) run every event.
RUNNERS = {"organiser", "org_admin", "named_organiser", "staff"}
SPEC = {
    "public": ("published", "public"),
    "members": ("published", "members"),
    "draft": ("draft", "public"),
    "cancelled": ("cancelled", "public"),
    "cancelled_members": ("cancelled", "members"),
}


def sees(actor: str, kind: str) -> bool:
    status, audience = SPEC[kind]
    if actor in RUNNERS:
        return True
    if status == "draft":
        return False
    return audience == "public" or actor in MEMBERS


def sees_link(actor: str, kind: str) -> bool:
    """Runners always; otherwise only a confirmed place at an event that still stands."""
    if actor in RUNNERS:
        return True
    return actor == "registrant" and SPEC[kind][0] == "published" and sees(actor, kind)


def manages(actor: str) -> bool:
    return actor in RUNNERS


@dataclass
class World:
    actors: dict
    events: dict


@pytest.fixture
def world() -> World:
    org_a = OrganisationFactory(name="Alpha Forum", slug="alpha")
    org_b = OrganisationFactory(name="Beta Unit", slug="beta")
    a = {"visitor": None}
    a["applicant"] = UserFactory(standing=User.Standing.APPLICANT)
    a["member"] = UserFactory()
    a["organiser"] = MembershipFactory(organisation=org_a, role=Membership.Role.EDITOR).user
    a["org_admin"] = MembershipFactory(organisation=org_a, role=Membership.Role.ADMIN).user
    enrol_mfa(a["org_admin"])
    a["named_organiser"] = UserFactory()
    a["other_editor"] = MembershipFactory(organisation=org_b, role=Membership.Role.EDITOR).user
    a["registrant"] = UserFactory()
    a["waiting"] = UserFactory()
    a["staff"] = UserFactory(is_staff=True)
    enrol_mfa(a["staff"])
    a["staff_no_mfa"] = UserFactory(is_staff=True)
    a["deactivated"] = UserFactory(is_active=False)
    events = {}
    for kind, (status, audience) in SPEC.items():
        event = EventFactory(title=f"Event-{kind}-title", slug=f"event-{kind}", status=status,
                             audience=audience, organisation=org_a, capacity=1,
                             joining_link=f"https://meet.example.org/link-{kind}")
        event.organisers.add(a["named_organiser"])
        Registration.objects.create(event=event, user=a["registrant"], status="confirmed",
                                    accessibility_needs=f"needs-{kind}")
        Registration.objects.create(event=event, user=a["waiting"], status="waiting")
        events[kind] = event
    return World(a, events)


def _shape(response, path: str) -> tuple:
    """A response without what legitimately differs between two requests: the masked CSRF
    token and the address asked for."""
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return response.status_code, body.replace(path, "PATH")


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_policy_predicates_and_queryset_twin_agree_with_the_table(world):
    """can_view_event, visible_events, can_see_joining_link and can_manage_event give the
    table's answer for every actor and event."""
    wrong = []
    for actor in ACTORS:
        user = world.actors[actor] or AnonymousUser()
        listed = set(policy.visible_events(user, Event.objects.all())
                     .values_list("slug", flat=True))
        for kind, event in world.events.items():
            expected = sees(actor, kind)
            got = {
                "view": policy.can_view_event(user, event),
                "list": event.slug in listed,
                "link": policy.can_see_joining_link(user, event),
                "manage": policy.can_manage_event(user, event),
                "registrations": policy.can_view_registrations(user, event),
            }
            want = {"view": expected, "list": expected, "link": sees_link(actor, kind),
                    "manage": manages(actor), "registrations": manages(actor)}
            if got != want:
                wrong.append(f"{actor} × {kind}: got {got}, want {want}")
    assert not wrong, "\n".join(wrong)


def test_pages_answer_as_the_table_says(world):
    """The list, the event page (with or without the joining link), the registrations and
    edit pages: each actor gets what the table says, and a forbidden event is a 404 like a
    missing one."""
    wrong = []
    for actor in ACTORS:
        client = client_for(world.actors[actor])
        listing = client.get(reverse("community:home")).content.decode()
        missing_path = reverse("community:event_detail", args=["no-such-event"])
        missing = client.get(missing_path)
        assert missing.status_code == 404
        for kind, event in world.events.items():
            if (f"Event-{kind}-title" in listing) != sees(actor, kind):
                wrong.append(f"{actor} × {kind}: list")
            path = reverse("community:event_detail", args=[event.slug])
            page = client.get(path)
            if page.status_code != (200 if sees(actor, kind) else 404):
                wrong.append(f"{actor} × {kind}: detail {page.status_code}")
            if page.status_code == 404 and _shape(page, path) != _shape(missing, missing_path):
                wrong.append(f"{actor} × {kind}: forbidden differs from missing")
            shown = f"link-{kind}" in page.content.decode()
            if shown != (sees_link(actor, kind) and sees(actor, kind)):
                wrong.append(f"{actor} × {kind}: joining link shown={shown}")
            if f"needs-{kind}" in page.content.decode():
                wrong.append(f"{actor} × {kind}: accessibility needs on the event page")
            for name in ("event_registrations", "event_edit", "event_cancel",
                         "event_followup"):
                response = client.get(reverse(f"community:{name}", args=[event.slug]))
                if actor in SIGNED_OUT:
                    want = 302
                else:
                    want = 200 if manages(actor) else 404
                if response.status_code != want:
                    wrong.append(f"{actor} × {kind}: {name} {response.status_code}")
                if name == "event_registrations" and response.status_code == 200 and \
                        f"needs-{kind}" not in response.content.decode():
                    wrong.append(f"{actor} × {kind}: needs missing for organisers")
    assert not wrong, "\n".join(wrong)


def test_registering_follows_visibility(world):
    """A POST to register for an event one may not see is a 404; for one one may see, it is
    taken or refused with a reason (drafts and cancelled events take no registrations)."""
    wrong = []
    newcomers = {"member": UserFactory(), "applicant": world.actors["applicant"]}
    for actor, user in newcomers.items():
        client = client_for(user)
        for kind, event in world.events.items():
            response = client.post(reverse("community:register", args=[event.slug]))
            if not sees(actor, kind) or actor == "applicant":
                want = {404}
            elif kind in ("public", "members"):
                want = {302}
            else:
                want = {400}
            if response.status_code not in want:
                wrong.append(f"{actor} × {kind}: register {response.status_code}")
    assert not wrong, "\n".join(wrong)


def test_my_events_lists_only_visible_events(world):
    """The registrant registered at every event, drafts included (as the fixture forces);
    their own page lists only the events they may still see."""
    client = client_for(world.actors["registrant"])
    page = client.get(reverse("community:my_events")).content.decode()
    for kind in KINDS:
        assert (f"Event-{kind}-title" in page) == sees("registrant", kind), kind


def test_feed_lists_only_visible_confirmed_events(world):
    from hub.community import services

    token = services.calendar_feed_reset(actor=world.actors["registrant"])
    body = Client().get(reverse("community:calendar_feed", args=[token])).content.decode()
    for kind in KINDS:
        assert (f"Event-{kind}-title" in body) == sees("registrant", kind), kind
    waiting = services.calendar_feed_reset(actor=world.actors["waiting"])
    body = Client().get(reverse("community:calendar_feed", args=[waiting])).content.decode()
    assert "Event-" not in body
