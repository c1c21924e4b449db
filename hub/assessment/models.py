"""The engagement model as an instrument: initiatives, the rounds that assess them, and the
answers people give from their perspective.

The hub assesses initiatives, never people. No field here names or describes an individual:
respondents are counted by the perspective they declare, answers are read only in aggregate,
and a response given through a private link is not tied to the link that opened it.
"""

import hashlib
import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django_countries.fields import CountryField

from hub.core.models import TimeStampedModel


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(24)
    return token, token_hash(token)


class Instrument(models.Model):
    """One published version of the questions. Rounds keep the version they started with."""

    version = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=200)
    data = models.JSONField(help_text="The validated instrument, as loaded from YAML.")
    source = models.TextField(help_text="The YAML text it was published from.")
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-version"]

    def __str__(self):
        return f"{self.title} (version {self.version})"

    @property
    def dimensions(self) -> list[dict]:
        return self.data["dimensions"]

    @property
    def indicators(self) -> dict[str, dict]:
        """Every indicator by key, each with the key of its dimension."""
        return {indicator["key"]: {**indicator, "dimension": dimension["key"]}
                for dimension in self.dimensions for indicator in dimension["indicators"]}


class Audience(models.TextChoices):
    TEAM = "team", "The initiative's team and organisations"
    MEMBERS = "members", "All members of the hub"
    PUBLIC = "public", "Everyone, including visitors"


class Initiative(TimeStampedModel):
    class Kind(models.TextChoices):
        NEIGHBOURHOOD_PREVENT = "neighbourhood", "Neighbourhood policing with a Prevent remit"
        SECURITY_PARTNERSHIP = "spo", "Security and partnership officers"
        CONTACT_UNIT = "contact_unit", "Specialist contact unit"
        COMMUNITY_LED = "community_led", "Community-led intervention"
        MENTORING = "mentoring", "Mentoring"
        MULTI_AGENCY = "multi_agency", "Multi-agency panel"
        OTHER = "other", "Other"

    name = models.CharField(max_length=200)
    area = models.CharField(max_length=120, help_text="A town, borough, district or region.")
    country = CountryField()
    lead_organisation = models.ForeignKey("members.Organisation", on_delete=models.PROTECT,
                                          related_name="led_initiatives")
    partner_organisations = models.ManyToManyField(
        "members.Organisation", blank=True, related_name="partner_initiatives")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    description = models.TextField(max_length=5000)
    starts_on = models.DateField("started", null=True, blank=True)
    ends_on = models.DateField("ended", null=True, blank=True)
    audience = models.CharField(
        "who can see this initiative and its results", max_length=10,
        choices=Audience.choices, default=Audience.TEAM)
    facilitators = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True,
                                          related_name="facilitated_initiatives")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Programme(TimeStampedModel):
    """A set of initiatives in an area, assessed together."""

    name = models.CharField(max_length=200)
    area = models.CharField(max_length=120)
    country = CountryField(blank=True)
    organisation = models.ForeignKey("members.Organisation", on_delete=models.PROTECT,
                                     related_name="programmes")
    description = models.TextField(max_length=5000, blank=True)
    initiatives = models.ManyToManyField(Initiative, blank=True, related_name="programmes")
    audience = models.CharField("who can see this programme", max_length=10,
                                choices=Audience.choices, default=Audience.TEAM)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ContextEvent(TimeStampedModel):
    """Background context recorded beside an assessment, never scored into it."""

    class Kind(models.TextChoices):
        CRISIS_LOCAL = "crisis_local", "Crisis event (local)"
        CRISIS_NATIONAL = "crisis_national", "Crisis event (national)"
        CRISIS_INTERNATIONAL = "crisis_international", "Crisis event (international)"
        POLICY = "policy", "Change of policy or law"
        MEDIA = "media", "Media and public mood"
        RELATIONS = "relations", "State–community relations"
        OTHER = "other", "Other"

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE,
                                   related_name="context_events")
    happened_on = models.DateField("date")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    title = models.CharField(max_length=160)
    description = models.TextField(max_length=2000, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                 on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["happened_on", "id"]

    def __str__(self):
        return f"{self.happened_on}: {self.title}"


class Perspective(models.TextChoices):
    POLICE = "police", "Police officer"
    COMMUNITY_MEMBER = "community_member", "Community member"
    COMMUNITY_ORG = "community_org", "Community organisation"
    YOUNG_PERSON = "young_person", "Young person (16–25)"
    PRACTITIONER = "practitioner", "Youth or community practitioner"
    STATUTORY = "statutory", "Statutory partner"
    POLICY_MAKER = "policy_maker", "Policy maker"
    RESEARCHER = "researcher", "Researcher or observer"


class Round(TimeStampedModel):
    """One assessment of an initiative, open for answers within a window."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="rounds")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="rounds")
    title = models.CharField(max_length=160)
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    closed_early_at = models.DateTimeField(null=True, blank=True)
    min_group = models.PositiveSmallIntegerField(
        "smallest perspective shown apart", default=3,
        validators=[MinValueValidator(2), MaxValueValidator(20)],
        help_text="A perspective with fewer respondents is not shown on its own.")
    divergence_threshold = models.PositiveSmallIntegerField(
        "disagreement flagged above (points)", default=25,
        validators=[MinValueValidator(5), MaxValueValidator(100)])
    tally = models.JSONField(
        default=dict, blank=True, editable=False,
        help_text="Submitted answers summed by perspective and indicator; kept up to date "
                  "as responses are submitted, so reports never read single responses.")
    summary = models.JSONField(
        default=dict, blank=True, editable=False,
        help_text="The groups shown and their scores, worked out from the tally whenever it "
                  "changes; reports add only the reader's weights.")
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-opens_at", "-id"]

    def __str__(self):
        return f"{self.initiative}: {self.title}"

    @property
    def ends_at(self):
        return min(self.closes_at, self.closed_early_at or self.closes_at)

    def is_open(self, now=None) -> bool:
        now = now or timezone.now()
        return self.opens_at <= now < self.ends_at

    @property
    def state(self) -> str:
        now = timezone.now()
        if now < self.opens_at:
            return "scheduled"
        return "open" if self.is_open(now) else "closed"


class RoundInvitation(models.Model):
    """A member asked to answer a round. Whether they have submitted is shown; what they
    answered never is."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="round_invitations")
    invited_at = models.DateTimeField(default=timezone.now)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "user"],
                                               name="one_invitation_per_member")]

    def __str__(self):
        return f"Invitation to round {self.round_id}"


