"""The signed-in person kept per web process (hub/members/backends.py, caching.py).

A kept copy saves each signed-in request its account and roles queries. These tests check
that it does, and that nothing it keeps outlives a change: roles, two-step sign-in, standing,
deactivation and a new password count on the very next request, including a change made by
another web process, which reaches this one only through the shared people version.
"""

import pytest
from django.contrib.auth import get_user
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from hub.members import caching, services
from hub.members.models import Membership, User
from hub.members.tests.factories import MembershipFactory, UserFactory, enrol_mfa

pytestmark = pytest.mark.django_db

BANNER = "Your role in the hub needs two-step sign-in"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def home(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_kept_person_spares_the_account_and_roles_queries():
    """The second request of a signed-in member reads their session and the people version,
    but neither their account nor their memberships."""
    client = signed_in(MembershipFactory().user)
    home(client)
    with CaptureQueriesContext(connection) as queries:
        assert "Sign out" in home(client)
    tables = " ".join(q["sql"] for q in queries.captured_queries)
    assert '"members_user"' not in tables
    assert '"members_membership"' not in tables
    assert "people:version" in tables


def test_role_and_two_step_changes_count_at_once():
    """Becoming an approver shows the two-step banner on the next page; enrolling hides it;
    going back to a plain member keeps it hidden."""
    membership = MembershipFactory()
    admin = MembershipFactory(organisation=membership.organisation,
                              role=Membership.Role.ADMIN).user
    enrol_mfa(admin)
    client = signed_in(membership.user)
    assert BANNER not in home(client)
    services.membership_set_role(membership=membership, actor=admin,
                                 role=Membership.Role.APPROVER)
    assert BANNER in home(client)
    enrol_mfa(membership.user)
    assert BANNER not in home(client)


def test_deactivation_and_a_new_password_sign_the_person_out():
    person = UserFactory()
    staff = UserFactory(is_staff=True)
    enrol_mfa(staff)
    client = signed_in(person)
    assert "Sign out" in home(client)
    services.user_deactivate(user=User.objects.get(pk=person.pk), actor=staff)
    assert "Sign out" not in home(client)

    other = UserFactory()
    client = signed_in(other)
    assert "Sign out" in home(client)
    other.set_password("a-completely-new-passphrase")
    other.save()
    assert "Sign out" not in home(client)


def test_a_change_made_by_another_process_counts_at_once():
    """Another web process changes the rows and the shared people version, and nothing in
    this process: the kept copy must not be used again."""
    membership = MembershipFactory()
    client = signed_in(membership.user)
    assert "Sign out" in home(client)
    request = client.get("/").wsgi_request
    assert request.user.standing == User.Standing.MEMBER

    # What another process's write leaves behind: new rows (written here without signals)
    # and a new version in the shared cache.
    User.objects.filter(pk=membership.user_id).update(is_active=False)
    cache.set(caching.VERSION_KEY, "set-by-another-process", timeout=None)
    assert "Sign out" not in home(client)


def test_each_request_gets_its_own_person():
    """What one request sets on its user object never reaches the next request's."""
    client = signed_in(MembershipFactory().user)
    first = client.get("/").wsgi_request
    user = get_user(first)
    user.note_from_first_request = True
    second = get_user(client.get("/").wsgi_request)
    assert second.pk == user.pk
    assert second is not user
    assert not hasattr(second, "note_from_first_request")


def test_a_session_for_a_missing_account_is_no_one():
    person = UserFactory()
    client = signed_in(person)
    home(client)
    User.objects.filter(pk=person.pk).delete()
    assert "Sign out" not in home(client)


def test_signing_in_keeps_everyone_elses_copy():
    """Signing in stamps the account's last sign-in and the two-step device's last use: neither
    changes who anyone is, so neither makes a new people version (nor empties the library's
    shared results). Any other save of the same rows does."""
    from allauth.mfa.models import Authenticator
    from django.contrib.auth.models import update_last_login

    person = UserFactory()
    enrol_mfa(person)
    before = caching.version()
    update_last_login(None, person)
    device = Authenticator.objects.filter(user=person).first()
    device.record_usage()
    assert caching.version() == before
    person.is_moderator = True
    person.save(update_fields=["is_moderator", "last_login"])
    assert caching.version() != before


def test_a_kept_person_reads_their_last_sign_in_afresh():
    """The last sign-in is never kept: asked for, it is read from the row, so a save of the
    kept person cannot write an old value back."""
    client = signed_in(MembershipFactory().user)
    home(client)
    request = client.get("/").wsgi_request
    user = get_user(request)
    assert "last_login" in user.get_deferred_fields()
    fresh = User.objects.get(pk=user.pk).last_login
    assert user.last_login == fresh


def test_an_organisation_made_a_partner_counts_at_once():
    """Partner standing is kept with the person: a member's next request after staff make
    their organisation a partner opens partners-only resources, and closes them again after."""
    from hub.library.models import Tier
    from hub.library.tests.factories import ResourceFactory

    membership = MembershipFactory()
    organisation = membership.organisation
    staff = UserFactory(is_staff=True)
    enrol_mfa(staff)
    item = ResourceFactory(metadata_tier=Tier.PARTNERS, file_tier=Tier.PARTNERS)
    client = signed_in(membership.user)
    assert client.get(f"/library/{item.pk}/").status_code == 404
    services.organisation_update(organisation=organisation, actor=staff, is_partner=True)
    assert client.get(f"/library/{item.pk}/").status_code == 200
    organisation.refresh_from_db()
    services.organisation_update(organisation=organisation, actor=staff, is_partner=False)
    assert client.get(f"/library/{item.pk}/").status_code == 404
