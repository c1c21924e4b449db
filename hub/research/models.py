"""Studies, their teams, participants under pseudonym codes, pseudonymised sources, and the
codes and codings of thematic analysis.

Nothing here holds a real name. Participants are known by a code ("P07"); a source keeps only
the text the researcher confirmed after pseudonymisation; the names a researcher registers to be
found in later transcripts are kept as keyed hashes (``Study.registry``, see
``hub.research.pseudonymise.Registry``), keyed by the site's secret and the study's own salt,
so the database alone cannot be used to test guesses.

Character offsets (``SpeakerTurn``, ``Coding``) index ``Source.text``, which never changes once
the source is stored.
"""

import secrets

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse

from hub.core.models import TimeStampedModel

COLOUR = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Give a colour as # and six hex digits.")


def new_salt() -> str:
    return secrets.token_hex(16)


class Study(TimeStampedModel):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived (read only)"

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True, editable=False)
    description = models.TextField(max_length=6000, blank=True)
    research_questions = models.TextField("research questions", max_length=6000, blank=True,
                                          help_text="One per line.")
    listed = models.BooleanField(
        "list the study for members", default=False,
        help_text="Members see its title, questions and outputs, never its sources, "
                  "participants or codings. Off: only the team knows it exists.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    blind = models.BooleanField(
        "blind coding", default=False,
        help_text="Coders see only their own codings until the lead reveals them.")
    revealed_at = models.DateTimeField(null=True, blank=True, editable=False)
    registry = models.TextField(editable=False, blank=True,
                                help_text="Keyed hashes of registered names and their labels.")
    registry_salt = models.CharField(max_length=32, default=new_salt, editable=False)
    outputs = models.ManyToManyField("library.Resource", blank=True, related_name="studies",
                                     help_text="Reports and papers in the library.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name_plural = "studies"

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("research:study_detail", args=[self.slug])

    @property
    def codings_hidden(self) -> bool:
        """Whether coders see only their own codings now."""
        return self.blind and self.revealed_at is None


class StudyMember(models.Model):
    class Role(models.TextChoices):
        LEAD = "lead", "Lead"
        CODER = "coder", "Coder"
        VIEWER = "viewer", "Viewer"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="study_memberships")
    role = models.CharField(max_length=6, choices=Role.choices, default=Role.VIEWER)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "role", "id"]
        constraints = [models.UniqueConstraint(fields=["study", "user"],
                                               name="one_place_per_study")]

    def __str__(self):
        return f"{self.get_role_display()} of study {self.study_id}"


class Participant(models.Model):
    """Someone who took part, known only by a code. Attributes are the case variables that
    analysis filters and compares by ("age band": "16-18")."""

    class Group(models.TextChoices):
        POLICE = "police", "Police officer or staff"
        COMMUNITY_ORG = "community_org", "Community organisation"
        COMMUNITY_MEMBER = "community_member", "Community member"
        YOUNG_PERSON = "young_person", "Young person"
        PRACTITIONER = "practitioner", "Youth or community practitioner"
        STAKEHOLDER = "stakeholder", "Other stakeholder"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="participants")
    code = models.CharField(
        max_length=20, validators=[RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9 _.-]*$",
                                                  "Use letters, digits, spaces, . _ or -.")],
        help_text="A pseudonym code such as P07. Never a name or initials.")
    group = models.CharField(max_length=16, choices=Group.choices)
    location = models.CharField(max_length=120, blank=True,
                                help_text="A broad area (a city or region), not an address.")
    attributes = models.JSONField(default=dict, blank=True)
    consent_date = models.DateField(null=True, blank=True)
    consent_quotation = models.BooleanField("may be quoted", default=False)
    consent_archiving = models.BooleanField("may be archived", default=False)
    consent_sharing = models.BooleanField("may be shared with named partners", default=False)
    sharing_partners = models.ManyToManyField("members.Organisation", blank=True,
                                              related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "code"]
        constraints = [models.UniqueConstraint(fields=["study", "code"],
                                               name="participant_code_unique_in_study")]

    def __str__(self):
        return self.code


class Source(models.Model):
    class Kind(models.TextChoices):
        INTERVIEW = "interview", "Interview"
        FOCUS_GROUP = "focus_group", "Focus group"
        OTHER = "other", "Other document"

    class Origin(models.TextChoices):
        TEXT = "text", "Plain text file"
        DOCX = "docx", "Word document"
        PDF = "pdf", "PDF"
        PASTE = "paste", "Pasted"
        QDPX = "qdpx", "REFI-QDA project"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="sources")
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=11, choices=Kind.choices, default=Kind.INTERVIEW)
    origin = models.CharField(max_length=5, choices=Origin.choices, default=Origin.PASTE)
    text = models.TextField(editable=False, help_text="The pseudonymised text; never changes.")
    word_count = models.PositiveIntegerField(default=0, editable=False)
    replacements = models.PositiveIntegerField(default=0, editable=False,
                                               help_text="How many identifiers were replaced.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "created", "id"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("research:source_detail", args=[self.study.slug, self.pk])


class SpeakerTurn(models.Model):
    """A stretch of a source spoken by one speaker, attributed to a participant when the
    speaker is one."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="turns")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    speaker = models.CharField(max_length=60, help_text="The label as it appears in the text.")
    participant = models.ForeignKey(Participant, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="turns")

    class Meta:
        ordering = ["source", "start"]
        indexes = [models.Index(fields=["source", "start"])]

    def __str__(self):
        return f"{self.speaker} {self.start}-{self.end}"


class Code(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="codes")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="children")
    name = models.CharField(max_length=120)
    description = models.TextField(max_length=4000, blank=True)
    colour = models.CharField(max_length=7, default="#1f6feb", validators=[COLOUR])
    position = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "position", "name", "id"]

    def __str__(self):
        return self.name


class Coding(models.Model):
    """A span of a source's text tagged with a code by one coder."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="codings")
    code = models.ForeignKey(Code, on_delete=models.CASCADE, related_name="codings")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    coder = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="codings")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["source", "start", "end", "id"]
        indexes = [models.Index(fields=["code", "source"]),
                   models.Index(fields=["source", "start"])]
        constraints = [models.CheckConstraint(condition=models.Q(end__gt=models.F("start")),
                                              name="coding_span_not_empty")]

    def __str__(self):
        return f"{self.code_id} {self.start}-{self.end}"

    def get_absolute_url(self):
        return reverse("research:segment", args=[self.source.study.slug, self.pk])

    @property
    def passage(self) -> str:
        return self.source.text[self.start:self.end]


class Memo(models.Model):
    """A note on the study, a code, a coding or a source (at most one of the three)."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="memos")
    code = models.ForeignKey(Code, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="memos")
    coding = models.ForeignKey(Coding, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="memos")
    source = models.ForeignKey(Source, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="memos")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    title = models.CharField(max_length=200, blank=True)
    text = models.TextField(max_length=20000)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["study", "created", "id"]

    def __str__(self):
        return self.title or f"Memo {self.pk}"
