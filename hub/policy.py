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

from django.db.models import Exists, Q, QuerySet

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
        user._hub_mfa = _totp(user).exists()
    return user._hub_mfa


def _totp(user):
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP)


def org_roles(user) -> dict[int, str]:
    """The member's role in each organisation they belong to, by organisation id."""
    if not is_member(user):
        return {}
    if not hasattr(user, "_hub_org_roles"):
        # By id, not by the default (the organisation's name), which joins the organisations.
        rows = Membership.objects.filter(user=user).order_by("organisation_id")
        if hasattr(user, "_hub_mfa"):
            user._hub_org_roles = dict(rows.values_list("organisation_id", "role"))
        else:
            # Whoever holds powers is asked next whether they use two-step sign-in (every page
            # asks), so the same query answers that too.
            rows = list(rows.values_list("organisation_id", "role", Exists(_totp(user))))
            user._hub_org_roles = {org: role for org, role, _ in rows}
            if any(role in POWER_ROLES for _, role, _ in rows):
                user._hub_mfa = rows[0][2]
    return user._hub_org_roles


# What a web process may keep about a person between their requests (``hub.members.caching``):
# facts read from their account, memberships, organisations and two-step devices only (a
# change to any of those makes a new people version).
KEPT_FACTS = ("_hub_org_roles", "_hub_mfa", "_hub_partner")


def facts_to_keep(user) -> dict:
    """The person's roles, whether one of their organisations is a partner (every library page
    asks) and, for people who hold powers, whether they use two-step sign-in (every page asks),
    worked out now, as plain values that can be kept and given back with ``recall``."""
    if holds_powers(user):
        mfa_enrolled(user)
    is_partner_member(user)
    return {name: getattr(user, name) for name in KEPT_FACTS if hasattr(user, name)}


def recall(user, facts: dict) -> None:
    """Give back facts kept by ``facts_to_keep``, so they are not asked of the database."""
    for name in KEPT_FACTS:
        if name in facts:
            setattr(user, name, facts[name])


def forget(user) -> None:
    """Drop what the policy remembered about a user, after their roles or MFA changed."""
    for name in ("_hub_mfa", "_hub_org_roles", "_hub_partner", "_hub_study_roles"):
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
    held = {org for org, role in org_roles(user).items() if role == Membership.Role.ADMIN}
    # Roles first: most people hold none, and then two-step sign-in need not be looked up.
    return held if held and mfa_enrolled(user) else set()


def approver_org_ids(user) -> set[int]:
    """Organisations for which this person may decide access (approvers and admins)."""
    held = {org for org, role in org_roles(user).items() if role in POWER_ROLES}
    return held if held and mfa_enrolled(user) else set()


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


# --- A person's data ------------------------------------------------------------------------
# Everyone signed in, applicants included, can download what the hub holds about them and
# erase it. Staff can erase an account for someone who asks by other means (the command
# `erase_person`); nobody downloads another person's data.

def can_export_personal_data(user, person) -> bool:
    return is_active(user) and person.pk == user.pk


def can_erase_person(user, person) -> bool:
    if user is None:  # the operator's command line
        return True
    return is_active(user) and (person.pk == user.pk or acts_as_staff(user))


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


# --- Library --------------------------------------------------------------------------------
#
# A resource has two tiers: one for its metadata (that it exists, its title and abstract) and
# one for its files and their text. The organisation that contributed it, and the person who
# did, see everything about it. Unpublished resources are seen only by them and by staff.
# Restricted material opens through grants in force (to the person or to an organisation they
# belong to). Staff curate the whole library but read restricted files only through a grant,
# like anyone else: partners decide who sees them. Approvers of an organisation consulted on a
# resource see its metadata, so they know what they are asked about.

def _library():
    from hub.library import models

    return models


def _owner_side(user, resource) -> bool:
    return is_member(user) and (
        resource.organisation_id in org_roles(user) or resource.contributor_id == user.pk)


def _owner_q(user) -> Q:
    return Q(organisation_id__in=list(org_roles(user))) | Q(contributor=user)


def _grants_for(user):
    lib = _library()
    return lib.Grant.objects.in_force().filter(
        Q(user=user) | Q(organisation_id__in=list(org_roles(user))))


def _consulted_q(user) -> Q:
    lib = _library()
    rules = lib.AccessRule.objects.filter(
        mode=lib.AccessRule.Mode.CONSULT, consulted__in=approver_org_ids(user))
    return Q(pk__in=rules.values("resource_id"))


def _open_tiers(user) -> list[str]:
    """Tiers below restricted that this person reads by standing alone."""
    Tier = _library().Tier
    if not is_member(user):
        return [Tier.PUBLIC]
    tiers = [Tier.PUBLIC, Tier.MEMBERS]
    if is_partner_member(user) or acts_as_staff(user):
        tiers.append(Tier.PARTNERS)
    return tiers


def has_grant(user, resource) -> bool:
    return is_member(user) and _grants_for(user).filter(resource=resource).exists()


def is_consulted_on(user, resource) -> bool:
    rule = getattr(resource, "access_rule", None)
    return bool(is_member(user) and rule and rule.mode == rule.Mode.CONSULT
                and rule.consulted.filter(pk__in=approver_org_ids(user)).exists())


def can_view_resource(user, resource) -> bool:
    """See that the resource exists: its page, its metadata, its place in lists and search."""
    Tier = _library().Tier
    if _owner_side(user, resource) or acts_as_staff(user):
        return True
    if not resource.is_published:
        return False
    if resource.metadata_tier in _open_tiers(user):
        return True
    return resource.metadata_tier == Tier.RESTRICTED and (
        has_grant(user, resource) or is_consulted_on(user, resource))


def visible_resources(user, qs):
    lib = _library()
    if acts_as_staff(user):
        return qs
    published = Q(status=lib.Resource.Status.PUBLISHED)
    rule = published & Q(metadata_tier__in=_open_tiers(user))
    if not is_member(user):
        return qs.filter(rule)
    restricted = Q(metadata_tier=lib.Tier.RESTRICTED) & (
        Q(pk__in=_grants_for(user).values("resource_id")) | _consulted_q(user))
    return qs.filter(_owner_q(user) | rule | (published & restricted))


def can_read_files(user, resource) -> bool:
    """Open the resource's files and read the text extracted from them."""
    Tier = _library().Tier
    if not can_view_resource(user, resource):
        return False
    if _owner_side(user, resource):
        return True
    if acts_as_staff(user) and resource.file_tier != Tier.RESTRICTED:
        return True
    if not resource.is_published:
        return False
    if resource.file_tier in _open_tiers(user):
        return True
    return resource.file_tier == Tier.RESTRICTED and has_grant(user, resource)


def readable_resources(user, qs):
    """The queryset twin of can_read_files."""
    return visible_resources(user, qs).filter(files_q(user))


def files_q(user) -> Q:
    """Among resources this person may see, those whose files they may open, as a condition
    (search needs the condition itself, to split what it matches in files from the rest)."""
    lib = _library()
    published = Q(status=lib.Resource.Status.PUBLISHED)
    rule = published & Q(file_tier__in=_open_tiers(user))
    if not is_member(user):
        return rule
    if acts_as_staff(user):
        rule |= ~Q(file_tier=lib.Tier.RESTRICTED)
    granted = published & Q(file_tier=lib.Tier.RESTRICTED,
                            pk__in=_grants_for(user).values("resource_id"))
    return _owner_q(user) | rule | granted


