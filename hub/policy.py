"""Who may see or do what: every answer the hub gives to "may this person …?".

Each kind of object has a predicate for one object (``can_<verb>_<thing>``) and a queryset
twin for lists (``visible_<things>``) that applies the same rule in SQL. A test checks that the
two agree for every actor against every object. Views, selectors, templates and the admin ask
here; nothing else decides access.

The actors the policy knows:

- a *visitor* is signed out; an *applicant* has an account that is not yet approved; both see
  only what is public. A *deactivated* account can do nothing.
- a *member* is approved; a *partner member* belongs to an organisation that is a partner of
  the hub; organisation *editors*, *approvers* and *admins* hold those roles in one organisation.
- *moderators* and *staff* hold hub-wide powers.

Powers (staff, moderator, and an organisation's approver or admin role) are used only by people
who have enrolled in two-step sign-in; until then they act as an ordinary member and the site
asks them to enrol.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from hub.members.models import Membership, Organisation, Profile, User

POWER_ROLES = {Membership.Role.APPROVER, Membership.Role.ADMIN}


# --- Who the actor is -----------------------------------------------------------------------

def is_active(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def is_member(user) -> bool:
    return is_active(user) and user.standing == User.Standing.MEMBER


def mfa_enrolled(user) -> bool:
    if not is_active(user):
        return False
    if not hasattr(user, "_hub_mfa"):
        from allauth.mfa.models import Authenticator

        user._hub_mfa = Authenticator.objects.filter(
            user=user, type=Authenticator.Type.TOTP).exists()
    return user._hub_mfa


def org_roles(user) -> dict[int, str]:
    """The member's role in each organisation they belong to, by organisation id."""
    if not is_member(user):
        return {}
    if not hasattr(user, "_hub_org_roles"):
        user._hub_org_roles = dict(
            Membership.objects.filter(user=user).values_list("organisation_id", "role"))
    return user._hub_org_roles


def forget(user) -> None:
    """Drop what the policy remembered about a user, after their roles or MFA changed."""
    for name in ("_hub_mfa", "_hub_org_roles", "_hub_partner"):
        if hasattr(user, name):
            delattr(user, name)


def holds_powers(user) -> bool:
    """Whether the person has a role that needs two-step sign-in before it can be used."""
    if not is_member(user):
        return False
    return (user.is_staff or user.is_moderator
            or any(role in POWER_ROLES for role in org_roles(user).values()))


def needs_mfa_enrolment(user) -> bool:
    return holds_powers(user) and not mfa_enrolled(user)


def acts_as_staff(user) -> bool:
    return is_member(user) and user.is_staff and mfa_enrolled(user)


def acts_as_moderator(user) -> bool:
    return is_member(user) and user.is_moderator and mfa_enrolled(user)


def admin_org_ids(user) -> set[int]:
    """Organisations whose admin powers this person may use now."""
    if not mfa_enrolled(user):
        return set()
    return {org for org, role in org_roles(user).items() if role == Membership.Role.ADMIN}


def approver_org_ids(user) -> set[int]:
    """Organisations for which this person may decide access (approvers and admins)."""
    if not mfa_enrolled(user):
        return set()
    return {org for org, role in org_roles(user).items() if role in POWER_ROLES}


def editor_org_ids(user) -> set[int]:
    """Organisations whose content this person may curate (editors and admins).

    Editing is not a power that needs two-step sign-in: editors curate material, they do not
    decide who may see it.
    """
    editing = {Membership.Role.EDITOR, Membership.Role.ADMIN}
    return {org for org, role in org_roles(user).items() if role in editing}


def is_partner_member(user) -> bool:
    if not is_member(user):
        return False
    if not hasattr(user, "_hub_partner"):
        user._hub_partner = Organisation.objects.filter(
            pk__in=org_roles(user).keys(), is_partner=True).exists()
    return user._hub_partner


def can_use_admin(user) -> bool:
    return acts_as_staff(user)


# --- Profiles -------------------------------------------------------------------------------

def can_view_profile(user, profile: Profile) -> bool:
    if acts_as_staff(user):
        return True
    if is_active(user) and profile.user_id == user.pk:
        return True
    if not profile.user.is_member:
        return False
    if profile.visibility == Profile.Visibility.PUBLIC:
        return True
    return profile.visibility == Profile.Visibility.MEMBERS and is_member(user)


