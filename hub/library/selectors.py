"""Reads of the library that views share, each filtered by the policy."""

from django.db.models import Count, Prefetch, Q, prefetch_related_objects

from hub import policy
from hub.core.models import AuditEvent
from hub.library.models import AccessRequest, Decision, Grant, Resource, ResourceFile


def resource_for(user, pk: int) -> Resource | None:
    """One resource, or None when it does not exist or this person may not see it.

    Read by its key and judged by the policy's rule for one resource (the twin of
    ``visible_resources``, which lists use): cheaper than asking the database to apply the
    list's condition to a single row."""
    resource = (Resource.objects.select_related("organisation", "contributor__profile",
                                                "access_rule")
                .filter(pk=pk).first())
    if resource is None or not policy.can_view_resource(user, resource):
        return None
    prefetch_related_objects([resource], "themes", "audiences",
                             Prefetch("files", ResourceFile.objects.order_by("created", "id")))
    return resource


def my_contributions(user):
    return (Resource.objects.filter(contributor=user).select_related("organisation")
            .annotate(file_count=Count("files"),
                      waiting=Count("files", filter=Q(files__extraction__in=[
                          ResourceFile.Extraction.PENDING, ResourceFile.Extraction.REVIEW,
                          ResourceFile.Extraction.FAILED])))
            .order_by("-modified"))


def curation_queue(user):
    return (policy.curatable_resources(user, Resource.objects.filter(
        status=Resource.Status.SUBMITTED)).select_related("organisation", "contributor__profile")
            .order_by("submitted_at"))


def inbox(user):
    """Requests this person can see as an approver: those waiting for them first."""
    requests = (policy.visible_requests(user, AccessRequest.objects.all())
                .exclude(requester=user)
                .select_related("resource__organisation", "resource__access_rule",
                                "requester__profile")
                .prefetch_related(Prefetch("decisions", Decision.objects.select_related(
                    "organisation"))))
    waiting, others = [], []
    for access_request in requests.order_by("-created")[:200]:
        if policy.can_decide_request(user, access_request):
            waiting.append(access_request)
        else:
            others.append(access_request)
    return waiting, others


def my_requests(user):
    return (AccessRequest.objects.filter(requester=user)
            .select_related("resource__organisation")
            .prefetch_related(Prefetch("decisions", Decision.objects.select_related(
                "organisation")), "grant")
            .order_by("-created"))


def grants_for(resource):
    return (Grant.objects.filter(resource=resource)
            .select_related("organisation", "user__profile", "granted_by__profile"))


def access_log(user, *, organisation=None, resource=None):
    events = policy.visible_access_log(user, AuditEvent.objects.all())
    if organisation is not None:
        events = events.filter(organisation=organisation)
    if resource is not None:
        events = events.filter(target_type="library.resource", target_id=str(resource.pk))
    return events.select_related("actor__profile", "organisation")
