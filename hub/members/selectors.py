"""Reads that views share, always filtered by the policy."""

from allauth.account.models import EmailAddress
from django.db.models import Count, Exists, OuterRef, Q
from django.shortcuts import get_object_or_404

from hub import policy
from hub.core.models import AuditEvent
from hub.members.models import Application, Membership, Organisation, Profile, User


def profile_get(*, user, pk: int) -> Profile:
    qs = Profile.objects.select_related("user", "organisation").prefetch_related("expertise")
    return get_object_or_404(policy.visible_profiles(user, qs), pk=pk)


def organisation_list(*, user):
    qs = policy.visible_organisations(user, Organisation.objects.all())
    visible_members = policy.visible_memberships(user, Membership.objects.all())
    return qs.annotate(
        shown_members=Count("memberships", filter=Q(memberships__in=visible_members)))


def organisation_get(*, user, slug: str) -> Organisation:
    return get_object_or_404(policy.visible_organisations(user, Organisation.objects.all()),
                             slug=slug)


def organisation_managed_get(*, user, slug: str) -> Organisation:
    qs = policy.managed_organisations(user, Organisation.objects.all())
    return get_object_or_404(qs, slug=slug)


def membership_list(*, user, organisation: Organisation):
    qs = organisation.memberships.select_related("user__profile", "user__profile__organisation")
    return policy.visible_memberships(user, qs).order_by("user__profile__display_name")


def membership_get(*, user, organisation: Organisation, pk: int) -> Membership:
    return get_object_or_404(membership_list(user=user, organisation=organisation), pk=pk)


def application_queue(*, user):
    confirmed = EmailAddress.objects.filter(user=OuterRef("user"), email=OuterRef("user__email"),
                                            verified=True)
    qs = (Application.objects.filter(status=Application.Status.PENDING)
          .select_related("user__profile", "organisation")
          .annotate(email_confirmed=Exists(confirmed)))
    return policy.decidable_applications(user, qs)


def application_get(*, user, pk: int) -> Application:
    qs = Application.objects.select_related("user__profile", "organisation")
    return get_object_or_404(policy.visible_applications(user, qs), pk=pk)


def application_recent_decisions(*, user, limit: int = 20):
    qs = Application.objects.exclude(status=Application.Status.PENDING).select_related(
        "user__profile", "organisation", "decided_by__profile")
    return policy.visible_applications(user, qs).exclude(user=user).order_by("-decided_at")[:limit]


def invitation_list(*, user, organisation: Organisation):
    qs = organisation.invitations.select_related("used_by__profile", "invited_by__profile")
    return policy.visible_invitations(user, qs)


def membership_list_of(*, user, member):
    """The organisations a person belongs to, as far as the viewer may see them."""
    qs = Membership.objects.filter(user=member).select_related("organisation")
    return policy.visible_memberships(user, qs)


def audit_list(*, user, organisation: Organisation | None = None, limit: int = 50):
    qs = policy.visible_audit_events(user, AuditEvent.objects.select_related("actor__profile"))
    if organisation is not None:
        qs = qs.filter(organisation=organisation)
    return qs[:limit]


def my_memberships(*, user):
    return Membership.objects.filter(user=user).select_related("organisation")


def organisations_only_admin(*, user):
    """Organisations that would be left without an administrator if ``user`` left."""
    return Organisation.objects.filter(
        memberships__user=user, memberships__role=Membership.Role.ADMIN).annotate(
            admins=Count("memberships", filter=Q(memberships__role=Membership.Role.ADMIN))
    ).filter(admins=1).order_by("name")


def directory(*, user, q: str = "", sector: str = "", country: str = "", expertise=None):
    """Members the viewer may see, found by words in their name, organisation, expertise or
    bio, and filtered by sector, country and expertise. Applicants and closed accounts are
    not listed."""
    qs = policy.visible_profiles(user, Profile.objects.filter(
        user__is_active=True, user__standing=User.Standing.MEMBER))
    for word in q.split()[:8]:
        tagged = Profile.expertise.through.objects.filter(
            profile_id=OuterRef("pk"), expertise__name__icontains=word)
        qs = qs.filter(Q(display_name__icontains=word) | Q(bio__icontains=word)
                       | Q(organisation__name__icontains=word) | Exists(tagged))
    if sector:
        qs = qs.filter(sector=sector)
    if country:
        qs = qs.filter(country=country)
    if expertise is not None:
        qs = qs.filter(expertise=expertise)
    return (qs.select_related("organisation").prefetch_related("expertise")
            .order_by("display_name", "pk"))


def organisation_search(*, user, q: str = "", kind: str = "", country: str = "",
                        partners: bool = False):
    qs = organisation_list(user=user)
    for word in q.split()[:8]:
        qs = qs.filter(Q(name__icontains=word) | Q(description__icontains=word))
    if kind:
        qs = qs.filter(kind=kind)
    if country:
        qs = qs.filter(country=country)
    if partners:
        qs = qs.filter(is_partner=True)
    return qs.order_by("name")