def contributing_org_ids(user) -> set[int]:
    """Organisations this person may contribute resources for: any they belong to."""
    return set(org_roles(user))


def can_contribute(user) -> bool:
    return bool(contributing_org_ids(user))


def can_curate_resource(user, resource) -> bool:
    """Publish, send back or withdraw: hub staff or the organisation's editors and admins."""
    return acts_as_staff(user) or resource.organisation_id in editor_org_ids(user)


def curatable_resources(user, qs):
    if acts_as_staff(user):
        return qs
    return qs.filter(organisation_id__in=editor_org_ids(user))


def can_curate_any(user) -> bool:
    return acts_as_staff(user) or bool(editor_org_ids(user))


def can_edit_resource(user, resource) -> bool:
    """Change the metadata and files: curators, the organisation's approvers (who also set
    its tiers), and contributors their own drafts."""
    if can_curate_resource(user, resource) or can_manage_access(user, resource):
        return True
    return (is_member(user) and resource.contributor_id == user.pk
            and resource.organisation_id in org_roles(user)
            and resource.status == resource.Status.DRAFT)


def can_request_access(user, resource) -> bool:
    Tier = _library().Tier
    return (is_member(user) and resource.is_published
            and resource.file_tier == Tier.RESTRICTED
            and can_view_resource(user, resource) and not can_read_files(user, resource))


def can_manage_access(user, resource) -> bool:
    """Set the access rule, grant and revoke: the contributing organisation's approvers only.
    Hub staff do not decide who reads a partner's restricted material."""
    return resource.organisation_id in approver_org_ids(user)


def deciding_org_ids(resource) -> set[int]:
    """The organisations whose approvers decide requests for this resource."""
    rule = getattr(resource, "access_rule", None)
    if rule is None or rule.mode == rule.Mode.OWN:
        return {resource.organisation_id}
    return set(rule.consulted.values_list("pk", flat=True))


def deciding_org_for(user, access_request) -> int | None:
    """The organisation on whose behalf this person may decide the request now, if any."""
    if not is_member(user) or access_request.requester_id == user.pk:
        return None
    resource = access_request.resource
    if access_request.status != access_request.Status.PENDING or not resource.is_published:
        return None
    if resource.file_tier != _library().Tier.RESTRICTED:
        return None
    decisions = access_request.decisions.all()
    if any(decision.decided_by_id == user.pk for decision in decisions):
        return None  # one person gives one answer, whatever organisations they speak for
    decided = {decision.organisation_id for decision in decisions}
    open_orgs = (deciding_org_ids(resource) - decided) & approver_org_ids(user)
    return min(open_orgs) if open_orgs else None


def can_decide_request(user, access_request) -> bool:
    return deciding_org_for(user, access_request) is not None


def can_view_request(user, access_request) -> bool:
    if is_member(user) and access_request.requester_id == user.pk:
        return True
    resource = access_request.resource
    approving = approver_org_ids(user)
    return bool(approving) and (
        resource.organisation_id in approving or bool(deciding_org_ids(resource) & approving))


def visible_requests(user, qs):
    if not is_member(user):
        return qs.none()
    lib = _library()
    approving = approver_org_ids(user)
    rule = Q(requester=user)
    if approving:
        consulted = lib.AccessRule.objects.filter(
            mode=lib.AccessRule.Mode.CONSULT, consulted__in=approving).values("resource_id")
        owned_own_rule = Q(resource__organisation_id__in=approving)
        rule |= owned_own_rule | Q(resource_id__in=consulted)
    return qs.filter(rule)


def can_view_access_log(user, organisation) -> bool:
    return acts_as_staff(user) or organisation.pk in approver_org_ids(user)


def visible_access_log(user, qs):
    qs = qs.filter(action__startswith="library.")
    if acts_as_staff(user):
        return qs
    return qs.filter(organisation_id__in=approver_org_ids(user))


# --- Engagement assessment ------------------------------------------------------------------
#
# Initiatives and programmes are seen by their audience: their team (facilitators and the
# members of the lead and partner organisations), all members, or everyone. Results are only
# ever aggregates. The audience sees a round's results once it has closed; the people who run
# the initiative (its facilitators, the lead organisation's editors and admins, and staff) see
# them as answers come in. Nobody but the respondent sees a single response: not facilitators,
# not staff. Staff see every initiative so they can look after the instrument and the hub.

def _assessment():
    from hub.assessment import models

    return models


def _audience_q(user, team: Q) -> Q:
    Audience = _assessment().Audience
    if not is_member(user):
        return Q(audience=Audience.PUBLIC)
    return Q(audience__in=[Audience.PUBLIC, Audience.MEMBERS]) | (
        Q(audience=Audience.TEAM) & team)


def _initiative_team_q(user) -> Q:
    orgs = list(org_roles(user))
    return (Q(facilitators=user) | Q(lead_organisation_id__in=orgs)
            | Q(partner_organisations__in=orgs))


def _initiative_runner_q(user) -> Q:
    return Q(facilitators=user) | Q(lead_organisation_id__in=list(editor_org_ids(user)))


def _matches(qs_model, obj, q: Q) -> bool:
    return qs_model.objects.filter(q, pk=obj.pk).exists()


def can_view_initiative(user, initiative) -> bool:
    if acts_as_staff(user):
        return True
    Audience = _assessment().Audience
    if initiative.audience == Audience.PUBLIC:
        return True
    if not is_member(user):
        return False
    if initiative.audience == Audience.MEMBERS:
        return True
    return _matches(type(initiative), initiative, _initiative_team_q(user))


def visible_initiatives(user, qs):
    if acts_as_staff(user):
        return qs
    ids = qs.model.objects.filter(_audience_q(user, _initiative_team_q(user))).values("pk")
    return qs.filter(pk__in=ids)


def can_create_initiative(user) -> bool:
    return acts_as_staff(user) or (is_member(user) and bool(org_roles(user)))


def lead_organisation_ids(user) -> set[int] | None:
    """Organisations this person may name as an initiative's lead; None means any (staff)."""
    if acts_as_staff(user):
        return None
    return set(org_roles(user)) if is_member(user) else set()


def can_manage_initiative(user, initiative) -> bool:
    """Edit it, open and run its rounds, record its context: its facilitators, the lead
    organisation's editors and admins, and staff."""
    if acts_as_staff(user):
        return True
    if not is_member(user):
        return False
    return _matches(type(initiative), initiative, _initiative_runner_q(user))


def managed_initiatives(user, qs):
    if acts_as_staff(user):
        return qs
    if not is_member(user):
        return qs.none()
    return qs.filter(pk__in=qs.model.objects.filter(_initiative_runner_q(user)).values("pk"))


def can_view_results(user, round_) -> bool:
    """See a round's aggregate results (never a single response)."""
    if can_manage_initiative(user, round_.initiative):
        return True
    return round_.state == "closed" and can_view_initiative(user, round_.initiative)


def results_visible_q(user) -> Q:
    """Rounds whose results this person may see, for lists and reports that span many."""
    from django.utils import timezone

    Initiative = _assessment().Initiative
    if acts_as_staff(user):
        return Q()
    managed = managed_initiatives(user, Initiative.objects.all()).values("pk")
    seen = visible_initiatives(user, Initiative.objects.all()).values("pk")
    now = timezone.now()
    closed = Q(closes_at__lte=now) | Q(closed_early_at__lte=now)
    return Q(initiative__in=managed) | (Q(initiative__in=seen) & closed)


def can_respond(user, round_) -> bool:
    """Answer a round as a member: invited, and the round is open."""
    return (is_member(user) and round_.is_open()
            and round_.invitations.filter(user=user).exists())


