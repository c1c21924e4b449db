"""Every change to the library goes through a function here: contributing, curating, files,
access rules, requests, decisions and grants. Each checks the policy again and leaves a trace
in the audit trail that the contributing organisation's approvers read as the access log."""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from hub import policy
from hub.core.models import AuditEvent
from hub.core.services import audit_record, email_queue
from hub.library import files as filetypes
from hub.library import search
from hub.library.models import (
    AccessRequest,
    AccessRule,
    Decision,
    Grant,
    Resource,
    ResourceFile,
    Tier,
)
from hub.members.models import Membership, Organisation, User

TIER_RANK = {tier: rank for rank, tier in enumerate(Tier.values)}


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _notify(users, *, subject: str, template: str, context: dict) -> None:
    addresses = sorted({user.email for user in users if user.is_active and user.email})
    if not addresses:
        return
    body = render_to_string(template, {"site_url": settings.SITE_URL, **context})
    for address in addresses:
        email_queue(subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject, body=body,
                    to=[address], from_email=settings.DEFAULT_FROM_EMAIL)


def _log(actor, action: str, resource: Resource, outcome: str = "ok", **context):
    return audit_record(actor=actor, action=action, target=resource,
                        organisation=resource.organisation, outcome=outcome, **context)


def _people_with_roles(organisation_ids, roles):
    return User.objects.filter(
        is_active=True, memberships__organisation_id__in=organisation_ids,
        memberships__role__in=roles).distinct()


# --- Contributing and curating --------------------------------------------------------------

def check_tiers(metadata_tier: str, file_tier: str) -> None:
    if TIER_RANK[file_tier] < TIER_RANK[metadata_tier]:
        raise ValidationError({"file_tier": "Files cannot be more open than the description of "
                                            "the resource. Choose the same tier or a closer one."})


@transaction.atomic
def resource_create(*, actor: User, organisation: Organisation, audiences=(), themes=(),
                    **fields) -> Resource:
    _require(policy.can_contribute(actor))
    if organisation.pk not in policy.contributing_org_ids(actor):
        raise ValidationError({"organisation": "Choose an organisation you belong to."})
    check_tiers(fields.get("metadata_tier", Tier.PUBLIC), fields.get("file_tier", Tier.PUBLIC))
    resource = Resource(organisation=organisation, contributor=actor, **fields)
    resource.full_clean()
    resource.save()
    resource.audiences.set(audiences)
    resource.themes.set(themes)
    AccessRule.objects.create(resource=resource)
    _log(actor, "library.create", resource)
    return resource


def can_set_tiers(actor: User, resource: Resource) -> bool:
    """Tiers decide who sees what, so once a resource has been in the library only the
    contributing organisation's approvers change them; before that, whoever edits it."""
    if resource.pk is None or policy.can_manage_access(actor, resource):
        return True
    if resource.status != Resource.Status.DRAFT:
        return False
    return not AuditEvent.objects.filter(
        action="library.publish", target_type="library.resource",
        target_id=str(resource.pk)).exists()


@transaction.atomic
def resource_update(*, resource: Resource, actor: User, audiences=None, themes=None,
                    **fields) -> Resource:
    _require(policy.can_edit_resource(actor, resource))
    for tier in ("metadata_tier", "file_tier"):
        if tier in fields and fields[tier] != getattr(resource, tier):
            if not can_set_tiers(actor, resource):
                raise ValidationError({tier: "Only your organisation's approvers can change "
                                             "who may see a resource once it has been "
                                             "published."})
    check_tiers(fields.get("metadata_tier", resource.metadata_tier),
                fields.get("file_tier", resource.file_tier))
    for name, value in fields.items():
        setattr(resource, name, value)
    resource.full_clean()
    resource.save()
    if audiences is not None:
        resource.audiences.set(audiences)
    if themes is not None:
        resource.themes.set(themes)
    _log(actor, "library.edit", resource)
    _reindex(resource)
    return resource


def _reindex(resource: Resource) -> None:
    # The index lives in the same database, so it changes in the same transaction.
    search.index_resource(resource.pk)


def _touch(resource: Resource) -> None:
    """Mark the record changed, so harvesters see that its files changed."""
    Resource.objects.filter(pk=resource.pk).update(modified=timezone.now())


@transaction.atomic
def resource_submit(*, resource: Resource, actor: User) -> Resource:
    _require(policy.can_edit_resource(actor, resource))
    if resource.status != Resource.Status.DRAFT:
        raise ValidationError("Only a draft can be sent for curation.")
    if not resource.files.exists() and not resource.external_url:
        raise ValidationError("Add at least one file or a web link before sending the "
                              "resource for curation.")
    resource.status = Resource.Status.SUBMITTED
    resource.submitted_at = timezone.now()
    resource.save(update_fields=["status", "submitted_at", "modified"])
    _log(actor, "library.submit", resource)
    curators = _people_with_roles([resource.organisation_id],
                                  [Membership.Role.EDITOR, Membership.Role.ADMIN])
    if not curators.exists():
        curators = User.objects.filter(is_staff=True, is_active=True)
    _notify(curators.exclude(pk=actor.pk), subject="A resource is waiting for curation",
            template="library/email/submitted.txt",
            context={"resource": resource, "url": reverse("library:curation")})
    return resource


