"""Reads that views share, always filtered by the policy."""

from allauth.account.models import EmailAddress
from django.db.models import Count, Exists, OuterRef, Q
from django.shortcuts import get_object_or_404

from hub import policy
from hub.core.models import AuditEvent
from hub.members.models import Application, Membership, Organisation, Profile


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
