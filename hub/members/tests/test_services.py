from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from hub.core.models import AuditEvent
from hub.members import services
from hub.members.models import Application, Invitation, Membership, Profile, User
from hub.members.tests.factories import (
    ApplicationFactory,
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    enrol_mfa,
)

pytestmark = pytest.mark.django_db


def run_worker():
    """Let the real database task worker send what is queued, then stop."""
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


@pytest.fixture
def org_admin():
    membership = MembershipFactory(role=Membership.Role.ADMIN)
    enrol_mfa(membership.user)
    return membership.user


@pytest.mark.django_db(transaction=True)
def test_application_approve_makes_member_and_joins_named_org(org_admin):
    """Approval by the named organisation's admin admits the person to the hub and to it,
    and the task worker mails them the news once the decision is committed."""
    org = org_admin.memberships.get().organisation
    application = ApplicationFactory(organisation=org)
    services.application_approve(application=application, decided_by=org_admin)
    run_worker()
    application.user.refresh_from_db()
    assert application.user.standing == User.Standing.MEMBER
    assert Membership.objects.filter(user=application.user, organisation=org).exists()
    assert AuditEvent.objects.filter(action="application.approve", organisation=org).exists()
    assert [m.to for m in mail.outbox] == [[application.user.email]]
    assert "approved" in mail.outbox[0].body


@pytest.mark.django_db(transaction=True)
def test_new_application_notifies_deciders(org_admin, staff):
    """The named organisation's admins hear of a new application; without one, staff do."""
    org = org_admin.memberships.get().organisation
    services.application_submit(user=UserFactory(standing=User.Standing.APPLICANT),
                                display_name="Newcomer One", sector="police", organisation=org,
                                statement="Hello")
    services.application_submit(user=UserFactory(standing=User.Standing.APPLICANT),
                                display_name="Newcomer Two", sector="police", statement="Hi")
    run_worker()
    sent = {(m.to[0], "Newcomer One" in m.body) for m in mail.outbox}
    assert sent == {(org_admin.email, True), (staff.email, False)}


def test_application_decline_needs_a_reason(staff):
    """Declining without a reason is refused and changes nothing."""
    application = ApplicationFactory()
    with pytest.raises(ValidationError):
        services.application_decline(application=application, decided_by=staff, reason="  ")
    application.refresh_from_db()
    assert application.status == Application.Status.PENDING


def test_application_cannot_be_decided_twice(staff):
    """A decided application cannot be approved again by a second click."""
    application = ApplicationFactory()
    services.application_decline(application=application, decided_by=staff,
                                 reason="Outside the hub's remit.")
    with pytest.raises(PermissionDenied):
        services.application_approve(application=application, decided_by=staff)


def test_application_other_org_admin_cannot_decide(org_admin):
    """An admin of one organisation cannot decide an application naming another."""
    application = ApplicationFactory(organisation=OrganisationFactory())
    with pytest.raises(PermissionDenied):
        services.application_approve(application=application, decided_by=org_admin)


def test_invitation_accept_once_only(org_admin):
    """A link works once; a second use says it was used."""
    org = org_admin.memberships.get().organisation
    _, token = services.invitation_create(organisation=org, invited_by=org_admin,
                                          role=Membership.Role.EDITOR)
    newcomer = UserFactory(standing=User.Standing.APPLICANT)
    membership = services.invitation_accept(token=token, user=newcomer)
    newcomer.refresh_from_db()
    assert membership.role == Membership.Role.EDITOR
    assert newcomer.standing == User.Standing.MEMBER
    with pytest.raises(services.InvitationError) as problem:
        services.invitation_accept(token=token, user=UserFactory())
    assert problem.value.state == "used"


def test_invitation_expires(org_admin):
    """After its expiry the link says it has expired."""
    org = org_admin.memberships.get().organisation
    _, token = services.invitation_create(organisation=org, invited_by=org_admin, days=2)
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        with pytest.raises(services.InvitationError) as problem:
            services.invitation_accept(token=token, user=UserFactory())
    assert problem.value.state == "expired"


def test_invitation_revoked_and_unknown(org_admin):
    """A withdrawn link and a made-up one each get their own clear message."""
    org = org_admin.memberships.get().organisation
    invitation, token = services.invitation_create(organisation=org, invited_by=org_admin)
    services.invitation_revoke(invitation=invitation, actor=org_admin)
    with pytest.raises(services.InvitationError) as problem:
        services.invitation_check(token=token)
    assert problem.value.state == "revoked"
    with pytest.raises(services.InvitationError) as problem:
        services.invitation_check(token="not-a-real-token")
    assert problem.value.state == "unknown"


def test_invitation_stores_only_a_hash(org_admin):
    """The token itself is never stored."""
    org = org_admin.memberships.get().organisation
    invitation, token = services.invitation_create(organisation=org, invited_by=org_admin)
    assert token not in Invitation.objects.filter(pk=invitation.pk).values_list(
        "token_hash", flat=True).get()
    assert Invitation.objects.for_token(token).get() == invitation


def test_member_cannot_invite():
    """An ordinary member cannot make invitation links."""
    membership = MembershipFactory()
    with pytest.raises(PermissionDenied):
        services.invitation_create(organisation=membership.organisation,
                                   invited_by=membership.user)


def test_profile_update_rejects_foreign_organisation():
    """A member cannot claim to act for an organisation they do not belong to."""
    user = UserFactory()
    with pytest.raises(ValidationError):
        services.profile_update(profile=user.profile, actor=user,
                                organisation=OrganisationFactory())


def test_profile_update_only_by_owner():
    """Nobody edits someone else's profile through the service."""
    owner, other = UserFactory(), UserFactory()
    with pytest.raises(PermissionDenied):
        services.profile_update(profile=owner.profile, actor=other, display_name="Hijacked")


def test_profile_visibility_change_is_audited():
    """A change of who can see a profile leaves a record; the content does not."""
    user = UserFactory()
    services.profile_update(profile=user.profile, actor=user,
                            visibility=Profile.Visibility.PUBLIC, bio="Private words")
    event = AuditEvent.objects.get(action="profile.visibility")
    assert event.context == {"visibility": "public"}
    assert "Private words" not in str(event.context)


def test_membership_admin_cannot_change_own_role(org_admin):
    """An admin cannot demote or remove themselves by accident."""
    own = org_admin.memberships.get()
    with pytest.raises(PermissionDenied):
        services.membership_set_role(membership=own, actor=org_admin, role="member")
    with pytest.raises(PermissionDenied):
        services.membership_remove(membership=own, actor=org_admin)


def test_partner_status_is_staff_only(org_admin, staff):
    """Organisation admins edit their details but cannot make themselves a partner."""
    org = org_admin.memberships.get().organisation
    services.organisation_update(organisation=org, actor=org_admin, is_partner=True,
                                 description="New words")
    org.refresh_from_db()
    assert (org.is_partner, org.description) == (False, "New words")
    services.organisation_update(organisation=org, actor=staff, is_partner=True)
    org.refresh_from_db()
    assert org.is_partner


def test_deactivated_user_loses_session(client, staff):
    """Deactivation ends what the person could do at once, even mid-session."""
    user = UserFactory()
    client.force_login(user)
    assert client.get("/members/me/").status_code == 200
    services.user_deactivate(user=user, actor=staff)
    assert client.get("/members/me/").status_code == 302
