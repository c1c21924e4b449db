import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from hub.core.models import OutgoingEmail
from hub.members import services
from hub.members.models import Application, Membership, Organisation, Profile, User
from hub.members.tests.factories import (
    PASSWORD,
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    enrol_mfa,
)
from hub.members.tests.test_services import run_worker

pytestmark = pytest.mark.django_db

def enrolled_admin_membership() -> Membership:
    membership = MembershipFactory(role=Membership.Role.ADMIN)
    enrol_mfa(membership.user)
    return membership


APPLY = {
    "email": "new.person@example.org",
    "display_name": "New Person",
    "sector": "practice",
    "country": "GB",
    "statement": "I run a mentoring project and want to learn from others.",
    "password1": "a-long-enough-passphrase",
    "password2": "a-long-enough-passphrase",
}


@pytest.mark.django_db(transaction=True)
def test_apply_creates_applicant_and_sends_verification(client):
    """Applying makes an applicant with a pending application and mails a confirmation link."""
    org = OrganisationFactory()
    response = client.post(reverse("members:apply"), {**APPLY, "organisation": org.pk})
    assert response.status_code == 302
    user = User.objects.get(email="new.person@example.org")
    assert user.standing == User.Standing.APPLICANT
    assert user.application.organisation == org
    assert user.profile.display_name == "New Person"
    run_worker()
    assert len(mail.outbox) == 1
    link = re.search(r"/accounts/confirm-email/\S+", mail.outbox[0].body).group(0)
    # Once sent, the link is kept nowhere: not in the outbox, not in the task records.
    assert not OutgoingEmail.objects.exists()
    assert not any(link in str(r.args_kwargs) for r in DBTaskResult.objects.all())