class ResponseLink(models.Model):
    """A private, single-use address for someone without an account. Only its hash is kept,
    and the response it opens is not tied to it."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="links")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    # Whether it was used, not when: a time could be matched with the response it opened.
    used = models.BooleanField(default=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"Private link {self.pk} for round {self.round_id}"

    @property
    def state(self) -> str:
        if self.revoked_at:
            return "withdrawn"
        if self.used:
            return "used"
        if not self.round.is_open() and timezone.now() >= self.round.ends_at:
            return "expired"
        return "unused"


class Response(models.Model):
    """One person's answers to one round, from the perspective they declared."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="responses")
    perspective = models.CharField(max_length=20, choices=Perspective.choices)
    # A member's response is theirs to come back to. A response opened through a private link
    # has no user; the hash of its resume key lets the same person return to it.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.CASCADE, related_name="assessment_responses")
    resume_hash = models.CharField(max_length=64, unique=True, null=True, blank=True,
                                   editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "user"], name="one_response_per_member"),
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | models.Q(resume_hash__isnull=False),
                name="response_has_an_owner"),
        ]

    def __str__(self):
        return f"Response to {self.round_id} ({self.get_perspective_display()})"


class Answer(models.Model):
    """The answer to one indicator: a point on the 5-point scale or "don't know", with optional
    evidence: a note, a library resource, or a coded passage from a research study (shown only
    to those who may read that study)."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    indicator = models.CharField(max_length=60)
    value = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)])
    dont_know = models.BooleanField(default=False)
    note = models.TextField(max_length=2000, blank=True)
    resource = models.ForeignKey("library.Resource", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    coding = models.ForeignKey("research.Coding", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+",
                               verbose_name="coded passage")
    saved_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "indicator"],
                                    name="one_answer_per_indicator"),
            models.CheckConstraint(
                condition=models.Q(value__isnull=True) | models.Q(dont_know=False),
                name="value_or_dont_know"),
        ]

    def __str__(self):
        return f"{self.indicator}: {'?' if self.dont_know else self.value}"