def can_answer(user, response, resume_key: str | None = None) -> bool:
    """Change a response: its own member, or whoever holds its resume key, while the round is
    open."""
    if not response.round.is_open():
        return False
    if response.user_id is not None:
        return is_member(user) and response.user_id == user.pk
    from hub.assessment.models import token_hash

    return bool(resume_key) and token_hash(resume_key) == response.resume_hash


def can_view_programme(user, programme) -> bool:
    if acts_as_staff(user):
        return True
    Audience = _assessment().Audience
    if programme.audience == Audience.PUBLIC:
        return True
    if not is_member(user):
        return False
    return (programme.audience == Audience.MEMBERS
            or programme.organisation_id in org_roles(user)
            or programme.created_by_id == user.pk)


def visible_programmes(user, qs):
    if acts_as_staff(user):
        return qs
    team = Q(organisation_id__in=list(org_roles(user))) | Q(created_by=user.pk)
    return qs.filter(_audience_q(user, team))


def can_manage_programme(user, programme) -> bool:
    return acts_as_staff(user) or (is_member(user) and (
        programme.created_by_id == user.pk or programme.organisation_id in editor_org_ids(user)))


def can_publish_instrument(user) -> bool:
    return acts_as_staff(user)


# --- Community: events ----------------------------------------------------------------------
#
# A published event is seen by its audience: everyone, or members of the hub. A cancelled one
# stays visible to the same audience, marked as cancelled. Drafts are seen only by the people
# who run the event: its organisation's editors and admins, the members named as its
# organisers, and staff. They also see who registered (with any accessibility needs) and the
# joining link; otherwise the joining link is shown only to people holding a confirmed place.
# Members register; visitors and applicants see public events but cannot register.

def _community():
    from hub.community import models

    return models


def _event_runner_q(user) -> Q:
    return Q(organisers=user) | Q(organisation_id__in=list(editor_org_ids(user)))


def event_organisation_ids(user) -> set[int] | None:
    """Organisations this person may run events for; None means any (staff)."""
    if acts_as_staff(user):
        return None
    return editor_org_ids(user) if is_member(user) else set()


def can_organise_events(user) -> bool:
    """Create events: staff, and the editors and admins of an organisation."""
    return acts_as_staff(user) or (is_member(user) and bool(editor_org_ids(user)))


def can_manage_event(user, event) -> bool:
    """Edit, cancel, read registrations, add notes afterwards."""
    if acts_as_staff(user):
        return True
    if not is_member(user) or event.pk is None:
        return False
    return _matches(type(event), event, _event_runner_q(user))


def managed_events(user, qs):
    if acts_as_staff(user):
        return qs
    if not is_member(user):
        return qs.none()
    return qs.filter(pk__in=qs.model.objects.filter(_event_runner_q(user)).values("pk"))


def _event_audiences(user) -> list[str]:
    Audience = _community().Event.Audience
    return [Audience.PUBLIC, Audience.MEMBERS] if is_member(user) else [Audience.PUBLIC]


def can_view_event(user, event) -> bool:
    Status = _community().Event.Status
    if event.status in (Status.PUBLISHED, Status.CANCELLED) and \
            event.audience in _event_audiences(user):
        return True
    return can_manage_event(user, event)


def visible_events(user, qs):
    if acts_as_staff(user):
        return qs
    Status = _community().Event.Status
    rule = Q(status__in=[Status.PUBLISHED, Status.CANCELLED],
             audience__in=_event_audiences(user))
    if is_member(user):
        rule |= Q(pk__in=qs.model.objects.filter(_event_runner_q(user)).values("pk"))
    return qs.filter(rule)


def events_audience(user) -> str | None:
    """A name for everyone who sees exactly the same events as this person, so one rendered
    list can serve them all; None for those who also see events they run (drafts)."""
    if acts_as_staff(user):
        return None
    if not is_member(user):
        return "visitors"
    if editor_org_ids(user) or _community().Event.objects.filter(organisers=user).exists():
        return None
    return "members"


def can_register_for_event(user, event) -> bool:
    """Ask for a place (whether one is free, and whether registration is open, the service
    says with a reason)."""
    return is_member(user) and can_view_event(user, event)


def can_see_joining_link(user, event) -> bool:
    if not event.online or not can_view_event(user, event):
        return False
    if can_manage_event(user, event):
        return True
    Registration = _community().Registration
    return is_member(user) and event.status == event.Status.PUBLISHED and \
        Registration.objects.filter(event=event, user=user,
                                    status=Registration.Status.CONFIRMED).exists()


def can_view_registrations(user, event) -> bool:
    """The list of who registered, waiting order and accessibility needs: organisers only."""
    return can_manage_event(user, event)


# --- Community: discussion spaces -----------------------------------------------------------
#
# Spaces are for members of the hub only. An open space is seen by every member; an
# invitation-only space by its members and the people invited to it, and by hub staff, who
# look after the hub and are the only ones who may reveal a pseudonym. To everyone else an
# invitation-only space does not exist: every page, list, search and notification answers as
# for a missing one. A member posts once they have joined and accepted the ground rules.
#
# Posts: a visible post is read by everyone who sees the space. A post waiting for approval,
# hidden after flags or removed is read only by its author and the space's moderators (others
# see that a post was hidden or removed, never one that waits). Moderators of a space are its
# members with the moderator role (like editors, they need no two-step sign-in: the power stays
# inside their space); hub moderators moderate every open space; staff every space. A thread
# whose first post waits, or was turned down, is seen by its author and the moderators.
# In a pseudonymous space nobody sees who wrote a post, moderators and staff included: staff
# may reveal it, giving a reason that is recorded and shown to the space (see
# hub/community/spaces.py for how the audit trail keeps the same promise).
# Under the Chatham House rule, nothing from the space is exported or quoted into another one.

def _space_q(user) -> Q:
    """Spaces the member belongs to (and has not left) or is invited to."""
    SpaceMembership = _community().SpaceMembership
    SpaceInvitation = _community().SpaceInvitation
    joined = SpaceMembership.objects.filter(user=user, left_at=None).values("space_id")
    invited = SpaceInvitation.objects.filter(user=user).values("space_id")
    return Q(pk__in=joined) | Q(pk__in=invited)


def space_membership(user, space):
    """The person's current membership of the space (None when they never joined or left)."""
    if not is_member(user) or space.pk is None:
        return None
    cache = getattr(user, "_hub_space_memberships", None)
    if cache is None:
        cache = user._hub_space_memberships = {}
    if space.pk not in cache:
        cache[space.pk] = _community().SpaceMembership.objects.filter(
            space=space, user=user, left_at=None).first()
    return cache[space.pk]


def forget_space_memberships(user) -> None:
    """Drop the memberships remembered above, after one changed."""
    if user is not None and hasattr(user, "_hub_space_memberships"):
        delattr(user, "_hub_space_memberships")


def is_invited_to_space(user, space) -> bool:
    return is_member(user) and _community().SpaceInvitation.objects.filter(
        space=space, user=user).exists()


def can_create_space(user) -> bool:
    """Hub staff and moderators, and an organisation's admins (for their organisation)."""
    return acts_as_staff(user) or acts_as_moderator(user) or bool(admin_org_ids(user))


def space_organisation_ids(user) -> set[int] | None:
    """Organisations a person may run a space for; None means any (or none)."""
    if acts_as_staff(user) or acts_as_moderator(user):
        return None
    return admin_org_ids(user)


