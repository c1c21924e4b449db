"""Every change to people, organisations and memberships goes through a function here."""

from datetime import timedelta

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from hub import policy
from hub.core.services import audit_record, email_queue
from hub.members import personal_data
from hub.members.models import (
    Application,
    Expertise,
    Invitation,
    Membership,
    Organisation,
    Profile,
    User,
)


class InvitationError(Exception):
    """An invitation link that cannot be used, with a message for the person holding it."""

    def __init__(self, message: str, state: str):
        super().__init__(message)
        self.message = message
        self.state = state


def _require(allowed: bool) -> None:
    # Services check again what views checked, so no caller can skip the policy.
    if not allowed:
        raise PermissionDenied


def _notify(*, user: User, subject: str, template: str, context: dict) -> None:
    body = render_to_string(template, {"site_url": settings.SITE_URL, **context})
    email_queue(subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject, body=body,
                to=[user.email], from_email=settings.DEFAULT_FROM_EMAIL)


# --- Profiles -------------------------------------------------------------------------------

def expertise_from_text(text: str) -> list[Expertise]:
    names = {part.strip()[:60] for part in text.split(",") if part.strip()}
    return [Expertise.objects.get_or_create(name=name)[0] for name in sorted(names)]


@transaction.atomic
def profile_update(*, profile: Profile, actor: User, expertise_text: str | None = None,
                   **fields) -> Profile:
    _require(policy.can_edit_profile(actor, profile))
    organisation = fields.get("organisation")
    if organisation is not None and organisation.pk not in policy.org_roles(actor):
        raise ValidationError({"organisation": "Choose an organisation you belong to."})
    changed = sorted(name for name, value in fields.items() if getattr(profile, name) != value)
    for name, value in fields.items():
        setattr(profile, name, value)
    profile.full_clean()
    profile.save()
    if expertise_text is not None:
        profile.expertise.set(expertise_from_text(expertise_text))
    if "visibility" in changed:
        audit_record(actor=actor, action="profile.visibility", target=profile,
                     visibility=profile.visibility)
    return profile


# --- Joining --------------------------------------------------------------------------------

@transaction.atomic
def profile_create(*, user: User, display_name: str, sector: str, country: str = "") -> Profile:
    """The profile of a new account, made at sign-up (with or without an application)."""
    profile, _ = Profile.objects.update_or_create(
        user=user, defaults={"display_name": display_name, "sector": sector, "country": country})
    return profile


@transaction.atomic
def application_submit(*, user: User, display_name: str, sector: str, country: str = "",
                       organisation: Organisation | None = None, statement: str) -> Application:
    """Record a new account's application; the person is an applicant until it is decided."""
    profile_create(user=user, display_name=display_name, sector=sector, country=country)
    application = Application.objects.create(user=user, statement=statement,
                                             organisation=organisation)
    audit_record(actor=user, action="application.submit", target=application,
                 organisation=organisation)
    for decider in application_deciders(application=application):
        _notify(user=decider, subject="A new application is waiting",
                template="members/email/application_waiting.txt",
                context={"application": application, "display_name": display_name})
    return application


@transaction.atomic
def application_resubmit(*, application: Application, actor: User, statement: str,
                         organisation: Organisation | None = None) -> Application:
    """A declined applicant tries again with a new statement; the application waits again."""
    _require(application.user_id == actor.pk and policy.is_active(actor)
             and application.status == Application.Status.DECLINED
             and actor.standing == User.Standing.APPLICANT)
    application.status = Application.Status.PENDING
    application.statement, application.organisation = statement, organisation
    application.decided_by = application.decided_at = None
    application.reason = ""
    application.save()
    audit_record(actor=actor, action="application.resubmit", target=application,
                 organisation=organisation)
    for decider in application_deciders(application=application):
        _notify(user=decider, subject="A new application is waiting",
                template="members/email/application_waiting.txt",
                context={"application": application,
                         "display_name": application.user.profile.display_name})
    return application


def application_deciders(*, application: Application) -> list[User]:
    """Who is told of a new application: those who can decide it now, the named
    organisation's enrolled admins first, or else enrolled staff."""
    enrolled = User.objects.filter(is_active=True, standing=User.Standing.MEMBER,
                                   authenticator__type=Authenticator.Type.TOTP)
    admins = []
    if application.organisation_id:
        admins = list(enrolled.filter(memberships__organisation=application.organisation,
                                      memberships__role=Membership.Role.ADMIN).distinct())
    return admins or list(enrolled.filter(is_staff=True).distinct())


