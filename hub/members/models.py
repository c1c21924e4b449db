import hashlib
import secrets

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django_countries.fields import CountryField

from hub.core.models import TimeStampedModel


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True, standing=User.Standing.MEMBER)
        return self._create(email, password, **extra)


class User(AbstractUser):
    """A person who can sign in. Email is the sign-in; there is no separate user name.

    ``standing`` says whether the hub has accepted them. Hub-wide powers are the two flags
    ``is_staff`` and ``is_moderator``; everything an organisation lets them do comes from
    their memberships. Deactivated accounts have ``is_active`` off.
    """

    class Standing(models.TextChoices):
        APPLICANT = "applicant", "Applicant"
        MEMBER = "member", "Member"

    username = None
    first_name = None
    last_name = None
    email = models.EmailField("email address", unique=True)
    standing = models.CharField(max_length=12, choices=Standing.choices,
                                default=Standing.APPLICANT)
    is_moderator = models.BooleanField(
        default=False, help_text="Moderators look after discussion spaces across the hub.")

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []
    objects = UserManager()

    def __str__(self):
        profile = getattr(self, "profile", None)
        return profile.display_name if profile and profile.display_name else f"Member {self.pk}"

    @property
    def is_member(self) -> bool:
        return self.is_active and self.standing == self.Standing.MEMBER


class Sector(models.TextChoices):
    POLICE = "police", "Police"
    COMMUNITY = "community", "Community organisation"
    RESEARCH = "research", "Academic or research"
    PRACTICE = "practice", "Youth or community practice"
    STATUTORY = "statutory", "Local authority or statutory partner"
    POLICY = "policy", "Policy or government"
    OTHER = "other", "Other"


class Expertise(models.Model):
    """A short tag for what someone knows about, shared so the directory can filter by it."""

    name = models.CharField(max_length=60, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "expertise"

    def __str__(self):
        return self.name


class Organisation(TimeStampedModel):
    class Kind(models.TextChoices):
        POLICE = "police", "Police force or unit"
        COMMUNITY = "community", "Community organisation"
        FAITH = "faith", "Faith organisation"
        YOUTH = "youth", "Youth service"
        RESEARCH = "research", "University or research group"
        LOCAL_AUTHORITY = "local_authority", "Local authority"
        GOVERNMENT = "government", "Government or policy body"
        CHARITY = "charity", "Charity or NGO"
        OTHER = "other", "Other"

    name = models.CharField(max_length=160, unique=True)
    slug = models.SlugField(max_length=170, unique=True)
    kind = models.CharField("type", max_length=20, choices=Kind.choices)
    country = CountryField()
    website = models.URLField(blank=True)
    description = models.TextField(blank=True)
    is_partner = models.BooleanField(
        "partner of the hub", default=False,
        help_text="Partners take part in deciding who may see sensitive material.")
    members = models.ManyToManyField(User, through="Membership", related_name="organisations")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.name)[:170]
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("members:organisation_detail", args=[self.slug])


class Membership(TimeStampedModel):
    """A person's place in an organisation. One person may belong to several."""

    class Role(models.TextChoices):
        MEMBER = "member", "Member"
        EDITOR = "editor", "Editor"
        APPROVER = "approver", "Approver"
        ADMIN = "admin", "Administrator"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE,
                                     related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        ordering = ["organisation__name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="one_membership_per_org"),
        ]

    def __str__(self):
        return f"{self.user} · {self.organisation} ({self.get_role_display()})"


class Profile(TimeStampedModel):
    """What a member tells others about themselves. Only ``display_name`` and ``sector`` are
    needed; everything else is optional."""

    class Visibility(models.TextChoices):
        PUBLIC = "public", "Anyone, including people who are not signed in"
        MEMBERS = "members", "Members of the hub"
        PRIVATE = "private", "Only me (and hub staff)"

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    display_name = models.CharField(max_length=80)
    sector = models.CharField(max_length=12, choices=Sector.choices, default=Sector.OTHER)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The organisation you mainly act for. Shown beside your name.")
    country = CountryField(blank=True)
    expertise = models.ManyToManyField(Expertise, blank=True, related_name="profiles")
    bio = models.TextField("short bio", max_length=1000, blank=True)
    visibility = models.CharField("who can see my profile", max_length=8,
                                  choices=Visibility.choices, default=Visibility.MEMBERS)

    class Meta:
        ordering = ["display_name"]

    def __str__(self):
        return self.display_name

    def get_absolute_url(self):
        return reverse("members:profile_detail", args=[self.pk])

    @property
    def role_line(self) -> str:
        """Sector and organisation, shown wherever the person acts (openness about roles)."""
        parts = [self.get_sector_display()]
        if self.organisation_id:
            parts.append(self.organisation.name)
        return " · ".join(parts)


class Application(TimeStampedModel):
    """A request to join the hub, decided by hub staff or by the named organisation's admins."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a decision"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="application")
    statement = models.TextField(max_length=2000)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="applications")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField("reason given to the applicant", blank=True)

    class Meta:
        ordering = ["created"]

    def __str__(self):
        return f"Application from {self.user}"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet):
    def for_token(self, token: str):
        return self.filter(token_hash=_token_hash(token))


class Invitation(TimeStampedModel):
    """A single-use link that lets someone join an organisation without waiting for approval.

    Only a hash of the token is stored: a copy of the database cannot be used to join.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE,
                                     related_name="invitations")
    role = models.CharField(max_length=10, choices=Membership.Role.choices,
                            default=Membership.Role.MEMBER)
    note = models.CharField("who it is for (only you and your co-admins see this)",
                            max_length=120, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField()
    used_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"Invitation to {self.organisation}"

    @staticmethod
    def new_token() -> tuple[str, str]:
        token = secrets.token_urlsafe(32)
        return token, _token_hash(token)

    @property
    def state(self) -> str:
        if self.used_at:
            return "used"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "open"