def test_apply_bad_input_keeps_what_was_typed(client):
    """A short password and a missing statement are explained; typed values stay."""
    data = {**APPLY, "password1": "short", "password2": "short", "statement": ""}
    response = client.post(reverse("members:apply"), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "at least 12 characters" in body
    assert "This field is required" in body
    assert 'value="New Person"' in body and 'value="new.person@example.org"' in body
    assert not User.objects.filter(email="new.person@example.org").exists()


def test_apply_refuses_common_password(client):
    """Common passwords are refused even when long enough."""
    data = {**APPLY, "password1": "qwerty123456", "password2": "qwerty123456"}
    response = client.post(reverse("members:apply"), data)
    assert "too common" in response.content.decode()


def test_applicant_sees_pending_and_no_member_pages(client):
    """An applicant is told their application is waiting and sees only public profiles."""
    applicant = UserFactory(standing=User.Standing.APPLICANT)
    Application.objects.create(user=applicant, statement="Hello")
    members_only = UserFactory(profile__visibility=Profile.Visibility.MEMBERS).profile
    client.force_login(applicant)
    assert "waiting for a decision" in client.get(reverse("members:me")).content.decode()
    assert client.get(members_only.get_absolute_url()).status_code == 404


def test_sign_in_is_throttled(client):
    """200 wrong passwords spread over an hour: at most ten are even checked; the right one is
    refused while the pause lasts and accepted once it lifts; password reset stays open."""
    user = UserFactory()
    url = reverse("account_login")
    with time_machine.travel("2026-03-02 09:00", tick=False) as traveller:
        checked = 0
        for attempt in range(200):
            traveller.move_to(f"2026-03-02 09:{attempt * 18 // 60:02d}:{attempt * 18 % 60:02d}")
            response = client.post(url, {"login": user.email, "password": f"wrong-{attempt}"})
            checked += "Too many failed login attempts" not in response.content.decode()
        assert checked <= 10
        refused = client.post(url, {"login": user.email, "password": PASSWORD})
        assert "Too many failed login attempts" in refused.content.decode()
        assert "_auth_user_id" not in client.session
        reset = client.post(reverse("account_reset_password"), {"email": user.email})
        assert reset.status_code == 302
        traveller.move_to("2026-03-02 11:00")
        accepted = client.post(url, {"login": user.email, "password": PASSWORD})
        assert accepted.status_code == 302 and "_auth_user_id" in client.session


def test_sign_in_works_with_right_password(client):
    """A member signs in with email and password and lands on their profile."""
    user = UserFactory()
    response = client.post(reverse("account_login"),
                           {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("members:me")


def test_profile_edit_bad_input_keeps_values(client, member):
    """An empty display name is explained beside the field; the other values stay typed."""
    client.force_login(member)
    response = client.post(reverse("members:profile_edit"), {
        "display_name": "", "sector": "police", "bio": "Kept words",
        "visibility": "public", "expertise_text": "mentoring"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "This field is required" in body and "Kept words" in body
    member.profile.refresh_from_db()
    assert member.profile.display_name == "Member Fixture"


def test_profile_edit_saves(client, member):
    """A valid edit is saved, with its expertise tags."""
    client.force_login(member)
    response = client.post(reverse("members:profile_edit"), {
        "display_name": "Renamed", "sector": "police", "bio": "", "country": "IE",
        "visibility": "private", "expertise_text": "mentoring, schools, mentoring"})
    assert response.status_code == 302
    member.profile.refresh_from_db()
    assert member.profile.display_name == "Renamed"
    assert member.profile.visibility == "private"
    assert sorted(e.name for e in member.profile.expertise.all()) == ["mentoring", "schools"]


def test_invitation_page_for_each_state(client):
    """Open, used, expired and unknown links each get a clear page."""
    admin = MembershipFactory(role=Membership.Role.ADMIN).user
    enrol_mfa(admin)
    org = admin.memberships.get().organisation
    _, token = services.invitation_create(organisation=org, invited_by=admin, days=1)
    url = reverse("members:invitation_open", args=[token])
    assert org.name in client.get(url).content.decode()
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        expired = client.get(url)
    assert expired.status_code == 410 and "expired" in expired.content.decode()
    services.invitation_accept(token=token, user=UserFactory())
    used = client.get(url)
    assert used.status_code == 410 and "already been used" in used.content.decode()
    unknown = client.get(reverse("members:invitation_open", args=["nope"]))
    assert unknown.status_code == 404 and "not valid" in unknown.content.decode()


def test_invitation_sign_up_skips_approval(client, django_capture_on_commit_callbacks):
    """A newcomer with an invitation signs up and is a member of the organisation at once."""
    admin = MembershipFactory(role=Membership.Role.ADMIN).user
    enrol_mfa(admin)
    org = admin.memberships.get().organisation
    _, token = services.invitation_create(organisation=org, invited_by=admin,
                                          role=Membership.Role.EDITOR)
    client.get(reverse("members:invitation_open", args=[token]))
    page = client.get(reverse("members:apply"))
    assert "Why you would like to join" not in page.content.decode()
    data = {k: v for k, v in APPLY.items() if k != "statement"}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("members:apply"), data)
    user = User.objects.get(email=APPLY["email"])
    assert user.standing == User.Standing.MEMBER
    assert user.memberships.get().role == Membership.Role.EDITOR


def test_member_accepts_invitation_when_signed_in(client, member):
    """A signed-in member joins with one click."""
    admin = MembershipFactory(role=Membership.Role.ADMIN).user
    enrol_mfa(admin)
    org = admin.memberships.get().organisation
    _, token = services.invitation_create(organisation=org, invited_by=admin)
    client.force_login(member)
    response = client.post(reverse("members:invitation_open", args=[token]))
    assert response.status_code == 302
    assert member.memberships.filter(organisation=org).exists()


def test_org_admin_manages_roles_and_invites(client):
    """An enrolled admin changes a role, makes an invitation link and sees the change log."""
    admin_membership = enrolled_admin_membership()
    org = admin_membership.organisation
    other = MembershipFactory(organisation=org)
    client.force_login(admin_membership.user)
    url = reverse("members:membership_role", args=[org.slug, other.pk])
    client.post(url, {"role": "approver"})
    other.refresh_from_db()
    assert other.role == Membership.Role.APPROVER
    manage = reverse("members:organisation_manage", args=[org.slug])
    response = client.post(manage, {"invite-role": "member", "invite-note": "Youth forum chair",
                                    "invite-days": "7"})
    assert response.status_code == 302
    body = client.get(manage).content.decode()
    assert 'id="new-invitation-link"' in body and "Youth forum chair" in body
    assert "membership.role" in body
    # The link is shown once: a reload shows the list, not the link again.
    assert 'id="new-invitation-link"' not in client.get(manage).content.decode()


def test_org_admin_bad_role_is_explained(client):
    """An unknown role is refused with a message and the role stays as it was."""
    admin_membership = enrolled_admin_membership()
    org = admin_membership.organisation
    other = MembershipFactory(organisation=org)
    client.force_login(admin_membership.user)
    response = client.post(reverse("members:membership_role", args=[org.slug, other.pk]),
                           {"role": "emperor"}, follow=True)
    assert "Choose one of the roles listed" in response.content.decode()
    other.refresh_from_db()
    assert other.role == Membership.Role.MEMBER


def test_invitation_form_errors_shown(client):
    """An invitation valid for too long is refused beside the field."""
    admin_membership = enrolled_admin_membership()
    client.force_login(admin_membership.user)
    response = client.post(
        reverse("members:organisation_manage", args=[admin_membership.organisation.slug]),
        {"invite-role": "member", "invite-days": "400"})
    assert response.status_code == 400
    assert "less than or equal to 60" in response.content.decode()


def test_staff_declines_with_reason_page(client, staff):
    """Declining without a reason shows the form again with a message; nothing changes."""
    applicant = UserFactory(standing=User.Standing.APPLICANT)
    application = Application.objects.create(user=applicant, statement="Hi")
    client.force_login(staff)
    response = client.post(reverse("members:application_decide", args=[application.pk]),
                           {"decision": "decline", "reason": ""})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    application.refresh_from_db()
    assert application.status == Application.Status.PENDING


def test_unenrolled_approver_is_sent_to_enrol(client):
    """An approver without two-step sign-in sees the banner and is sent to set it up."""
    approver = MembershipFactory(role=Membership.Role.ADMIN).user
    client.force_login(approver)
    home = client.get("/")
    assert "needs two-step sign-in" in home.content.decode()
    org = approver.memberships.get().organisation
    response = client.get(reverse("members:organisation_manage", args=[org.slug]))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


def test_leave_organisation(client, member):
    """A member leaves an organisation from its page."""
    membership = MembershipFactory(user=member)
    client.force_login(member)
    client.post(reverse("members:membership_leave", args=[membership.organisation.slug]))
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_organisation_edit_validates(client):
    """A bad website address is explained and nothing is saved."""
    admin_membership = enrolled_admin_membership()
    org = admin_membership.organisation
    client.force_login(admin_membership.user)
    response = client.post(reverse("members:organisation_edit", args=[org.slug]), {
        "name": org.name, "kind": org.kind, "country": "GB", "website": "not a url",
        "description": "Changed"})
    assert response.status_code == 400
    assert "Enter a valid URL" in response.content.decode()
    assert Organisation.objects.get(pk=org.pk).description != "Changed"


@pytest.mark.parametrize("password", ["x7" * 32, ("long passphrase with spaces " * 5)[:128],
                                      "alllowercaselettersonly"])
def test_long_and_plain_passwords_accepted_exactly(client, password):
    """Passwords of 64 and 128 characters, and all-lowercase ones, are accepted and checked
    exactly as typed: a truncated or altered password does not sign in."""
    response = client.post(reverse("members:apply"), {**APPLY, "password1": password,
                                                      "password2": password})
    assert response.status_code == 302
    user = User.objects.get(email=APPLY["email"])
    assert user.check_password(password)
    assert not user.check_password(password[:-1])
    assert not user.check_password(password + "x")


def test_sign_in_rotates_session_and_sign_out_ends_it(client):
    """Signing in gives a new session key; signing out removes the session on the server."""
    from django.contrib.sessions.models import Session

    user = UserFactory()
    client.get(reverse("account_login"))
    before = client.session.session_key
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    after = client.session.session_key
    assert after and after != before
    client.post(reverse("account_logout"))
    assert not Session.objects.filter(session_key=after).exists()
    assert client.get(reverse("members:me")).status_code == 302


def test_unknown_and_known_email_sign_in_failures_look_alike(client):
    """A wrong password and an unknown address get the same answer, so accounts cannot be
    discovered by trying addresses."""
    user = UserFactory()
    known = client.post(reverse("account_login"),
                        {"login": user.email, "password": "nope-nope-nope"})
    unknown = client.post(reverse("account_login"),
                          {"login": "nobody@example.org", "password": "nope-nope-nope"})
    assert known.status_code == unknown.status_code == 200
    strip = lambda r: re.sub(r'value="[^"]*"', "", r.content.decode())  # noqa: E731
    assert strip(known) == strip(unknown)


def test_invited_sign_up_with_taken_address_reveals_nothing(client):
    """Using an invitation with an address that already has an account answers as for a new
    one, creates nothing and leaves the invitation unused."""
    existing = UserFactory(email=APPLY["email"])
    membership = enrolled_admin_membership()
    _, token = services.invitation_create(organisation=membership.organisation,
                                          invited_by=membership.user)
    client.get(reverse("members:invitation_open", args=[token]))
    data = {k: v for k, v in APPLY.items() if k != "statement"}
    response = client.post(reverse("members:apply"), data)
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert User.objects.filter(email=APPLY["email"]).count() == 1
    assert not existing.memberships.exists()
    assert services.invitation_check(token=token)


def test_invited_sign_up_files_no_application(client):
    """Signing up through an invitation leaves no application behind to be decided."""
    membership = enrolled_admin_membership()
    _, token = services.invitation_create(organisation=membership.organisation,
                                          invited_by=membership.user)
    client.get(reverse("members:invitation_open", args=[token]))
    client.post(reverse("members:apply"), {k: v for k, v in APPLY.items() if k != "statement"})
    newcomer = User.objects.get(email=APPLY["email"])
    assert newcomer.standing == User.Standing.MEMBER
    assert not Application.objects.filter(user=newcomer).exists()


def test_invited_sign_up_whose_link_went_becomes_an_application(client):
    """If the link is used up between opening it and signing up, the person is told, nothing
    typed is lost, and they can apply instead."""
    membership = enrolled_admin_membership()
    _, token = services.invitation_create(organisation=membership.organisation,
                                          invited_by=membership.user)
    client.get(reverse("members:invitation_open", args=[token]))
    page = client.get(reverse("members:apply"))
    assert "Create your account" in page.content.decode()
    services.invitation_accept(token=token, user=UserFactory())  # someone else was quicker
    response = client.post(reverse("members:apply"),
                           {k: v for k, v in APPLY.items() if k != "statement"})
    body = response.content.decode()
    assert "already been used" in body and "Why you would like to join" in body
    assert 'value="New Person"' in body
    assert not User.objects.filter(email=APPLY["email"]).exists()
    client.post(reverse("members:apply"), APPLY)
    newcomer = User.objects.get(email=APPLY["email"])
    assert newcomer.standing == User.Standing.APPLICANT
    assert newcomer.application.status == Application.Status.PENDING


def test_invitation_lapses_when_its_maker_loses_the_role():
    """A link made by an admin who is no longer one does not work."""
    membership = enrolled_admin_membership()
    _, token = services.invitation_create(organisation=membership.organisation,
                                          invited_by=membership.user, role="admin")
    membership.delete()
    with pytest.raises(services.InvitationError) as problem:
        services.invitation_accept(token=token, user=UserFactory())
    assert problem.value.state == "lapsed"


def test_invitation_raises_but_never_swaps_a_role():
    """An editor given an admin link becomes admin; an admin given a member link stays admin;
    an editor given an approver link stays editor (one power is not traded for another)."""
    membership = enrolled_admin_membership()
    org = membership.organisation
    editor = MembershipFactory(organisation=org, role=Membership.Role.EDITOR)
    _, up = services.invitation_create(organisation=org, invited_by=membership.user,
                                       role="admin")
    assert services.invitation_accept(token=up, user=editor.user).role == "admin"
    other_admin = MembershipFactory(organisation=org, role=Membership.Role.ADMIN)
    _, down = services.invitation_create(organisation=org, invited_by=membership.user)
    assert services.invitation_accept(token=down, user=other_admin.user).role == "admin"
    second_editor = MembershipFactory(organisation=org, role=Membership.Role.EDITOR)
    _, sideways = services.invitation_create(organisation=org, invited_by=membership.user,
                                             role="approver")
    assert services.invitation_accept(token=sideways, user=second_editor.user).role == "editor"


def test_last_admin_cannot_leave(client):
    """The only admin is told to hand over first, and stays."""
    membership = enrolled_admin_membership()
    client.force_login(membership.user)
    response = client.post(reverse("members:membership_leave",
                                   args=[membership.organisation.slug]), follow=True)
    assert "only administrator" in response.content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_declined_applicant_can_apply_again(client, staff):
    """After a decline the applicant reads the reason and can send a new statement."""
    applicant = UserFactory(standing=User.Standing.APPLICANT)
    application = Application.objects.create(user=applicant, statement="First try")
    services.application_decline(application=application, decided_by=staff,
                                 reason="Please say which organisation you work with.")
    client.force_login(applicant)
    page = client.get(reverse("members:me")).content.decode()
    assert "Please say which organisation you work with." in page and "Apply again" in page
    empty = client.post(reverse("members:me"), {"reapply-statement": ""})
    assert empty.status_code == 400 and "This field is required" in empty.content.decode()
    client.post(reverse("members:me"), {"reapply-statement": "I work with Eastgate Forum."})
    application.refresh_from_db()
    assert application.status == Application.Status.PENDING
    assert application.statement == "I work with Eastgate Forum."


def test_admin_changes_to_powers_are_audited(client, staff):
    """Making someone a moderator in the admin leaves an audit record naming the change."""
    from hub.core.models import AuditEvent

    person = UserFactory()
    client.force_login(staff)
    url = reverse("admin:members_user_change", args=[person.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update({"is_moderator": "on", "is_active": "on", "password": ""})
    data = {k: v for k, v in data.items() if v is not False}
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    person.refresh_from_db()
    assert person.is_moderator
    event = AuditEvent.objects.get(action="user.powers")
    assert event.context == {"is_moderator": True} and event.actor == staff


def test_staff_cannot_take_over_accounts_in_admin(client, staff):
    """Staff who are not superusers cannot set passwords, change addresses, make superusers
    or delete accounts from the admin."""
    person = UserFactory()
    client.force_login(staff)
    password_url = f"/admin/members/user/{person.pk}/password/"
    assert client.post(password_url, {"password1": "x-new-passw0rd-1",
                                      "password2": "x-new-passw0rd-1"}).status_code in (403, 404)
    page = client.get(reverse("admin:members_user_change", args=[person.pk]))
    form = page.context["adminform"].form
    assert "email" not in form.fields and "is_superuser" not in form.fields
    delete = client.post(reverse("admin:members_user_delete", args=[person.pk]), {"post": "yes"})
    assert delete.status_code in (403, 404)
    person.refresh_from_db()
    assert person.check_password(PASSWORD) and person.is_active


def test_admin_cannot_decide_applications_directly(client, staff):
    """The admin shows applications but cannot approve one behind the hub's back."""
    application = Application.objects.create(
        user=UserFactory(standing=User.Standing.APPLICANT), statement="Hi")
    client.force_login(staff)
    url = reverse("admin:members_application_change", args=[application.pk])
    assert client.get(url).status_code == 200
    client.post(url, {"status": "approved"})
    application.refresh_from_db()
    assert application.status == Application.Status.PENDING