def can_view_space(user, space) -> bool:
    if not is_member(user):
        return False
    if space.is_open or acts_as_staff(user):
        return True
    return space_membership(user, space) is not None or is_invited_to_space(user, space)


def visible_spaces(user, qs):
    if not is_member(user):
        return qs.none()
    if acts_as_staff(user):
        return qs
    Visibility = _community().Space.Visibility
    return qs.filter(Q(visibility=Visibility.OPEN) | _space_q(user))


def can_join_space(user, space) -> bool:
    """Join (or come back): any member for an open space; the invited for the others."""
    if space_membership(user, space) is not None or not can_view_space(user, space):
        return False
    return space.is_open or is_invited_to_space(user, space)


def can_post_in_space(user, space) -> bool:
    membership = space_membership(user, space)
    return membership is not None and membership.has_accepted_rules(space)


def can_moderate_space(user, space) -> bool:
    if not is_member(user):
        return False
    if acts_as_staff(user) or (space.is_open and acts_as_moderator(user)):
        return True
    membership = space_membership(user, space)
    return membership is not None and membership.is_moderator


def moderated_spaces(user, qs):
    if not is_member(user):
        return qs.none()
    if acts_as_staff(user):
        return qs
    SpaceMembership = _community().SpaceMembership
    own = SpaceMembership.objects.filter(user=user, left_at=None,
                                         role=SpaceMembership.Role.MODERATOR)
    rule = Q(pk__in=own.values("space_id"))
    if acts_as_moderator(user):
        rule |= Q(visibility=_community().Space.Visibility.OPEN)
    return qs.filter(rule)


def can_manage_space(user, space) -> bool:
    """Change the space's settings and rules, invite people, change members' roles: the
    space's moderators and hub staff."""
    if acts_as_staff(user):
        return True
    membership = space_membership(user, space)
    return membership is not None and membership.is_moderator


def can_view_thread(user, thread) -> bool:
    space = thread.space
    if not can_view_space(user, space):
        return False
    if thread.state == thread.State.VISIBLE or can_moderate_space(user, space):
        return True
    # Its author sees a thread while it waits, and after a moderator turned it down.
    membership = space_membership(user, space)
    return membership is not None and thread.created_by_id == membership.pk


def visible_threads(user, qs):
    """Threads in spaces the person sees: visible ones, plus those waiting or removed in
    spaces they moderate, plus their own in any state."""
    if not is_member(user):
        return qs.none()
    models = _community()
    spaces = visible_spaces(user, models.Space.objects.all()).values("pk")
    moderated = moderated_spaces(user, models.Space.objects.all()).values("pk")
    mine = models.SpaceMembership.objects.filter(user=user, left_at=None).values("pk")
    rule = (Q(state=models.Thread.State.VISIBLE) | Q(space__in=moderated)
            | Q(created_by__in=mine))
    return qs.filter(rule, space__in=spaces)


def can_read_post(user, post) -> bool:
    """Read the post's text (others see only that a hidden or removed post was there)."""
    thread = post.thread
    if not can_view_thread(user, thread):
        return False
    if post.state == post.State.VISIBLE or can_moderate_space(user, thread.space):
        return True
    membership = space_membership(user, thread.space)
    return membership is not None and post.author_id == membership.pk


def readable_posts(user, qs):
    if not is_member(user):
        return qs.none()
    models = _community()
    threads = visible_threads(user, models.Thread.objects.all()).values("pk")
    moderated = moderated_spaces(user, models.Space.objects.all()).values("pk")
    mine = models.SpaceMembership.objects.filter(user=user, left_at=None).values("pk")
    rule = (Q(state=models.Post.State.VISIBLE) | Q(thread__space__in=moderated)
            | Q(author__in=mine))
    return qs.filter(rule, thread__in=threads)


def can_reply_in_thread(user, thread) -> bool:
    return (can_view_thread(user, thread) and thread.state == thread.State.VISIBLE
            and not thread.locked and can_post_in_space(user, thread.space))


def can_flag_post(user, post) -> bool:
    """Flag a visible post of someone else's, as a member of its space. (Whether this person
    has flagged it already, the service says with a reason.)"""
    membership = space_membership(user, post.thread.space)
    return (membership is not None and post.state == post.State.VISIBLE
            and can_view_thread(user, post.thread) and post.author_id != membership.pk)


def can_export_thread(user, thread) -> bool:
    return can_view_thread(user, thread) and not thread.space.chatham_house


def can_quote_post(user, post, into_space) -> bool:
    """Quote a post into a thread of ``into_space``: never out of a Chatham House space."""
    source = post.thread.space
    if post.state != post.State.VISIBLE or not can_read_post(user, post):
        return False
    if source.chatham_house and into_space.pk != source.pk:
        return False
    return can_post_in_space(user, into_space)


def can_view_moderation_log(user, space) -> bool:
    """The log of moderators' actions is open to everyone who sees the space."""
    return can_view_space(user, space)


def can_reveal_identity(user, space) -> bool:
    return space.pseudonymous and acts_as_staff(user)


def shows_identity(space) -> bool:
    """Whether pages name the authors of the space's posts (never in a pseudonymous one)."""
    return not space.pseudonymous


# --- Community: news and briefings ----------------------------------------------------------
#
# News comes from hub staff and is public once published. A briefing is given by a partner
# organisation to an audience it chooses: everyone, the members of the hub, or the members of
# organisations it names (members of the issuing organisation always see it). Hub staff see
# every briefing. Drafts and withdrawn items are seen only by the people who write them: staff
# for news; the issuing organisation's editors and admins, and staff, for briefings; and
# whoever wrote the item. To everyone else they answer like a missing page and appear in no
# list, feed or email. Feeds and the weekly email are anonymous: they carry public items only.

def can_write_news(user) -> bool:
    return acts_as_staff(user)


def can_manage_news(user, item) -> bool:
    """Edit, publish or withdraw a news item: hub staff."""
    return acts_as_staff(user)


def can_view_news(user, item) -> bool:
    if item.status == item.Status.PUBLISHED or acts_as_staff(user):
        return True
    return is_member(user) and item.author_id == user.pk


def visible_news(user, qs):
    if acts_as_staff(user):
        return qs
    rule = Q(status=_community().NewsItem.Status.PUBLISHED)
    if is_member(user):
        rule |= Q(author=user)
    return qs.filter(rule)


def briefing_organisation_ids(user) -> set[int]:
    """Partner organisations this person may give briefings for: those whose editors or
    admins they are; hub staff, any partner."""
    partners = Organisation.objects.filter(is_partner=True)
    if acts_as_staff(user):
        return set(partners.values_list("pk", flat=True))
    editing = editor_org_ids(user) if is_member(user) else set()
    if not editing:
        return set()
    return set(partners.filter(pk__in=editing).values_list("pk", flat=True))


def can_write_briefings(user) -> bool:
    return bool(briefing_organisation_ids(user))


def _issuer_manages(user, item) -> bool:
    """Briefings and consultations are run by the issuing organisation's editors and admins,
    and by hub staff."""
    if acts_as_staff(user):
        return True
    return is_member(user) and item.organisation_id in editor_org_ids(user)


def _issued_by_editors(user, qs):
    if acts_as_staff(user):
        return qs
    if not is_member(user):
        return qs.none()
    return qs.filter(organisation_id__in=list(editor_org_ids(user)))