@transaction.atomic
def resource_publish(*, resource: Resource, actor: User) -> Resource:
    _require(policy.can_curate_resource(actor, resource))
    if resource.status == Resource.Status.PUBLISHED:
        return resource
    if resource.status != Resource.Status.SUBMITTED:
        raise ValidationError("Only a resource sent for curation can be published.")
    if not resource.files.exists() and not resource.external_url:
        raise ValidationError("A resource needs a file or a web link before it is published.")
    resource.status = Resource.Status.PUBLISHED
    resource.published_at = timezone.now()
    resource.return_reason = ""
    resource.save(update_fields=["status", "published_at", "return_reason", "modified"])
    _log(actor, "library.publish", resource)
    if resource.contributor_id and resource.contributor_id != actor.pk:
        _notify([resource.contributor], subject="Your resource is published",
                template="library/email/published.txt",
                context={"resource": resource, "url": reverse("library:detail",
                                                              args=[resource.pk])})
    _reindex(resource)
    return resource


@transaction.atomic
def resource_send_back(*, resource: Resource, actor: User, reason: str) -> Resource:
    """Return a submitted or published resource to its contributor as a draft, saying why."""
    _require(policy.can_curate_resource(actor, resource))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say what needs to change, so the contributor can "
                                         "fix it."})
    if resource.status == Resource.Status.DRAFT:
        raise ValidationError("This resource is already a draft.")
    resource.status = Resource.Status.DRAFT
    resource.return_reason = reason
    resource.published_at = None
    resource.save(update_fields=["status", "return_reason", "published_at", "modified"])
    _log(actor, "library.send_back", resource)
    if resource.contributor_id and resource.contributor_id != actor.pk:
        _notify([resource.contributor], subject="Your resource was sent back",
                template="library/email/sent_back.txt",
                context={"resource": resource, "reason": reason,
                         "url": reverse("library:detail", args=[resource.pk])})
    _reindex(resource)
    return resource


# --- Files ----------------------------------------------------------------------------------

def _limits_message() -> str:
    mb = settings.LIBRARY_MAX_FILE_BYTES // (1024 * 1024)
    return f"Each file may be up to {mb} MB; a resource may have up to " \
           f"{settings.LIBRARY_MAX_FILES} files."


@transaction.atomic
def file_add(*, resource: Resource, actor: User, upload, transcript_for=None) -> ResourceFile:
    """Store an upload after checking what it really is. Text is extracted in the background."""
    _require(policy.can_edit_resource(actor, resource))
    if resource.files.count() >= settings.LIBRARY_MAX_FILES:
        raise ValidationError({"file": "This resource already has the most files allowed. "
                                       + _limits_message()})
    if upload.size > settings.LIBRARY_MAX_FILE_BYTES:
        raise ValidationError({"file": f"“{upload.name}” is too large. " + _limits_message()})
    data = upload.read()
    try:
        found = filetypes.sniff(data, upload.name)
    except filetypes.Refused as refused:
        raise ValidationError({"file": f"“{upload.name}”: {refused.message}"}) from refused
    if transcript_for is not None:
        if transcript_for.resource_id != resource.pk or not transcript_for.is_media:
            raise ValidationError({"transcript_for": "Choose an audio or video file of this "
                                                     "resource."})
        if found.kind not in filetypes.EXTRACTABLE:
            raise ValidationError({"file": "A transcript must be a text document or a "
                                           "captions file (WebVTT or SRT)."})
    extractable = found.kind in filetypes.EXTRACTABLE
    item = ResourceFile(
        resource=resource, original_name=upload.name[:255], kind=found.kind, mime=found.mime,
        size=len(data), sha256=hashlib.sha256(data).hexdigest(), transcript_for=transcript_for,
        extraction=(ResourceFile.Extraction.PENDING if extractable
                    else ResourceFile.Extraction.NOT_APPLICABLE),
        extraction_message="" if extractable else (
            "Audio and video have no text of their own: add a transcript or captions file."),
    )
    item.file.save("upload", ContentFile(data), save=False)
    item.save()
    _log(actor, "library.file_add", resource, file=item.pk, kind=found.kind, size=item.size)
    _touch(resource)
    if extractable:
        from hub.library.tasks import extract_file

        transaction.on_commit(lambda: extract_file.enqueue(file_id=item.pk))
    return item


