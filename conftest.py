"""Fixtures shared by every app's tests: the cast of actors the access policy knows."""

from dataclasses import dataclass, field

import pytest
from django.core.cache import cache, caches
from django.core.management import call_command

from hub.core.services import audit_record
from hub.members.models import Membership, Organisation, Profile, User
from hub.members.services import invitation_create
from hub.members.tests.factories import (
    ApplicationFactory,
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    enrol_mfa,
)


@pytest.fixture(scope="session", autouse=True)
def _static_files(django_db_blocker):
    """Collect static files once, as a deployment does, so pages render with the manifest."""
    call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture(autouse=True)
def _test_settings(request, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    # Real hashing takes a deliberate second per password; tests make hundreds of accounts.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Sign-in throttling counts in the shared cache, which outlives each test's database.
    uses_db = {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    if uses_db or request.node.get_closest_marker("django_db"):
        cache.clear()
        caches["template_fragments"].clear()  # shared fragments, kept in this process
        caches["people"].clear()  # signed-in people, kept in this process
        caches["library_results"].clear()


@pytest.fixture(autouse=True)
def _empty_search_index(request):
    """Flushing the database between transactional tests leaves the search index alone, as it
    is not a model: empty it so one test's entries cannot surface in another's results."""
    marker = request.node.get_closest_marker("django_db")
    transactional = {"transactional_db", "live_server"} & set(request.fixturenames) or (
        marker and marker.kwargs.get("transaction"))
    if transactional:
        request.getfixturevalue("transactional_db")
        import importlib

        from django.apps import apps

        from hub.library import search

        search.clear()
        # Flushing also empties the vocabularies a data migration made; put them back.
        importlib.import_module(
            "hub.library.migrations.0002_search_index_and_vocabularies").seed(apps, None)


@dataclass
class World:
    """Two organisations (A is a partner, B another partner, C not a partner) and one person
    for each kind of actor, plus objects whose visibility differs."""

    org_a: Organisation
    org_b: Organisation
    org_c: Organisation
    actors: dict[str, User | None] = field(default_factory=dict)
    profiles: dict[str, Profile] = field(default_factory=dict)
    applications: dict = field(default_factory=dict)
    events: dict = field(default_factory=dict)


ACTORS = [
    "visitor", "applicant", "member", "partner_member", "editor_a", "approver_a", "admin_a",
    "admin_a_no_mfa", "admin_b", "moderator", "staff", "staff_no_mfa", "deactivated",
]


def build_world() -> World:
    org_a = OrganisationFactory(name="Alpha Forum", slug="alpha", is_partner=True)
    org_b = OrganisationFactory(name="Beta Police Unit", slug="beta", is_partner=True,
                                kind=Organisation.Kind.POLICE)
    org_c = OrganisationFactory(name="Gamma Youth Club", slug="gamma", is_partner=False)
    world = World(org_a, org_b, org_c)
    a = world.actors
    a["visitor"] = None
    a["applicant"] = UserFactory(standing=User.Standing.APPLICANT,
                                 profile__display_name="Applicant Person")
    a["member"] = UserFactory(profile__display_name="Plain Member")
    a["partner_member"] = MembershipFactory(
        organisation=org_a, user__profile__display_name="Partner Member").user
    for key, org, role, mfa in [
        ("editor_a", org_a, Membership.Role.EDITOR, False),
        ("approver_a", org_a, Membership.Role.APPROVER, True),
        ("admin_a", org_a, Membership.Role.ADMIN, True),
        ("admin_a_no_mfa", org_a, Membership.Role.ADMIN, False),
        ("admin_b", org_b, Membership.Role.ADMIN, True),
    ]:
        user = MembershipFactory(organisation=org, role=role,
                                 user__profile__display_name=key.replace("_", " ").title()).user
        if mfa:
            enrol_mfa(user)
        a[key] = user
    a["moderator"] = UserFactory(is_moderator=True, profile__display_name="Mod Person")
    enrol_mfa(a["moderator"])
    a["staff"] = UserFactory(is_staff=True, profile__display_name="Staff Person")
    enrol_mfa(a["staff"])
    a["staff_no_mfa"] = UserFactory(is_staff=True, profile__display_name="Staff Unenrolled")
    a["deactivated"] = UserFactory(is_active=False, profile__display_name="Gone Person")

    # Profiles of one member of organisation C under each visibility, plus the odd cases.
    for visibility in Profile.Visibility.values:
        user = MembershipFactory(
            organisation=org_c, user__profile__display_name=f"Subject {visibility}",
            user__profile__visibility=visibility).user
        world.profiles[visibility] = user.profile
    world.profiles["applicant"] = a["applicant"].profile
    world.profiles["deactivated"] = a["deactivated"].profile
    Profile.objects.filter(pk=world.profiles["applicant"].pk).update(
        visibility=Profile.Visibility.PUBLIC)
    Profile.objects.filter(pk=world.profiles["deactivated"].pk).update(
        visibility=Profile.Visibility.PUBLIC)
    for p in world.profiles.values():
        p.refresh_from_db()

    world.applications["to_a"] = ApplicationFactory(organisation=org_a)
    world.applications["to_b"] = ApplicationFactory(organisation=org_b)
    world.applications["to_none"] = ApplicationFactory(organisation=None)
    world.applications["own"] = ApplicationFactory(user=a["applicant"], organisation=org_a)

    for org, admin in ((org_a, a["admin_a"]), (org_b, a["admin_b"])):
        invitation_create(organisation=org, invited_by=admin)
    world.events["a"] = audit_record(actor=None, action="test.a", organisation=org_a)
    world.events["b"] = audit_record(actor=None, action="test.b", organisation=org_b)
    world.events["none"] = audit_record(actor=None, action="test.none")
    return world


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def member(db) -> User:
    return UserFactory(profile__display_name="Member Fixture")


@pytest.fixture
def staff(db) -> User:
    user = UserFactory(is_staff=True, profile__display_name="Staff Fixture")
    enrol_mfa(user)
    return user