def _named_audience_q(user, model, status) -> Q:
    """Items of ``model`` in ``status`` whose audience includes this person: everyone, the
    hub's members, or the members of the issuing organisation and of the organisations named."""
    Audience = model.Audience
    rule = Q(audience=Audience.PUBLIC)
    if is_member(user):
        mine = list(org_roles(user))
        named = model.audience_organisations.through.objects.filter(
            organisation_id__in=mine).values(f"{model._meta.model_name}_id")
        rule |= Q(audience=Audience.MEMBERS) | Q(
            Q(organisation_id__in=mine) | Q(pk__in=named), audience=Audience.ORGANISATIONS)
    return Q(rule, status=status)


def can_manage_briefing(user, briefing) -> bool:
    """Edit, publish or withdraw: the issuing organisation's editors and admins, and staff."""
    return _issuer_manages(user, briefing)


def managed_briefings(user, qs):
    return _issued_by_editors(user, qs)


def _briefing_audience_q(user) -> Q:
    """Published briefings whose audience includes this person."""
    Briefing = _community().Briefing
    return _named_audience_q(user, Briefing, Briefing.Status.PUBLISHED)


def can_view_briefing(user, briefing) -> bool:
    if can_manage_briefing(user, briefing) or (
            is_member(user) and briefing.author_id == user.pk):
        return True
    if briefing.status != briefing.Status.PUBLISHED:
        return False
    Audience = briefing.Audience
    if briefing.audience == Audience.PUBLIC:
        return True
    if not is_member(user):
        return False
    if briefing.audience == Audience.MEMBERS:
        return True
    mine = set(org_roles(user))
    return briefing.organisation_id in mine or briefing.audience_organisations.filter(
        pk__in=mine).exists()


def visible_briefings(user, qs):
    if acts_as_staff(user):
        return qs
    rule = _briefing_audience_q(user)
    if is_member(user):
        rule |= Q(organisation_id__in=list(editor_org_ids(user))) | Q(author=user)
    return qs.filter(rule)


def public_briefings(qs):
    """Briefings for everyone: what feeds and the weekly email may carry."""
    Briefing = _community().Briefing
    return qs.filter(status=Briefing.Status.PUBLISHED, audience=Briefing.Audience.PUBLIC)


# --- Research workspace ---------------------------------------------------------------------
#
# A study belongs to its team: a lead, coders and viewers. Only the team reads its content
# (participants, sources, codes, codings, memos, exports). A study the lead chooses to list
# shows members its title, questions and outputs, nothing more; an unlisted study answers like
# a missing page to everyone outside the team. Hub staff have no way in of their own: they see
# a study's content only when its lead adds them to the team. Viewers read; coders and the lead
# code; the lead runs the study (team, settings, import, codebook structure, reveal).
#
# Blind coding: while a study is blind and not yet revealed, every coder, the lead included,
# sees only their own codings, by every address and in every export and analysis.

def _research():
    from hub.research import models

    return models


def study_role(user, study) -> str | None:
    """The person's role in the study's team, or None."""
    if not is_member(user):
        return None
    if not hasattr(user, "_hub_study_roles"):
        user._hub_study_roles = dict(_research().StudyMember.objects.filter(
            user=user).values_list("study_id", "role"))
    return user._hub_study_roles.get(study.pk)


def forget_study_roles(user) -> None:
    if hasattr(user, "_hub_study_roles"):
        delattr(user, "_hub_study_roles")


def _team_study_ids(user) -> list[int]:
    if not is_member(user):
        return []
    return list(_research().StudyMember.objects.filter(user=user).values_list(
        "study_id", flat=True))


def can_create_study(user) -> bool:
    return is_member(user)


def can_view_study(user, study) -> bool:
    """See the study's page: its team, or any member when the study is listed."""
    return study_role(user, study) is not None or (is_member(user) and study.listed)


def visible_studies(user, qs):
    if not is_member(user):
        return qs.none()
    return qs.filter(Q(pk__in=_team_study_ids(user)) | Q(listed=True))


def can_read_study(user, study) -> bool:
    """Read the study's content: participants, sources, codes, codings, memos, exports."""
    return study_role(user, study) is not None


def readable_studies(user, qs):
    return qs.filter(pk__in=_team_study_ids(user))


def can_code_study(user, study) -> bool:
    StudyMember = _research().StudyMember
    return (study.status == study.Status.ACTIVE
            and study_role(user, study) in (StudyMember.Role.LEAD, StudyMember.Role.CODER))


def can_manage_study(user, study) -> bool:
    return study_role(user, study) == _research().StudyMember.Role.LEAD


def can_view_coding(user, coding) -> bool:
    study = coding.source.study
    if not can_read_study(user, study):
        return False
    return not study.codings_hidden or coding.coder_id == user.pk


def visible_codings(user, qs):
    """Codings this person may see: their team's studies, and in a study still blind only
    their own."""
    ids = _team_study_ids(user)
    if not ids:
        return qs.none()
    return qs.filter(source__study_id__in=ids).filter(
        Q(source__study__blind=False) | Q(source__study__revealed_at__isnull=False)
        | Q(coder=user))


def can_view_memo(user, memo) -> bool:
    return can_read_study(user, memo.study) and (
        memo.coding_id is None or can_view_coding(user, memo.coding))


def visible_memos(user, qs):
    ids = _team_study_ids(user)
    if not ids:
        return qs.none()
    return qs.filter(study_id__in=ids).filter(
        Q(coding__isnull=True) | Q(study__blind=False) | Q(study__revealed_at__isnull=False)
        | Q(coding__coder=user))


def can_edit_memo(user, memo) -> bool:
    return can_view_memo(user, memo) and can_code_study(user, memo.study) and (
        memo.author_id == user.pk or can_manage_study(user, memo.study))


def can_curate_study(user, study) -> bool:
    """Import sources and keep the participants and registered names: the lead, while the
    study is active (an archived study is read only)."""
    return study.status == study.Status.ACTIVE and can_manage_study(user, study)


def can_view_agreement(user, study) -> bool:
    """The agreement figures: the lead at any time (figures say nothing about who coded
    what), the rest of the team once codings are no longer hidden."""
    return can_manage_study(user, study) or (
        can_read_study(user, study) and not study.codings_hidden)


def can_view_disagreements(user, study) -> bool:
    """The passages where coders differ show each coder's codings: not while blind."""
    return can_read_study(user, study) and not study.codings_hidden


def can_exchange_study(user, study) -> bool:
    """Export the whole study (REFI-QDA project) or import into it: the lead."""
    return can_manage_study(user, study)


def can_export_codebook(user, study) -> bool:
    return can_read_study(user, study)


# --- Community: consultations and concerns --------------------------------------------------
#
# A consultation is opened by a partner organisation (its editors and admins; hub staff for any
# partner) for an audience it chooses, as a briefing is: everyone (members respond), the members
# of the hub, or the members of organisations it names (members of the issuing organisation
# always included). Drafts and withdrawn consultations are seen only by those who manage them:
# the issuing organisation's editors and admins, and hub staff. Whoever may see a consultation
# sees its responses, with a respondent's name only where they chose to show it; the issuing
# organisation sees exactly the same, so answering never costs anyone their anonymity. Members
# of the audience respond while it is open and before its closing date.
#
# A concern is raised by a member and addressed to an organisation. A public concern and its
# answers are readable by anyone, visitors included, until a moderator removes it; a private one
# (or a removed one) is seen only by its author and the addressed organisation's editors and
# admins: not by hub staff, moderators or anyone else. Those editors and admins answer for the
# organisation; the author follows up; either may close it.

def consultation_organisation_ids(user) -> set[int]:
    """Partner organisations this person may open consultations for: those they edit or
    administer; hub staff, any partner."""
    return briefing_organisation_ids(user)