@transaction.atomic
def application_approve(*, application: Application, decided_by: User) -> Application:
    _require(policy.can_decide_application(decided_by, application)
             and application.status == Application.Status.PENDING)
    application.status = Application.Status.APPROVED
    application.decided_by, application.decided_at = decided_by, timezone.now()
    application.save()
    user = application.user
    user.standing = User.Standing.MEMBER
    user.save(update_fields=["standing"])
    if application.organisation_id:
        Membership.objects.get_or_create(user=user, organisation=application.organisation)
        Profile.objects.filter(user=user, organisation=None).update(
            organisation=application.organisation)
    audit_record(actor=decided_by, action="application.approve", target=application,
                 organisation=application.organisation)
    _notify(user=user, subject="Welcome to the hub", template="members/email/approved.txt",
            context={"application": application})
    return application


@transaction.atomic
def application_decline(*, application: Application, decided_by: User,
                        reason: str) -> Application:
    _require(policy.can_decide_application(decided_by, application)
             and application.status == Application.Status.PENDING)
    if not reason.strip():
        raise ValidationError({"reason": "Say why, so the applicant can understand the decision."})
    application.status = Application.Status.DECLINED
    application.decided_by, application.decided_at = decided_by, timezone.now()
    application.reason = reason.strip()
    application.save()
    audit_record(actor=decided_by, action="application.decline", target=application,
                 organisation=application.organisation)
    _notify(user=application.user, subject="Your application",
            template="members/email/declined.txt", context={"application": application})
    return application


# --- Invitations ----------------------------------------------------------------------------

@transaction.atomic
def invitation_create(*, organisation: Organisation, invited_by: User,
                      role: str = Membership.Role.MEMBER, note: str = "",
                      days: int | None = None) -> tuple[Invitation, str]:
    """Make a single-use link; the token is returned once and only its hash is kept."""
    _require(policy.can_invite(invited_by, organisation))
    token, token_hash = Invitation.new_token()
    days = days or settings.HUB_INVITATION_DAYS
    invitation = Invitation.objects.create(
        organisation=organisation, role=role, note=note, token_hash=token_hash,
        invited_by=invited_by, expires_at=timezone.now() + timedelta(days=days))
    audit_record(actor=invited_by, action="invitation.create", target=invitation,
                 organisation=organisation, role=role)
    return invitation, token


def invitation_url(token: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("members:invitation_open", args=[token])


_INVITATION_PROBLEMS = {
    "used": "This invitation has already been used. Ask the organisation for a new one.",
    "expired": "This invitation has expired. Ask the organisation for a new one.",
    "revoked": "This invitation was withdrawn by the organisation.",
    "lapsed": "This invitation is no longer valid: the person who made it can no longer invite "
              "people to the organisation. Ask the organisation for a new one.",
}



def invitation_check(*, token: str) -> Invitation:
    invitation = Invitation.objects.for_token(token).select_related(
        "organisation", "invited_by").first()
    if invitation is None:
        raise InvitationError("This invitation link is not valid. Check that you copied all of "
                              "it, or ask the organisation for a new one.", "unknown")
    if invitation.state != "open":
        raise InvitationError(_INVITATION_PROBLEMS[invitation.state], invitation.state)
    # A link carries its maker's authority, so it lapses when they lose it.
    if invitation.invited_by is None or not policy.can_invite(invitation.invited_by,
                                                              invitation.organisation):
        raise InvitationError(_INVITATION_PROBLEMS["lapsed"], "lapsed")
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Membership:
    """Use an invitation: the person joins the organisation and, if new, the hub.

    Someone who already belongs keeps their role, unless they were a plain member or the
    invitation makes them an admin: editing and approving are separate powers, and one must
    not be swapped for the other.
    """
    invitation = invitation_check(token=token)
    # Lock the row so two people using one link at once cannot both get in.
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.state != "open":
        raise InvitationError(_INVITATION_PROBLEMS[invitation.state], invitation.state)
    invitation.used_by, invitation.used_at = user, timezone.now()
    invitation.save(update_fields=["used_by", "used_at"])
    if user.standing != User.Standing.MEMBER:
        user.standing = User.Standing.MEMBER
        user.save(update_fields=["standing"])
    membership, created = Membership.objects.get_or_create(
        user=user, organisation=invitation.organisation, defaults={"role": invitation.role})
    upgrade = membership.role == Membership.Role.MEMBER or invitation.role == Membership.Role.ADMIN
    if not created and upgrade and membership.role != invitation.role:
        membership.role = invitation.role
        membership.save(update_fields=["role", "modified"])
    Profile.objects.filter(user=user, organisation=None).update(
        organisation=invitation.organisation)
    # A waiting application is settled by the invitation; nobody decided it by hand.
    Application.objects.filter(user=user, status=Application.Status.PENDING).update(
        status=Application.Status.APPROVED, decided_at=timezone.now(),
        reason=f"Joined {invitation.organisation} through an invitation.")
    policy.forget(user)
    audit_record(actor=user, action="invitation.accept", target=invitation,
                 organisation=invitation.organisation, role=membership.role)
    return membership


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: User) -> Invitation:
    _require(policy.can_invite(actor, invitation.organisation))
    if invitation.state == "open":
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="invitation.revoke", target=invitation,
                     organisation=invitation.organisation)
    return invitation


