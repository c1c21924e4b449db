"""The resource library: what partners contribute, and who may see the sensitive parts.

A resource has two tiers, one for what it says about itself (its metadata) and one for its
files, so a public abstract can describe a restricted report. Restricted files are opened by
grants, which the contributing organisation makes directly or which come out of an access
request decided by its approvers or by a consultation of named partner organisations.
"""

import uuid

from django.conf import global_settings, settings
from django.db import models
from django.utils import timezone
from django_countries.fields import CountryField

from hub.core.models import TimeStampedModel
from hub.library.files import Kind as FileKind

LANGUAGES = sorted(
    ((code, name) for code, name in global_settings.LANGUAGES if len(code) == 2),
    key=lambda pair: str(pair[1]),
)


class Tier(models.TextChoices):
    """Who may see something, from everyone to the people named in a grant."""

    PUBLIC = "public", "Public: anyone"
    MEMBERS = "members", "Members of the hub"
    PARTNERS = "partners", "Members of partner organisations"
    RESTRICTED = "restricted", "Restricted: named organisations and people"


TIER_ORDER = {Tier.PUBLIC: 0, Tier.MEMBERS: 1, Tier.PARTNERS: 2, Tier.RESTRICTED: 3}


class Theme(models.Model):
    """A subject a resource is about. The model's six aspects come first."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=80)
    is_aspect = models.BooleanField(
        default=False, help_text="One of the six aspects of the engagement model.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class Audience(models.Model):
    """A sector a resource is written for."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=80)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class Resource(TimeStampedModel):
    class Type(models.TextChoices):
        REPORT = "report", "Report"
        TOOLKIT = "toolkit", "Toolkit"
        GUIDE = "guide", "Guide"
        PAPER = "paper", "Academic paper"
        POLICY = "policy", "Policy document"
        TRAINING = "training", "Training material"
        VIDEO = "video", "Video"
        AUDIO = "audio", "Audio"
        DATASET = "dataset", "Dataset"
        LINK = "link", "Web link"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Waiting for curation"
        PUBLISHED = "published", "Published"

    class Licence(models.TextChoices):
        CC_BY = "CC-BY-4.0", "Creative Commons Attribution 4.0"
        CC_BY_SA = "CC-BY-SA-4.0", "Creative Commons Attribution-ShareAlike 4.0"
        CC_BY_NC = "CC-BY-NC-4.0", "Creative Commons Attribution-NonCommercial 4.0"
        CC_BY_NC_ND = ("CC-BY-NC-ND-4.0",
                       "Creative Commons Attribution-NonCommercial-NoDerivatives 4.0")
        CC0 = "CC0-1.0", "Public domain (CC0 1.0)"
        OGL = "OGL-UK-3.0", "Open Government Licence 3.0"
        RESERVED = "all-rights-reserved", "All rights reserved"
        OTHER = "other", "Other (see the abstract)"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(max_length=300)
    abstract = models.TextField()
    authors = models.TextField(blank=True, help_text="One author per line.")
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    publisher = models.CharField(
        max_length=200, blank=True,
        help_text="Who published it, if not the contributing organisation.")
    country = CountryField(blank=True)
    language = models.CharField(max_length=8, choices=LANGUAGES, default="en")
    type = models.CharField(max_length=20, choices=Type.choices)
    audiences = models.ManyToManyField(Audience, blank=True, related_name="resources")
    themes = models.ManyToManyField(Theme, blank=True, related_name="resources")
    licence = models.CharField(max_length=40, choices=Licence.choices, default=Licence.RESERVED)
    external_url = models.URLField(max_length=500, blank=True)

    organisation = models.ForeignKey(
        "members.Organisation", on_delete=models.PROTECT, related_name="resources")
    contributor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="resources")
    metadata_tier = models.CharField(max_length=12, choices=Tier.choices, default=Tier.PUBLIC)
    file_tier = models.CharField(max_length=12, choices=Tier.choices, default=Tier.PUBLIC)

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    return_reason = models.TextField(
        blank=True, help_text="Why a curator sent the resource back; shown to the contributor.")
    submitted_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-published_at", "-created"]
        indexes = [
            models.Index(fields=["status", "metadata_tier"]),
            models.Index(fields=["organisation", "status"]),
            models.Index(fields=["year"]),
            # The library's listing, newest first, read from the top without sorting.
            models.Index(fields=["status", "published_at"]),
        ]

    def __str__(self):
        return self.title

    @property
    def author_list(self) -> list[str]:
        return [line.strip() for line in self.authors.splitlines() if line.strip()]

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def publisher_name(self) -> str:
        return self.publisher or self.organisation.name