def can_open_consultations(user) -> bool:
    return bool(consultation_organisation_ids(user))


def can_manage_consultation(user, consultation) -> bool:
    """Edit, open, withdraw, publish the outcome, export the answers."""
    return _issuer_manages(user, consultation)


def managed_consultations(user, qs):
    return _issued_by_editors(user, qs)


def _consultation_audience_q(user) -> Q:
    """Opened consultations whose audience includes this person."""
    Consultation = _community().Consultation
    return _named_audience_q(user, Consultation, Consultation.Status.OPEN)


def in_consultation_audience(user, consultation) -> bool:
    if consultation.status != consultation.Status.OPEN:
        return False
    Audience = consultation.Audience
    if consultation.audience == Audience.PUBLIC:
        return True
    if not is_member(user):
        return False
    if consultation.audience == Audience.MEMBERS:
        return True
    mine = set(org_roles(user))
    return consultation.organisation_id in mine or consultation.audience_organisations.filter(
        pk__in=mine).exists()


def can_view_consultation(user, consultation) -> bool:
    return can_manage_consultation(user, consultation) or in_consultation_audience(
        user, consultation)


def visible_consultations(user, qs):
    if acts_as_staff(user):
        return qs
    rule = _consultation_audience_q(user)
    if is_member(user):
        rule |= Q(organisation_id__in=list(editor_org_ids(user)))
    return qs.filter(rule)


def can_respond_consultation(user, consultation, now=None) -> bool:
    """Members of the audience, while the consultation is open and before it closes."""
    from django.utils import timezone

    return (is_member(user) and in_consultation_audience(user, consultation)
            and consultation.closes_at > (now or timezone.now()))


def can_view_consultation_responses(user, consultation) -> bool:
    """Responses follow the consultation: whoever sees it sees the answers (names only where
    the respondent chose to show them)."""
    return can_view_consultation(user, consultation)


def can_export_consultation(user, consultation) -> bool:
    return can_manage_consultation(user, consultation)


def can_raise_concern(user) -> bool:
    return is_member(user)


def can_answer_concern(user, concern) -> bool:
    """Answer for the addressed organisation: its editors and admins."""
    return is_member(user) and concern.organisation_id in editor_org_ids(user)


def _is_concern_author(user, concern) -> bool:
    return is_member(user) and concern.author_id == user.pk


def can_view_concern(user, concern) -> bool:
    if _is_concern_author(user, concern) or can_answer_concern(user, concern):
        return True
    return (concern.visibility == concern.Visibility.PUBLIC
            and concern.removed_at is None)


def visible_concerns(user, qs):
    Concern = _community().Concern
    rule = Q(visibility=Concern.Visibility.PUBLIC, removed_at__isnull=True)
    if is_member(user):
        rule |= Q(author=user) | Q(organisation_id__in=list(editor_org_ids(user)))
    return qs.filter(rule)


def can_reply_concern(user, concern) -> bool:
    """The organisation answers and the author follows up, until it is closed."""
    return concern.status != concern.Status.CLOSED and (
        _is_concern_author(user, concern) or can_answer_concern(user, concern))


def can_close_concern(user, concern) -> bool:
    return can_reply_concern(user, concern)


def can_remove_concern(user, concern) -> bool:
    """Hub moderators (and staff) take a public concern out of public view, with a reason."""
    return ((acts_as_moderator(user) or acts_as_staff(user))
            and concern.visibility == concern.Visibility.PUBLIC
            and concern.removed_at is None)


# --- Community: ideas board -----------------------------------------------------------------
#
# The ideas board belongs to the members of the hub. Every approved member reads every idea,
# whatever its status, puts ideas forward, supports an idea (once) and comments. Visitors,
# applicants and deactivated accounts see nothing of it: its pages ask them to sign in or
# answer like a missing page. An idea's author may change it while it is still new; once staff
# take it up, it stays as it was discussed. Support is given and withdrawn while the idea is
# new or under discussion; a decided idea keeps the support it had. Nobody sees who supported
# an idea (only how many did, from each sector). A comment's author may delete it; hub
# moderators and staff remove one with a reason that stays in its place. Hub staff set the
# status, with a reason (always when declining), and link an adopted idea to what came of it;
# those links are shown only to people who may see the event or resource they point at.

def can_view_idea(user, idea) -> bool:
    return is_member(user)


def visible_ideas(user, qs):
    return qs if is_member(user) else qs.none()


def can_submit_idea(user) -> bool:
    return is_member(user)


def can_edit_idea(user, idea) -> bool:
    """Change the title and text: the author, while the idea is new."""
    return (is_member(user) and idea.author_id == user.pk
            and idea.status == idea.Status.NEW)


def idea_open_for_support(idea) -> bool:
    return idea.status in (idea.Status.NEW, idea.Status.DISCUSSION)


def can_support_idea(user, idea) -> bool:
    """Give or withdraw support (whether this person already supports it, the service says)."""
    return can_view_idea(user, idea) and idea_open_for_support(idea)


def can_comment_on_idea(user, idea) -> bool:
    return can_view_idea(user, idea)


def can_delete_idea_comment(user, comment) -> bool:
    return (is_member(user) and comment.author_id == user.pk
            and comment.removed_at is None)


def can_remove_idea_comment(user, comment) -> bool:
    """Remove someone's comment, giving a reason: hub moderators and staff."""
    return comment.removed_at is None and (acts_as_moderator(user) or acts_as_staff(user))


def can_decide_idea(user, idea=None) -> bool:
    """Set the status, the reason and what came of an adopted idea: hub staff."""
    return acts_as_staff(user)


# --- Community: stories and funding ---------------------------------------------------------
#
# Success stories and funding opportunities come from hub staff and from the editors and admins
# of partner organisations (the same people who give briefings). A story is told for one
# organisation (or, by staff, for the hub itself); a funding opportunity belongs to whoever
# listed it. Both are public once published. Drafts and withdrawn ones are seen only by the
# people who write them: staff; for a story, its organisation's editors and admins and its
# author; for an opportunity, the member who listed it. To everyone else they answer like a
# missing page and appear in no list, feed or email. Links from a story to initiatives and
# library items are shown to each reader through their own rules (``visible_initiatives``,
# ``visible_resources``). Members follow published opportunities that are still open, to be
# reminded before the deadline.

def story_organisation_ids(user) -> set[int]:
    """Organisations this person may tell stories for: as for briefings."""
    return briefing_organisation_ids(user)


def can_write_stories(user) -> bool:
    return bool(story_organisation_ids(user))


def can_manage_story(user, story) -> bool:
    """Edit, publish or withdraw: the organisation's editors and admins, and staff."""
    if acts_as_staff(user):
        return True
    return (is_member(user) and story.organisation_id is not None
            and story.organisation_id in editor_org_ids(user))


def can_view_story(user, story) -> bool:
    if story.status == story.Status.PUBLISHED or can_manage_story(user, story):
        return True
    return is_member(user) and story.author_id == user.pk


def visible_stories(user, qs):
    if acts_as_staff(user):
        return qs
    rule = Q(status=_community().Story.Status.PUBLISHED)
    if is_member(user):
        rule |= Q(organisation_id__in=list(editor_org_ids(user))) | Q(author=user)
    return qs.filter(rule)


def managed_stories(user, qs):
    """Stories this person may change, any status (their organisations' own list)."""
    if acts_as_staff(user):
        return qs
    if not is_member(user):
        return qs.none()
    return qs.filter(organisation_id__in=list(editor_org_ids(user)))