@transaction.atomic
def file_remove(*, item: ResourceFile, actor: User) -> None:
    resource = item.resource
    _require(policy.can_edit_resource(actor, resource))
    stored, storage, pk = item.file.name, item.file.storage, item.pk
    item.delete()
    _log(actor, "library.file_remove", resource, file=pk)
    _touch(resource)
    transaction.on_commit(lambda: storage.delete(stored))
    _reindex(resource)


def file_record_extraction(*, item: ResourceFile, outcome) -> ResourceFile:
    """Keep what the extractor found. An upload is never lost because its text was not."""
    text = outcome.text if outcome.status == ResourceFile.Extraction.DONE else ""
    updated = ResourceFile.objects.filter(pk=item.pk).update(
        extraction=outcome.status, text=text, extraction_message=outcome.message,
        extracted_at=timezone.now())
    if updated:  # the file may have been removed while it was being read
        item.refresh_from_db()
        search.index_resource(item.resource_id)
    return item


def file_retry_extraction(*, item: ResourceFile, actor: User) -> None:
    _require(policy.can_edit_resource(actor, item.resource))
    if item.kind not in filetypes.EXTRACTABLE:
        return
    from hub.library.tasks import extract_file

    ResourceFile.objects.filter(pk=item.pk).update(
        extraction=ResourceFile.Extraction.PENDING, extraction_message="")
    transaction.on_commit(lambda: extract_file.enqueue(file_id=item.pk))


def file_downloaded(*, item: ResourceFile, actor) -> None:
    """Every download of a file that is not public goes into the access log."""
    if item.resource.file_tier != Tier.PUBLIC:
        _log(actor, "library.download", item.resource, file=item.pk)


# --- Access rules, requests, decisions and grants ------------------------------------------

@transaction.atomic
def access_rule_set(*, resource: Resource, actor: User, mode: str, consulted=(),
                    approvals_needed: int = 1, grant_days: int | None = None) -> AccessRule:
    _require(policy.can_manage_access(actor, resource))
    rule, _ = AccessRule.objects.get_or_create(resource=resource)
    consulted = list(consulted)
    if mode == AccessRule.Mode.CONSULT:
        if any(not org.is_partner for org in consulted):
            raise ValidationError({"consulted": "Only partner organisations can be consulted."})
        if not consulted:
            raise ValidationError({"consulted": "Name at least one partner organisation."})
        if not approvals_needed or not 1 <= approvals_needed <= len(consulted):
            raise ValidationError({"approvals_needed": (
                f"Ask for between 1 and {len(consulted)} approvals: as many as the "
                "organisations consulted, at most.")})
    else:
        consulted, approvals_needed = [], 1
    if grant_days is not None and grant_days < 1:
        raise ValidationError({"grant_days": "Give at least one day, or leave it empty for "
                                             "grants that do not expire."})
    rule.mode = mode
    rule.approvals_needed = approvals_needed
    rule.grant_days = grant_days
    rule.save()
    rule.consulted.set(consulted)
    _log(actor, "library.rule", resource, mode=mode, approvals_needed=approvals_needed,
         consulted=[org.pk for org in consulted])
    return rule


def _deciders(resource: Resource):
    # Only people who can use the power now hear of requests (and see the title).
    from allauth.mfa.models import Authenticator

    enrolled = Authenticator.objects.filter(type=Authenticator.Type.TOTP).values("user_id")
    return _people_with_roles(policy.deciding_org_ids(resource),
                              [Membership.Role.APPROVER, Membership.Role.ADMIN]
                              ).filter(pk__in=enrolled)


@transaction.atomic
def request_create(*, resource: Resource, actor: User, reason: str) -> AccessRequest:
    _require(policy.can_request_access(actor, resource))
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ValidationError({"reason": "Say in a sentence or two why you need this and how "
                                         "you will use it."})
    if AccessRequest.objects.filter(resource=resource, requester=actor,
                                    status=AccessRequest.Status.PENDING).exists():
        raise ValidationError("You have already asked for this resource; the decision is on "
                              "its way.")
    try:
        with transaction.atomic():
            access_request = AccessRequest.objects.create(resource=resource, requester=actor,
                                                          reason=reason)
    except IntegrityError as clash:
        raise ValidationError("You have already asked for this resource; the decision is on "
                              "its way.") from clash
    _log(actor, "library.request", resource, request=access_request.pk)
    _notify(_deciders(resource).exclude(pk=actor.pk),
            subject="Someone asks to see a restricted resource",
            template="library/email/request.txt",
            context={"resource": resource, "url": reverse("library:inbox")})
    return access_request


def _grant_expiry(resource: Resource):
    rule = getattr(resource, "access_rule", None)
    if rule and rule.grant_days:
        return timezone.now() + timedelta(days=rule.grant_days)
    return None