def stored_name(instance, filename):
    # The stored path carries no part of the contributor's file name.
    return f"library/{instance.resource.uuid}/{uuid.uuid4().hex}"


class ResourceFile(models.Model):
    class Extraction(models.TextChoices):
        PENDING = "pending", "Waiting to be read"
        DONE = "done", "Text extracted"
        REVIEW = "review", "Needs a person to look at it"
        FAILED = "failed", "Could not be read"
        NOT_APPLICABLE = "none", "No text to extract"

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(upload_to=stored_name, max_length=200)
    original_name = models.CharField(max_length=255)
    kind = models.CharField(max_length=12, choices=FileKind.choices)
    mime = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    transcript_for = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="transcripts",
        help_text="The audio or video file this transcript or captions file accompanies.")
    extraction = models.CharField(
        max_length=10, choices=Extraction.choices, default=Extraction.PENDING)
    extraction_message = models.TextField(blank=True)
    text = models.TextField(blank=True)
    extracted_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self):
        return self.original_name

    @property
    def is_media(self) -> bool:
        return self.kind in (FileKind.AUDIO, FileKind.VIDEO)

    @property
    def needs_transcript(self) -> bool:
        return self.is_media and not self.transcripts.exists()


class AccessRule(models.Model):
    """Who decides requests to see a resource's restricted files."""

    class Mode(models.TextChoices):
        OWN = "own", "Our own approvers decide"
        CONSULT = "consult", "Consult named partner organisations"

    resource = models.OneToOneField(Resource, on_delete=models.CASCADE, related_name="access_rule")
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.OWN)
    consulted = models.ManyToManyField(
        "members.Organisation", blank=True, related_name="consulted_on",
        help_text="The partner organisations asked to decide.")
    approvals_needed = models.PositiveSmallIntegerField(default=1)
    grant_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="How long a grant lasts; empty for no expiry.")

    def __str__(self):
        return f"Access rule for {self.resource}"


class AccessRequest(TimeStampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for decisions"
        APPROVED = "approved", "Approved"
        REFUSED = "refused", "Refused"
        WITHDRAWN = "withdrawn", "Withdrawn"

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="requests")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_requests")
    reason = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "requester"], condition=models.Q(status="pending"),
                name="one_pending_request_per_person"),
        ]

    def __str__(self):
        return f"Request for {self.resource}"


class Decision(models.Model):
    """One organisation's answer to an access request."""

    class Outcome(models.TextChoices):
        APPROVE = "approve", "Approve"
        REFUSE = "refuse", "Refuse"

    request = models.ForeignKey(AccessRequest, on_delete=models.CASCADE, related_name="decisions")
    organisation = models.ForeignKey(
        "members.Organisation", on_delete=models.PROTECT, related_name="access_decisions")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    reason = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created", "id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "organisation"],
                                    name="one_decision_per_organisation"),
        ]

    def __str__(self):
        return f"{self.organisation}: {self.get_outcome_display()}"


class GrantQuerySet(models.QuerySet):
    def in_force(self, now=None):
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now))


class Grant(models.Model):
    """Permission for one organisation or one person to open a resource's restricted files."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="grants")
    organisation = models.ForeignKey(
        "members.Organisation", null=True, blank=True, on_delete=models.CASCADE,
        related_name="grants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
        related_name="grants")
    request = models.OneToOneField(
        AccessRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="grant")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    objects = GrantQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(organisation__isnull=True, user__isnull=False)
                           | models.Q(organisation__isnull=False, user__isnull=True)),
                name="grant_to_one_organisation_or_person"),
        ]

    def __str__(self):
        return f"Grant on {self.resource} to {self.organisation or self.user}"

    def in_force(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @property
    def state(self) -> str:
        if self.revoked_at:
            return "revoked"
        if self.expires_at and self.expires_at <= timezone.now():
            return "expired"
        return "in force"
