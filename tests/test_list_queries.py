"""The number of queries a list page makes does not grow with the number of rows it lists.

Each page is fetched once to warm caches, counted, then fetched again after more rows of every
kind it shows are added; the two counts must be equal.
"""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hub.assessment import services as assessment
from hub.assessment.models import Initiative, Perspective, Programme
from hub.community import services as events
from hub.community.tests.factories import EventFactory
from hub.library.models import Resource, Tier
from hub.library.tests.factories import ResourceFactory, add_text_file
from hub.members.models import Membership
from hub.members.tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = timezone.timedelta(days=1)


class World:
    def __init__(self):
        self.org = OrganisationFactory(name="Counting Forum", slug="counting", is_partner=True)
        self.editor = MembershipFactory(organisation=self.org, role=Membership.Role.EDITOR).user
        self.programme = Programme.objects.create(
            name="Counted programme", area="Northfield", organisation=self.org,
            audience="members", created_by=self.editor)
        self.made = 0

    def add(self, count: int) -> None:
        """``count`` more of everything the list pages show."""
        for _ in range(count):
            self.made += 1
            n = self.made
            resource = ResourceFactory(title=f"Counted report {n}", organisation=self.org,
                                       contributor=self.editor,
                                       metadata_tier=Tier.MEMBERS if n % 2 else Tier.PUBLIC)
            add_text_file(resource, text=f"Counted text {n}")
            ResourceFactory(title=f"Counted draft {n}", organisation=self.org,
                            contributor=self.editor, status=Resource.Status.SUBMITTED)
            OrganisationFactory(name=f"Counted organisation {n}", slug=f"counted-{n}")
            initiative = assessment.create_initiative(
                self.editor, name=f"Counted initiative {n}", area="Northfield", country="GB",
                lead_organisation=self.org, kind=Initiative.Kind.OTHER,
                description="Counted.", audience="members")
            self.programme.initiatives.add(initiative)
            round_ = assessment.open_round(self.editor, initiative, title=f"Round {n}",
                                           opens_at=timezone.now() - DAY,
                                           closes_at=timezone.now() + DAY)
            event = EventFactory(title=f"Counted event {n}", organisation=self.org, capacity=2,
                                 audience="members" if n % 2 else "public")
            for _ in range(3):
                events.registration_create(actor=UserFactory(), event=event)
            people = [MembershipFactory(organisation=self.org).user for _ in range(3)]
            assessment.invite_members(self.editor, round_, [p.email for p in people])
            key = next(iter(round_.instrument.indicators))
            for person in people:
                response = assessment.start_member_response(person, round_, Perspective.POLICE)
                assessment.save_answer(person, response, key, value=4, note="Counted note")
                assessment.submit_response(person, response)


PAGES = [
    ("library:home", {}),
    ("library:home", {"q": "counted"}),
    ("library:mine", {}),
    ("library:curation", {}),
    ("members:organisation_list", {}),
    ("assessment:home", {}),
    ("programme", {}),
    ("compare", {}),
    ("community:home", {}),
    ("community:home", {"format": "hybrid"}),
]


def _url(world, name, params):
    if name == "programme":
        return reverse("assessment:programme", args=[world.programme.pk]), {}
    if name == "compare":
        ids = list(world.programme.initiatives.values_list("pk", flat=True))
        return reverse("assessment:compare"), {"initiative": ids}
    return reverse(name), params


def _count(client, url, params) -> int:
    client.get(url, params)  # warm: sessions, caches, the instrument
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, url
    return len(queries)


@pytest.mark.parametrize("viewer", ["visitor", "member", "editor"])
def test_list_pages_make_as_many_queries_for_many_rows_as_for_few(viewer):
    world = World()
    world.add(2)
    client = Client()
    if viewer == "member":
        client.force_login(UserFactory())
    elif viewer == "editor":
        client.force_login(world.editor)
    signed_in_only = {"library:mine", "programme"}
    pages = [(name, params) for name, params in PAGES
             if (viewer != "visitor" or name not in signed_in_only)
             and (viewer == "editor" or name != "library:curation")]
    few = {(name, str(params)): _count(client, *_url(world, name, params))
           for name, params in pages}
    world.add(4)
    many = {(name, str(params)): _count(client, *_url(world, name, params))
            for name, params in pages}
    assert many == few
