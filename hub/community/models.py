"""Events and who is coming to them.

A registration keeps only what the event needs: who, whether they have a place or are waiting
(and since when, which decides the order of the waiting list), and optional accessibility
needs that only the organisers read and that are deleted 30 days after the event.
"""

import hashlib
import secrets
import uuid
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from hub.core.models import TimeStampedModel

NEEDS_KEPT_DAYS = 30


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def default_timezone() -> str:
    return settings.TIME_ZONE


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError("Choose a time zone from the list.")


class Event(TimeStampedModel):
    class Format(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        ONLINE = "online", "Online"
        HYBRID = "hybrid", "Hybrid (in person and online)"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft (only organisers see it)"
        PUBLISHED = "published", "Published"
        CANCELLED = "cancelled", "Cancelled"

    class Audience(models.TextChoices):
        PUBLIC = "public", "Everyone, including visitors"
        MEMBERS = "members", "Members of the hub"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True, editable=False)
    summary = models.CharField(max_length=300, help_text="One or two sentences for the list.")
    description = models.TextField(max_length=10000, blank=True)
    format = models.CharField(max_length=10, choices=Format.choices, default=Format.IN_PERSON)
    starts_at = models.DateTimeField("starts")
    ends_at = models.DateTimeField("ends")
    timezone = models.CharField("time zone", max_length=64, default=default_timezone,
                                validators=[validate_timezone],
                                help_text="Times are shown in this time zone.")
    venue = models.CharField(max_length=200, blank=True)
    address = models.TextField(max_length=500, blank=True)
    joining_link = models.URLField(
        max_length=500, blank=True, validators=[URLValidator(schemes=["https"])],
        help_text="An https address. Shown only to people with a confirmed place and to "
                  "the organisers.")
    accessibility = models.TextField(
        "accessibility information", max_length=3000, blank=True,
        help_text="Step-free access, hearing loop, captions, quiet room, nearest transport…")
    capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Leave empty for no limit. When it is reached, people "
                                         "join a waiting list.")
    registration_opens_at = models.DateTimeField("registration opens", null=True, blank=True)
    registration_closes_at = models.DateTimeField(
        "registration closes", null=True, blank=True,
        help_text="Leave empty to take registrations until the event starts.")
    audience = models.CharField("who can see it", max_length=10, choices=Audience.choices,
                                default=Audience.MEMBERS)
    organisation = models.ForeignKey("members.Organisation", on_delete=models.PROTECT,
                                     related_name="events")
    organisers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True,
                                        related_name="organised_events")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True, editable=False,
                                        help_text="When it was first published.")
    notes = models.TextField("notes after the event", max_length=10000, blank=True)
    resources = models.ManyToManyField("library.Resource", blank=True, related_name="events")
    # Raised whenever the time or place changes, so calendars replace their copy (RFC 5545).
    sequence = models.PositiveIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["status", "audience", "starts_at"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("community:event_detail", args=[self.slug])

    def save(self, *args, **kwargs):
        if self.status == self.Status.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()
        super().save(*args, **kwargs)

    def clean(self):
        errors = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = "The event must end after it starts."
        if self.format in (self.Format.IN_PERSON, self.Format.HYBRID) and not self.venue:
            errors["venue"] = "Say where the event takes place."
        opens, closes = self.registration_opens_at, self.registration_closes_at
        if opens and closes and closes <= opens:
            errors["registration_closes_at"] = "Registration must close after it opens."
        if closes and self.ends_at and closes > self.ends_at:
            errors["registration_closes_at"] = "Registration must close before the event ends."
        if errors:
            raise ValidationError(errors)

    @property
    def tz(self):
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def in_person(self) -> bool:
        return self.format in (self.Format.IN_PERSON, self.Format.HYBRID)

    @property
    def online(self) -> bool:
        return self.format in (self.Format.ONLINE, self.Format.HYBRID)

    @property
    def is_past(self) -> bool:
        return self.ends_at <= timezone.now()

    @property
    def has_started(self) -> bool:
        return self.starts_at <= timezone.now()

    def registration_problem(self, now=None) -> str:
        """Why nobody can register now, or an empty string when they can."""
        now = now or timezone.now()
        if self.status == self.Status.CANCELLED:
            return "This event has been cancelled."
        if self.status != self.Status.PUBLISHED:
            return "This event is not open for registration yet."
        if self.starts_at <= now:
            return "This event has already started, so registration has closed."
        if self.registration_opens_at and now < self.registration_opens_at:
            return "Registration has not opened yet."
        if self.registration_closes_at and now >= self.registration_closes_at:
            return "Registration has closed."
        return ""


class AgendaItem(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="agenda")
    position = models.PositiveSmallIntegerField()
    time = models.TimeField(null=True, blank=True)
    title = models.CharField(max_length=200)
    speaker = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["event", "position"],
                                               name="one_agenda_item_per_position")]

    def __str__(self):
        return self.title


class Registration(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", "Place confirmed"
        WAITING = "waiting", "On the waiting list"
        CANCELLED = "cancelled", "Cancelled"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="event_registrations")
    status = models.CharField(max_length=10, choices=Status.choices)
    # When the person last asked for a place: the waiting list is served in this order.
    requested_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    accessibility_needs = models.TextField(
        max_length=1000, blank=True,
        help_text="Optional. Only the organisers read it, and it is deleted 30 days after the "
                  "event.")

    class Meta:
        ordering = ["requested_at", "id"]
        constraints = [models.UniqueConstraint(fields=["event", "user"],
                                               name="one_registration_per_person")]
        indexes = [models.Index(fields=["event", "status", "requested_at"])]

    def __str__(self):
        return f"Registration {self.pk} for event {self.event_id}"


class CalendarFeed(models.Model):
    """A person's private calendar address. Only a hash of its token is kept: the address is
    shown once, when it is made, and making a new one stops the old one."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="calendar_feed")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"Calendar feed of user {self.user_id}"


# --- Mailing list -----------------------------------------------------------------------------

class Subscription(models.Model):
    """One address on the weekly news list. Nothing else about the person is kept; leaving
    deletes the row."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for confirmation"
        CONFIRMED = "confirmed", "Confirmed"

    email = models.EmailField(unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    asked_at = models.DateTimeField(help_text="When the last confirmation link was sent.")
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return f"Subscription {self.pk}"


class Digest(models.Model):
    """One weekly digest that went out: its period, how many items and recipients (never
    who). The unique period stops two workers sending the same week."""

    period_start = models.DateTimeField(unique=True)
    period_end = models.DateTimeField()
    items = models.PositiveIntegerField()
    recipients = models.PositiveIntegerField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_end"]

    def __str__(self):
        return f"Digest to {self.period_end:%Y-%m-%d}"