def visible_profiles(user, qs: QuerySet[Profile]) -> QuerySet[Profile]:
    if acts_as_staff(user):
        return qs
    shown = [Profile.Visibility.PUBLIC]
    if is_member(user):
        shown.append(Profile.Visibility.MEMBERS)
    rule = Q(user__is_active=True, user__standing=User.Standing.MEMBER, visibility__in=shown)
    if is_active(user):
        rule |= Q(user=user)
    return qs.filter(rule)


def can_edit_profile(user, profile: Profile) -> bool:
    return is_active(user) and profile.user_id == user.pk


# --- Organisations and their members --------------------------------------------------------

def can_view_organisation(user, organisation: Organisation) -> bool:
    # Organisations are public bodies: who they are is never secret. Who belongs to them is
    # filtered by each member's own profile visibility (see visible_memberships).
    return True


def visible_organisations(user, qs: QuerySet[Organisation]) -> QuerySet[Organisation]:
    return qs


def can_manage_organisation(user, organisation: Organisation) -> bool:
    """Edit the organisation, change its members' roles, invite people, decide applications."""
    return acts_as_staff(user) or organisation.pk in admin_org_ids(user)


def managed_organisations(user, qs: QuerySet[Organisation]) -> QuerySet[Organisation]:
    if acts_as_staff(user):
        return qs
    return qs.filter(pk__in=admin_org_ids(user))


def can_view_membership(user, membership: Membership) -> bool:
    if can_manage_organisation(user, membership.organisation):
        return True
    return can_view_profile(user, membership.user.profile)


def visible_memberships(user, qs: QuerySet[Membership]) -> QuerySet[Membership]:
    if acts_as_staff(user):
        return qs
    profiles = visible_profiles(user, Profile.objects.all()).values("user_id")
    return qs.filter(Q(user_id__in=profiles) | Q(organisation_id__in=admin_org_ids(user)))


def can_change_membership(user, membership: Membership) -> bool:
    """Change a member's role or remove them. Nobody changes their own membership this way:
    an admin cannot lock the organisation out of its last admin by accident."""
    return (can_manage_organisation(user, membership.organisation)
            and membership.user_id != user.pk)


# --- Joining --------------------------------------------------------------------------------

def can_view_application(user, application) -> bool:
    if is_active(user) and application.user_id == user.pk:
        return True
    return acts_as_staff(user) or application.organisation_id in admin_org_ids(user)


def visible_applications(user, qs):
    if acts_as_staff(user):
        return qs
    rule = Q(organisation_id__in=admin_org_ids(user))
    if is_active(user):
        rule |= Q(user=user)
    return qs.filter(rule)


def can_decide_application(user, application) -> bool:
    if not is_active(user) or application.user_id == user.pk:
        return False
    return acts_as_staff(user) or application.organisation_id in admin_org_ids(user)


def decidable_applications(user, qs):
    if acts_as_staff(user):
        return qs.exclude(user=user)
    return qs.filter(organisation_id__in=admin_org_ids(user)).exclude(user=user)


def can_decide_any_application(user) -> bool:
    """Whether the person has an applications queue at all."""
    return acts_as_staff(user) or bool(admin_org_ids(user))


def can_invite(user, organisation: Organisation) -> bool:
    return can_manage_organisation(user, organisation)


def can_view_invitation(user, invitation) -> bool:
    return can_manage_organisation(user, invitation.organisation)


def visible_invitations(user, qs):
    if acts_as_staff(user):
        return qs
    return qs.filter(organisation_id__in=admin_org_ids(user))


# --- Audit trail ----------------------------------------------------------------------------

def can_view_audit_event(user, event) -> bool:
    # An organisation's admins read its trail. Approvers will read the access log of its
    # library items (a filtered view of this trail) once the library exists.
    return acts_as_staff(user) or (
        event.organisation_id is not None and event.organisation_id in admin_org_ids(user))


def visible_audit_events(user, qs):
    if acts_as_staff(user):
        return qs
    return qs.filter(organisation_id__in=admin_org_ids(user))