@transaction.atomic
def request_decide(*, access_request: AccessRequest, actor: User, outcome: str,
                   reason: str = "") -> Decision:
    access_request = AccessRequest.objects.select_for_update().get(pk=access_request.pk)
    organisation_id = policy.deciding_org_for(actor, access_request)
    _require(organisation_id is not None)
    reason = (reason or "").strip()
    if outcome == Decision.Outcome.REFUSE and not reason:
        raise ValidationError({"reason": "Give the reason for refusing; the requester and "
                                         "the other organisations will see it."})
    if outcome not in Decision.Outcome.values:
        raise ValidationError({"outcome": "Choose approve or refuse."})
    resource = access_request.resource
    decision = Decision.objects.create(request=access_request, organisation_id=organisation_id,
                                       decided_by=actor, outcome=outcome, reason=reason)
    _log(actor, "library.decide", resource, request=access_request.pk, outcome_given=outcome,
         deciding_organisation=organisation_id)

    deciders = policy.deciding_org_ids(resource)
    rule = getattr(resource, "access_rule", None)
    needed = rule.approvals_needed if rule and rule.mode == AccessRule.Mode.CONSULT else 1
    # Only the organisations that decide under the rule as it stands now are counted.
    current = access_request.decisions.filter(organisation_id__in=deciders)
    approvals = current.filter(outcome=Decision.Outcome.APPROVE).count()
    refusals = current.filter(outcome=Decision.Outcome.REFUSE).count()
    if approvals >= needed:
        _close_request(access_request, AccessRequest.Status.APPROVED, actor)
    elif len(deciders) - refusals < needed:
        _close_request(access_request, AccessRequest.Status.REFUSED, actor)
    return decision


def _close_request(access_request: AccessRequest, status: str, actor: User) -> None:
    resource = access_request.resource
    access_request.status = status
    access_request.decided_at = timezone.now()
    access_request.save(update_fields=["status", "decided_at", "modified"])
    url = reverse("library:my_requests")
    if status == AccessRequest.Status.APPROVED:
        grant = Grant.objects.create(resource=resource, user=access_request.requester,
                                     request=access_request, granted_by=actor,
                                     expires_at=_grant_expiry(resource))
        _log(actor, "library.grant", resource, request=access_request.pk, grant=grant.pk,
             to_user=access_request.requester_id)
        _notify([access_request.requester], subject="Your access request was approved",
                template="library/email/approved.txt",
                context={"resource": resource, "grant": grant, "url": url})
    else:
        _log(actor, "library.refuse", resource, request=access_request.pk)
        reasons = [d.reason for d in access_request.decisions.all()
                   if d.outcome == Decision.Outcome.REFUSE]
        _notify([access_request.requester], subject="Your access request was refused",
                template="library/email/refused.txt",
                context={"resource": resource, "reasons": reasons, "url": url})


@transaction.atomic
def request_withdraw(*, access_request: AccessRequest, actor: User) -> None:
    _require(access_request.requester_id == actor.pk)
    access_request = AccessRequest.objects.select_for_update().get(pk=access_request.pk)
    if access_request.status != AccessRequest.Status.PENDING:
        raise ValidationError("Only a request still waiting for decisions can be withdrawn.")
    access_request.status = AccessRequest.Status.WITHDRAWN
    access_request.save(update_fields=["status", "modified"])
    _log(actor, "library.withdraw", access_request.resource, request=access_request.pk)


@transaction.atomic
def grant_create(*, resource: Resource, actor: User, organisation: Organisation | None = None,
                 user: User | None = None, expires_at=None) -> Grant:
    """Name an organisation or a person who may open the restricted files."""
    _require(policy.can_manage_access(actor, resource))
    if (organisation is None) == (user is None):
        raise ValidationError("Name one organisation or one person.")
    if user is not None and not user.is_member:
        raise ValidationError({"user": "That person is not a member of the hub."})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "Choose an expiry date in the future."})
    grant = Grant.objects.create(resource=resource, organisation=organisation, user=user,
                                 granted_by=actor, expires_at=expires_at)
    _log(actor, "library.grant", resource, grant=grant.pk,
         to_organisation=organisation.pk if organisation else None,
         to_user=user.pk if user else None)
    return grant


@transaction.atomic
def grant_revoke(*, grant: Grant, actor: User) -> Grant:
    _require(policy.can_manage_access(actor, grant.resource))
    grant = Grant.objects.select_for_update().get(pk=grant.pk)
    if grant.revoked_at is None:
        grant.revoked_at = timezone.now()
        grant.revoked_by = actor
        grant.save(update_fields=["revoked_at", "revoked_by"])
        _log(actor, "library.revoke", grant.resource, grant=grant.pk)
        if grant.user_id:
            _notify([grant.user], subject="Your access to a resource has ended",
                    template="library/email/revoked.txt",
                    context={"resource": grant.resource})
    return grant
