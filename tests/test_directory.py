"""The directory of people and organisations: each profile's visibility decides who finds it,
in the list, its count and every filter; searches and filters narrow it; bad filter values
are named on the page and the rest still apply; queries do not grow with the rows listed."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hub import policy
from hub.members.models import Expertise, Organisation, Profile, User
from hub.members.tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    enrol_mfa,
)

pytestmark = pytest.mark.django_db

DIRECTORY = reverse("members:directory")
ORGANISATIONS = reverse("members:organisation_list")


def listed(client: Client, url: str = DIRECTORY, **params) -> tuple[int, str]:
    response = client.get(url, params)
    return response.status_code, response.content.decode()


@pytest.fixture
def people():
    """Profiles on every visibility, and accounts that must never be listed."""
    made = {}
    for visibility in Profile.Visibility:
        made[visibility.value] = UserFactory(
            profile__display_name=f"Shown {visibility.value.title()}person",
            profile__visibility=visibility).profile
    made["applicant"] = UserFactory(standing=User.Standing.APPLICANT,
                                    profile__display_name="Waiting Applicantperson",
                                    profile__visibility=Profile.Visibility.PUBLIC).profile
    closed = UserFactory(profile__display_name="Closed Accountperson",
                         profile__visibility=Profile.Visibility.PUBLIC)
    closed.is_active = False
    closed.save()
    made["closed"] = closed.profile
    return made


def viewers():
    staff = UserFactory(is_staff=True, profile__display_name="Staff Viewer",
                        profile__visibility=Profile.Visibility.PRIVATE)
    enrol_mfa(staff)
    deactivated = UserFactory(profile__display_name="Gone Viewer")
    deactivated.is_active = False
    deactivated.save()
    return {
        "visitor": None,
        "applicant": UserFactory(standing=User.Standing.APPLICANT,
                                 profile__display_name="Applicant Viewer"),
        "member": UserFactory(profile__display_name="Member Viewer",
                              profile__visibility=Profile.Visibility.PRIVATE),
        "staff": staff,
        "deactivated": deactivated,
    }


# Which of the fixture's profiles each viewer finds in the directory.
EXPECTED = {
    "visitor": {"public"},
    "applicant": {"public"},
    "deactivated": {"public"},
    "member": {"public", "members"},
    "staff": {"public", "members", "private"},
}


def test_each_viewer_finds_exactly_the_profiles_they_may_see(people):
    for role, viewer in viewers().items():
        client = Client()
        if viewer is not None:
            client.force_login(viewer)
        status, page = listed(client, q="person")
        assert status == 200, role
        found = {key for key, profile in people.items() if profile.display_name in page}
        assert found == EXPECTED[role], role
        assert f"{len(EXPECTED[role])} people match" in page or (
            len(EXPECTED[role]) == 1 and "1 person matches" in page), role
        # The list follows the same rule as a single profile's page.
        for key, profile in people.items():
            if key in found:
                assert policy.can_view_profile(viewer, profile), (role, key)
                assert client.get(profile.get_absolute_url()).status_code == 200, (role, key)
            elif key not in ("applicant", "closed"):
                assert client.get(profile.get_absolute_url()).status_code == 404, (role, key)


def test_members_see_their_own_private_profile_listed():
    me = UserFactory(profile__display_name="Private Selfperson",
                     profile__visibility=Profile.Visibility.PRIVATE)
    client = Client()
    client.force_login(me)
    assert "Private Selfperson" in listed(client, q="Selfperson")[1]
    assert "Private Selfperson" not in listed(Client(), q="Selfperson")[1]


def test_hidden_profiles_leave_no_trace_in_filters_or_counts():
    hidden = UserFactory(profile__display_name="Hidden Expert",
                         profile__visibility=Profile.Visibility.MEMBERS,
                         profile__sector="police", profile__country="IE")
    hidden.profile.expertise.add(Expertise.objects.create(name="Hate crime"))
    for params in ({"q": "Hidden"}, {"sector": "police"}, {"country": "IE"},
                   {"expertise": "Hate crime"}, {"q": "hate crime"}):
        status, page = listed(Client(), **params)
        assert status == 200
        assert "Hidden Expert" not in page and "0 people match" in page, params


def test_search_and_filters_narrow_the_list():
    org = OrganisationFactory(name="Harbour Youth Trust")
    tagged = Expertise.objects.create(name="Mentoring")
    amira = MembershipFactory(organisation=org, user__profile__display_name="Amira Okafor",
                              user__profile__sector="practice", user__profile__country="GB",
                              user__profile__bio="Runs a boxing club for teenagers.").user
    amira.profile.organisation = org
    amira.profile.save()
    amira.profile.expertise.add(tagged)
    UserFactory(profile__display_name="Brendan Walsh", profile__sector="police",
                profile__country="IE")
    viewer = UserFactory()
    client = Client()
    client.force_login(viewer)

    def names(**params):
        page = listed(client, **params)[1]
        return {name for name in ("Amira Okafor", "Brendan Walsh") if name in page}

    assert names(q="boxing") == {"Amira Okafor"}  # bio
    assert names(q="harbour") == {"Amira Okafor"}  # organisation
    assert names(q="mentor") == {"Amira Okafor"}  # expertise
    assert names(q="walsh") == {"Brendan Walsh"}  # name
    assert names(q="amira boxing") == {"Amira Okafor"}  # every word must match
    assert names(q="amira walsh") == set()
    assert names(sector="police") == {"Brendan Walsh"}
    assert names(country="GB", sector="practice") == {"Amira Okafor"}
    assert names(expertise="Mentoring") == {"Amira Okafor"}
    assert names() == {"Amira Okafor", "Brendan Walsh"}


def test_a_bad_filter_is_named_and_the_others_still_apply():
    UserFactory(profile__display_name="Brendan Walsh", profile__sector="police")
    UserFactory(profile__display_name="Carla Mendes", profile__sector="research")
    client = Client()
    client.force_login(UserFactory())
    status, page = listed(client, sector="police", country="XX", expertise="No such tag")
    assert status == 400
    assert "Some filters could not be used" in page
    assert "Select a valid choice" in page
    assert "Brendan Walsh" in page and "Carla Mendes" not in page


def test_the_directory_is_paged_and_keeps_its_filters():
    for n in range(30):
        UserFactory(profile__display_name=f"Paged Person{n:02d}", profile__sector="research",
                    profile__visibility=Profile.Visibility.PUBLIC)
    first = listed(Client(), sector="research")[1]
    assert "Page 1 of 2" in first and "sector=research&amp;page=2" in first
    second = listed(Client(), sector="research", page=2)[1]
    assert "Paged Person29" in second and "Paged Person00" not in second


def test_organisations_are_searchable_and_filterable():
    OrganisationFactory(name="Northfield Police", kind=Organisation.Kind.POLICE, country="GB",
                        is_partner=True)
    OrganisationFactory(name="Dublin Faith Forum", kind=Organisation.Kind.FAITH, country="IE",
                        description="Interfaith dialogue and youth work.")

    def names(**params):
        page = listed(Client(), ORGANISATIONS, **params)[1]
        return {n for n in ("Northfield Police", "Dublin Faith Forum") if n in page}

    assert names() == {"Northfield Police", "Dublin Faith Forum"}
    assert names(q="interfaith") == {"Dublin Faith Forum"}
    assert names(kind="police") == {"Northfield Police"}
    assert names(country="IE") == {"Dublin Faith Forum"}
    assert names(partners="on") == {"Northfield Police"}
    status, page = listed(Client(), ORGANISATIONS, kind="bogus", country="GB")
    assert status == 400 and "Some filters could not be used" in page
    assert "Northfield Police" in page and "Dublin Faith Forum" not in page


def test_directory_queries_do_not_grow_with_the_rows_listed():
    client = Client()
    client.force_login(UserFactory())
    expertise = [Expertise.objects.create(name=f"Topic {n}") for n in range(3)]

    def add(count, start):
        for n in range(start, start + count):
            org = OrganisationFactory(name=f"Counted Org {n}")
            person = MembershipFactory(organisation=org,
                                       user__profile__display_name=f"Counted {n}").user
            person.profile.organisation = org
            person.profile.save()
            person.profile.expertise.add(*expertise)

    def count(url):
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    add(3, 0)
    before = (count(DIRECTORY), count(ORGANISATIONS))
    add(15, 3)
    assert (count(DIRECTORY), count(ORGANISATIONS)) == before