def public_stories(qs):
    """What feeds and the weekly email may carry: published stories."""
    return qs.filter(status=_community().Story.Status.PUBLISHED)


def can_write_funding(user) -> bool:
    """List funding opportunities: staff and the editors and admins of partner organisations."""
    return bool(briefing_organisation_ids(user))


def can_manage_funding(user, opportunity) -> bool:
    """Edit or withdraw: staff, and the member who listed it while they may still list."""
    if acts_as_staff(user):
        return True
    return (is_member(user) and opportunity.created_by_id == user.pk
            and can_write_funding(user))


def can_view_funding(user, opportunity) -> bool:
    if opportunity.status == opportunity.Status.PUBLISHED or acts_as_staff(user):
        return True
    return is_member(user) and opportunity.created_by_id == user.pk


def visible_funding(user, qs):
    if acts_as_staff(user):
        return qs
    rule = Q(status=_community().FundingOpportunity.Status.PUBLISHED)
    if is_member(user):
        rule |= Q(created_by=user)
    return qs.filter(rule)


def public_funding(qs):
    """What feeds and the weekly email may carry: published opportunities."""
    return qs.filter(status=_community().FundingOpportunity.Status.PUBLISHED)


def can_follow_funding(user, opportunity, now=None) -> bool:
    """Follow to be reminded: members, of a published opportunity whose deadline is ahead."""
    from django.utils import timezone

    return (is_member(user) and opportunity.status == opportunity.Status.PUBLISHED
            and opportunity.deadline > (now or timezone.now()))


# --- Library: who shares search results ----------------------------------------------------

def library_audience(user) -> tuple:
    """A name for everyone who may find exactly the same resources, and open the same files,
    as this person, so one rendered page of search results can serve them all (see
    ``hub.library.caching``), and the moment that stops being true by the clock alone (the
    first of their grants to expire), or None. Visitors (applicants and deactivated people
    too) share one name; members with no grant, no approver's power and no contribution
    outside their organisations share by partner standing and organisations. Everyone else
    (staff, approvers, people a grant reaches, directly or through an organisation) gets a
    name of their own that holds every fact the rules read, so a change to any of them moves
    them to another name at once."""
    if not is_member(user):
        return "visitors", None
    from django.db.models import Count, Min

    lib = _library()
    orgs = sorted(org_roles(user))
    partner = is_partner_member(user)
    staff = acts_as_staff(user)
    approves = sorted(approver_org_ids(user)) if any(
        role in POWER_ROLES for role in org_roles(user).values()) else []
    grants = _grants_for(user).aggregate(n=Count("pk"), until=Min("expires_at"))
    outside = lib.Resource.objects.filter(contributor=user).exclude(
        organisation_id__in=orgs).exists()
    facts = f"partner={int(partner)}:orgs=" + ",".join(str(org) for org in orgs)
    if not (staff or approves or grants["n"] or outside):
        return f"members:{facts}", None
    return (f"person={user.pk}:staff={int(staff)}:approves="
            + ",".join(str(org) for org in approves) + f":{facts}"), grants["until"]


# --- Research workspace: codebook and coding ------------------------------------------------
#
# The lead shapes the codebook (rename, move, reorder, merge, split, delete, load the starting
# codebook) while the study is active. Coders and the lead add codes as they code: a new idea
# should not wait for the lead, and the lead can merge or move it later. A coding is removed
# by its coder, or by the lead among the codings the lead may see (blind coding still holds).

def can_shape_codebook(user, study) -> bool:
    return can_manage_study(user, study) and can_code_study(user, study)


def can_add_code(user, study) -> bool:
    return can_code_study(user, study)


def can_remove_coding(user, coding) -> bool:
    study = coding.source.study
    return can_code_study(user, study) and can_view_coding(user, coding) and (
        coding.coder_id == user.pk or can_manage_study(user, study))


# --- Who each address is for ----------------------------------------------------------------
# Every URL pattern the hub answers, by name, in one of three classes. A test walks the URL
# resolver and fails on any pattern missing here, and checks that a signed-out visitor gets no
# page from any address that is not public.
#
# - public: anyone may open it, signed out included; what it shows still follows the rules
#   above (a private item answers like a missing one). Addresses whose secret token is the
#   credential (invitations, private assessment links, answer keys) are public too.
# - member: needs an account in good standing and nothing more.
# - role: needs more than membership: hub staff or a moderator, an organisation role, or being
#   the one who owns or runs the object (contributor, facilitator, approver).

PUBLIC, MEMBER, ROLE = "public", "member", "role"