# --- Organisations and memberships ----------------------------------------------------------

@transaction.atomic
def organisation_update(*, organisation: Organisation, actor: User, **fields) -> Organisation:
    _require(policy.can_manage_organisation(actor, organisation))
    if "is_partner" in fields and not policy.acts_as_staff(actor):
        # Partner status is the hub's decision, made by staff.
        fields.pop("is_partner")
    for name, value in fields.items():
        setattr(organisation, name, value)
    organisation.full_clean()
    organisation.save()
    audit_record(actor=actor, action="organisation.update", target=organisation,
                 organisation=organisation, fields=sorted(fields))
    return organisation


@transaction.atomic
def membership_set_role(*, membership: Membership, actor: User, role: str) -> Membership:
    _require(policy.can_change_membership(actor, membership))
    if role not in Membership.Role.values:
        raise ValidationError({"role": "Choose one of the roles listed."})
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role", "modified"])
    policy.forget(membership.user)
    audit_record(actor=actor, action="membership.role", target=membership,
                 organisation=membership.organisation, old=old, new=role)
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: User) -> None:
    _require(policy.can_change_membership(actor, membership))
    audit_record(actor=actor, action="membership.remove", target=membership,
                 organisation=membership.organisation, user_id=membership.user_id)
    Profile.objects.filter(user=membership.user, organisation=membership.organisation).update(
        organisation=None)
    membership.delete()


@transaction.atomic
def membership_leave(*, membership: Membership, actor: User) -> None:
    """A person leaves an organisation themselves; the last admin must hand over first."""
    _require(membership.user_id == actor.pk)
    # Lock the organisation's admin rows, so two admins leaving at once cannot both go.
    other_admins = list(membership.organisation.memberships.select_for_update().filter(
        role=Membership.Role.ADMIN, user__is_active=True,
        user__standing=User.Standing.MEMBER).exclude(pk=membership.pk))
    if membership.role == Membership.Role.ADMIN and not other_admins:
        raise ValidationError("You are this organisation's only administrator. Make someone "
                              "else an administrator before you leave.")
    audit_record(actor=actor, action="membership.leave", target=membership,
                 organisation=membership.organisation)
    Profile.objects.filter(user=actor, organisation=membership.organisation).update(
        organisation=None)
    membership.delete()


# --- Accounts -------------------------------------------------------------------------------

@transaction.atomic
def user_deactivate(*, user: User, actor: User) -> User:
    """Switch an account off: it can no longer sign in, and open sessions stop working."""
    _require(policy.acts_as_staff(actor) and actor.pk != user.pk)
    user.is_active = False
    user.save(update_fields=["is_active"])
    audit_record(actor=actor, action="user.deactivate", target=user)
    return user


# --- A person's data ------------------------------------------------------------------------

def person_export(*, user: User, actor: User) -> dict:
    """Everything the hub holds about ``user``, for them to download."""
    _require(policy.can_export_personal_data(actor, user))
    data = personal_data.export(user)
    audit_record(actor=actor, action="person.export", target=user)
    return data


def person_erase(*, user: User, actor: User, via: str = "page") -> dict[str, int]:
    """Erase ``user``'s data (see ``hub.members.personal_data``), record that it was done
    (by whom and how, never what was removed), and return counts by holding."""
    _require(policy.can_erase_person(actor, user))
    by_themselves = actor is not None and actor.pk == user.pk
    organisations = list(Organisation.objects.filter(
        memberships__user=user, memberships__role=Membership.Role.ADMIN))
    with transaction.atomic():
        counts = personal_data.erase(user)
        audit_record(actor=None if by_themselves else actor, action="person.erase",
                     target=user, via=via, by_themselves=by_themselves)
        # Their organisations' administrators can see that an administrator left.
        for organisation in organisations:
            audit_record(actor=None, action="membership.erased", target=user,
                         organisation=organisation)
    return counts