URL_CLASSES: dict[str, str] = {
    # The hub's own pages
    "core:home": PUBLIC,
    "core:your_data": PUBLIC,
    "core:research": PUBLIC,
    "core:healthz": PUBLIC,
    "core:ping": PUBLIC,
    # People and organisations
    "members:apply": PUBLIC,
    "members:invitation_open": PUBLIC,
    "members:me": MEMBER,
    "members:profile_edit": MEMBER,
    "members:profile_detail": PUBLIC,
    "members:directory": PUBLIC,
    "members:organisation_list": PUBLIC,
    "members:organisation_detail": PUBLIC,
    "members:organisation_edit": ROLE,
    "members:membership_leave": MEMBER,
    "members:personal_data": MEMBER,
    "members:personal_data_export": MEMBER,
    "members:personal_data_erase": MEMBER,
    "members:organisation_manage": ROLE,
    "members:membership_role": ROLE,
    "members:membership_remove": ROLE,
    "members:invitation_revoke": ROLE,
    "members:application_queue": ROLE,
    "members:application_decide": ROLE,
    "members:application_decline": ROLE,
    # Library
    "library:home": PUBLIC,
    "library:detail": PUBLIC,
    "library:download": PUBLIC,
    "library:cite": PUBLIC,
    "library:export": PUBLIC,
    "library:feed": PUBLIC,
    "library:oai": PUBLIC,
    "library:contribute": MEMBER,
    "library:mine": MEMBER,
    "library:my_requests": MEMBER,
    "library:request": MEMBER,
    "library:withdraw": MEMBER,
    "library:edit": ROLE,
    "library:file_add": ROLE,
    "library:file_status": ROLE,
    "library:file_action": ROLE,
    "library:submit": ROLE,
    "library:curation": ROLE,
    "library:curate": ROLE,
    "library:inbox": ROLE,
    "library:decide": ROLE,
    "library:access": ROLE,
    "library:grant_revoke": ROLE,
    "library:access_log": ROLE,
    # Assessment
    "assessment:home": PUBLIC,
    "assessment:instrument": PUBLIC,
    "assessment:instrument_version": PUBLIC,
    "assessment:initiative": PUBLIC,
    "assessment:report": PUBLIC,
    "assessment:report_csv": PUBLIC,
    "assessment:report_pdf": PUBLIC,
    "assessment:compare": PUBLIC,
    "assessment:compare_csv": PUBLIC,
    "assessment:programme": PUBLIC,
    "assessment:programme_csv": PUBLIC,
    "assessment:link": PUBLIC,
    "assessment:answer_key": PUBLIC,
    "assessment:initiative_new": MEMBER,
    "assessment:programme_new": MEMBER,
    "assessment:respond": MEMBER,
    "assessment:answer": MEMBER,
    "assessment:instrument_publish": ROLE,
    "assessment:initiative_edit": ROLE,
    "assessment:facilitator_add": ROLE,
    "assessment:facilitator_remove": ROLE,
    "assessment:context_add": ROLE,
    "assessment:context_delete": ROLE,
    "assessment:round_new": ROLE,
    "assessment:round": ROLE,
    "assessment:round_invite": ROLE,
    "assessment:round_links": ROLE,
    "assessment:round_links_withdraw": ROLE,
    "assessment:round_remind": ROLE,
    "assessment:round_close": ROLE,
    "assessment:programme_edit": ROLE,
    # Community: events
    "community:home": PUBLIC,
    "community:event_detail": PUBLIC,
    "community:calendar_feed": PUBLIC,
    "community:subscribe": PUBLIC,
    "community:subscription_confirm": PUBLIC,
    "community:unsubscribe": PUBLIC,
    "community:my_events": MEMBER,
    "community:calendar": MEMBER,
    "community:register": MEMBER,
    "community:registration_cancel": MEMBER,
    "community:event_new": ROLE,
    "community:event_edit": ROLE,
    "community:event_registrations": ROLE,
    "community:event_cancel": ROLE,
    "community:event_followup": ROLE,
    # Community: discussion spaces
    "community:space_list": MEMBER,
    "community:notifications": MEMBER,
    "community:space_detail": MEMBER,
    "community:space_join": MEMBER,
    "community:space_leave": MEMBER,
    "community:space_log": MEMBER,
    "community:thread_new": MEMBER,
    "community:thread_detail": MEMBER,
    "community:thread_export": MEMBER,
    "community:post_reply": MEMBER,
    "community:post_flag": MEMBER,
    "community:post_quote": MEMBER,
    "community:space_new": ROLE,
    "community:space_edit": ROLE,
    "community:space_members": ROLE,
    "community:space_member_change": ROLE,
    "community:space_queue": ROLE,
    "community:thread_lock": ROLE,
    "community:post_moderate": ROLE,
    "community:post_reveal": ROLE,
    # Community: news and briefings
    "community:news_list": PUBLIC,
    "community:news_feed": PUBLIC,
    "community:news_detail": PUBLIC,
    "community:briefing_detail": PUBLIC,
    "community:news_new": ROLE,
    "community:news_edit": ROLE,
    "community:news_withdraw": ROLE,
    "community:briefing_new": ROLE,
    "community:briefing_mine": ROLE,
    "community:briefing_edit": ROLE,
    "community:briefing_withdraw": ROLE,
    # Community: stories and funding
    "community:story_list": PUBLIC,
    "community:story_feed": PUBLIC,
    "community:story_new": ROLE,
    "community:story_mine": ROLE,
    "community:story_detail": PUBLIC,
    "community:story_edit": ROLE,
    "community:story_withdraw": ROLE,
    "community:funding_list": PUBLIC,
    "community:funding_feed": PUBLIC,
    "community:funding_new": ROLE,
    "community:funding_following": MEMBER,
    "community:funding_detail": PUBLIC,
    "community:funding_edit": ROLE,
    "community:funding_withdraw": ROLE,
    "community:funding_follow": MEMBER,
    # Community: ideas board (the author's and moderators' actions are "role")
    "community:idea_list": MEMBER,
    "community:idea_new": MEMBER,
    "community:idea_detail": MEMBER,
    "community:idea_support": MEMBER,
    "community:idea_support_withdraw": MEMBER,
    "community:idea_comment": MEMBER,
    "community:idea_edit": ROLE,
    "community:idea_comment_delete": ROLE,
    "community:idea_comment_remove": ROLE,
    "community:idea_status": ROLE,
    # Community: consultations and concerns
    "community:consultation_list": PUBLIC,
    "community:consultation_detail": PUBLIC,
    "community:concern_list": PUBLIC,
    "community:concern_detail": PUBLIC,
    "community:consultation_respond": MEMBER,
    "community:concern_new": MEMBER,
    "community:concern_reply": MEMBER,
    "community:concern_close": MEMBER,
    "community:consultation_new": ROLE,
    "community:consultation_edit": ROLE,
    "community:consultation_withdraw": ROLE,
    "community:consultation_outcome": ROLE,
    "community:consultation_export": ROLE,
    "community:concern_remove": ROLE,
    # Research workspace: studies, teams, participants and sources
    "research:study_list": MEMBER,
    "research:study_new": MEMBER,
    "research:study_detail": MEMBER,
    "research:study_edit": ROLE,
    "research:study_archive": ROLE,
    "research:study_log": ROLE,
    "research:team": ROLE,
    "research:team_change": ROLE,
    "research:team_remove": ROLE,
    "research:participant_list": ROLE,
    "research:participant_new": ROLE,
    "research:participant_edit": ROLE,
    "research:participant_delete": ROLE,
    "research:registry": ROLE,
    "research:source_list": ROLE,
    "research:source_import": ROLE,
    "research:source_review": ROLE,
    "research:source_detail": ROLE,
    "research:source_edit": ROLE,
    "research:source_delete": ROLE,
    # Research workspace: codebook, coding, memos, retrieval and analysis (the team)
    "research:codebook": ROLE,
    "research:code_new": ROLE,
    "research:codebook_starter": ROLE,
    "research:codes_css": ROLE,
    "research:code_detail": ROLE,
    "research:study_reveal": ROLE,
    "research:source_code": ROLE,
    "research:coding_add": ROLE,
    "research:source_codings_json": ROLE,
    "research:coding_remove": ROLE,
    "research:memo_new": ROLE,
    "research:memo_edit": ROLE,
    "research:memo_delete": ROLE,
    "research:retrieve": ROLE,
    "research:retrieve_export": ROLE,
    "research:analysis": ROLE,
    "research:cooccurrence": ROLE,
    "research:analysis_search": ROLE,
    # Research workspace: agreement between coders and exchange with other tools (the team)
    "research:agreement": ROLE,
    "research:disagreements": ROLE,
    "research:segment": ROLE,
    "research:project_import": MEMBER,
    "research:exchange": ROLE,
    "research:project_export": ROLE,
    "research:codebook_export": ROLE,
    "research:codebook_import": ROLE,
    # Signing in and out (allauth), named one by one: a new allauth page must be classed here
    "account_login": PUBLIC,
    "account_signup": PUBLIC,
    "account_inactive": PUBLIC,
    "account_email_verification_sent": PUBLIC,
    "account_confirm_email": PUBLIC,
    "account_confirm_login_code": PUBLIC,
    "account_reset_password": PUBLIC,
    "account_reset_password_done": PUBLIC,
    "account_reset_password_from_key": PUBLIC,
    "account_reset_password_from_key_done": PUBLIC,
    "account_logout": MEMBER,
    "account_reauthenticate": MEMBER,
    # allauth 65.21 and later: confirm one's identity again by a code sent by email.
    "account_request_reauthentication_code": MEMBER,
    "account_confirm_reauthentication_code": MEMBER,
    "account_email": MEMBER,
    "account_change_password": MEMBER,
    "account_set_password": MEMBER,
}

# Whole families classed by the start of their name: every admin page (unnamed ones are
# looked up as "admin:"), and allauth's two-step sign-in pages, which act on one's own account.
URL_CLASS_PREFIXES: dict[str, str] = {
    "admin:": ROLE,
    "mfa_": MEMBER,
}


def url_class(name: str) -> str | None:
    """The class of a URL pattern by its namespaced name, or None when it has none."""
    if name in URL_CLASSES:
        return URL_CLASSES[name]
    for prefix, url_class_ in URL_CLASS_PREFIXES.items():
        if name.startswith(prefix):
            return url_class_
    return None
