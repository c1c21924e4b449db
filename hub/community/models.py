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
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from hub.core.models import TimeStampedModel
from hub.members.models import Sector

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


# --- Discussion spaces ------------------------------------------------------------------------
#
# A space's posts point at the author's *membership* of the space, never at the person, so a
# pseudonymous post leads only to a pseudonym. The pseudonym is drawn at random from word
# lists (nothing about the person goes into it) and stays with the membership, so a member
# keeps the same one in that space even after leaving and coming back, and has a different
# one in every other space.

PSEUDONYM_ADJECTIVES = (
    "Amber", "Azure", "Bold", "Brave", "Bright", "Calm", "Clear", "Coral", "Crimson", "Gentle",
    "Golden", "Hazel", "Honest", "Indigo", "Ivory", "Jade", "Keen", "Kind", "Lively", "Lucid",
    "Mellow", "Misty", "Noble", "Olive", "Quiet", "Rapid", "Russet", "Scarlet", "Silver",
    "Steady", "Sunny", "Swift", "Tawny", "Teal", "Tidy", "Vivid", "Warm", "Wise", "Young",
    "Zesty",
)
PSEUDONYM_NOUNS = (
    "Badger", "Beacon", "Birch", "Bramble", "Brook", "Cedar", "Comet", "Crane", "Falcon",
    "Fern", "Finch", "Fox", "Harbour", "Hare", "Hawthorn", "Heron", "Kestrel", "Lantern",
    "Lark", "Maple", "Meadow", "Otter", "Owl", "Pebble", "Pine", "Plover", "Quarry", "Raven",
    "Ridge", "River", "Robin", "Rowan", "Sparrow", "Starling", "Stone", "Swallow", "Thistle",
    "Willow", "Wren", "Yarrow",
)


class Space(TimeStampedModel):
    """A discussion space: open to every member, or by invitation only (and then invisible
    to everyone else)."""

    class Visibility(models.TextChoices):
        OPEN = "open", "Open to all members of the hub"
        INVITATION = "invitation", "By invitation only (invisible to everyone else)"

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=80, unique=True, editable=False)
    description = models.TextField(max_length=2000, blank=True,
                                   help_text="What the space is for, in a few sentences.")
    ground_rules = models.TextField(
        max_length=5000,
        help_text="Shown to everyone before they join; each member accepts them before their "
                  "first post. Markdown.")
    rules_changed_at = models.DateTimeField(default=timezone.now, editable=False)
    visibility = models.CharField("who can see it", max_length=12, choices=Visibility.choices,
                                  default=Visibility.OPEN)
    chatham_house = models.BooleanField(
        "Chatham House rule", default=False,
        help_text="Posts cannot be quoted into other spaces or exported, and notifications "
                  "and emails never name the author.")
    pseudonymous = models.BooleanField(
        "pseudonymous posting", default=False,
        help_text="Everyone posts under a pseudonym of their own in this space that other "
                  "members cannot link to them. Only hub staff can reveal who is behind one, "
                  "giving a reason that is recorded.")
    flag_threshold = models.PositiveSmallIntegerField(
        "flags before a post is hidden", default=3,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="A post flagged by this many members is hidden until a moderator decides.")
    organisation = models.ForeignKey("members.Organisation", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="spaces",
                                     help_text="The organisation that runs it, if any.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("community:space_detail", args=[self.slug])

    @property
    def is_open(self) -> bool:
        return self.visibility == self.Visibility.OPEN


class SpaceMembership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", "Member"
        MODERATOR = "moderator", "Moderator"

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="space_memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    pseudonym = models.CharField(max_length=60, editable=False)
    accepted_rules_at = models.DateTimeField(null=True, blank=True)
    joined_at = models.DateTimeField(default=timezone.now)
    # Leaving keeps the row, so the member's posts and pseudonym stay as they were.
    left_at = models.DateTimeField(null=True, blank=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["space", "pseudonym"]
        constraints = [
            models.UniqueConstraint(fields=["space", "user"], name="one_membership_per_space"),
            models.UniqueConstraint(fields=["space", "pseudonym"],
                                    name="one_pseudonym_per_space"),
        ]

    def __str__(self):
        # Never the person: this label reaches the audit trail and the admin.
        return f"Space membership {self.pk}"

    @property
    def is_active(self) -> bool:
        return self.left_at is None

    @property
    def is_moderator(self) -> bool:
        return self.role == self.Role.MODERATOR and self.left_at is None

    def has_accepted_rules(self, space: Space | None = None) -> bool:
        space = space or self.space
        return bool(self.accepted_rules_at and self.accepted_rules_at >= space.rules_changed_at)


class SpaceInvitation(models.Model):
    """An existing member invited to an invitation-only space: they see it and may join."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="space_invitations")
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created"]
        constraints = [models.UniqueConstraint(fields=["space", "user"],
                                               name="one_invitation_per_space")]

    def __str__(self):
        return f"Space invitation {self.pk}"


class Thread(models.Model):
    class State(models.TextChoices):
        AWAITING = "awaiting", "Waiting for approval"
        VISIBLE = "visible", "Visible"
        REMOVED = "removed", "Removed"

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="threads")
    title = models.CharField(max_length=200)
    created_by = models.ForeignKey(SpaceMembership, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="threads")
    state = models.CharField(max_length=10, choices=State.choices, default=State.VISIBLE)
    locked = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)
    last_post_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_post_at", "-id"]
        indexes = [models.Index(fields=["space", "state", "last_post_at"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("community:thread_detail", args=[self.space.slug, self.pk])


class Post(models.Model):
    class State(models.TextChoices):
        AWAITING = "awaiting", "Waiting for approval"
        VISIBLE = "visible", "Visible"
        HIDDEN = "hidden", "Hidden until a moderator decides"
        REMOVED = "removed", "Removed by a moderator"

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="posts")
    # The membership, not the person: an erased member's posts stay, pointing at nobody.
    author = models.ForeignKey(SpaceMembership, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="posts")
    body_markdown = models.TextField(max_length=20000)
    body_html = models.TextField(editable=False, help_text="Rendered and sanitised.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.VISIBLE)
    approved_at = models.DateTimeField(null=True, blank=True,
                                       help_text="When it was first shown to the space.")
    created = models.DateTimeField(default=timezone.now)
    edited = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created", "id"]
        indexes = [models.Index(fields=["thread", "state", "created"])]

    def __str__(self):
        return f"Post {self.pk}"

    def get_absolute_url(self):
        return f"{self.thread.get_absolute_url()}#post-{self.pk}"


class Flag(models.Model):
    class Reason(models.TextChoices):
        SPAM = "spam", "Spam or advertising"
        OFFENSIVE = "offensive", "Offensive, abusive or hateful"
        OFF_TOPIC = "off_topic", "Does not belong in this space"

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="flags")
    flagger = models.ForeignKey(SpaceMembership, on_delete=models.CASCADE, related_name="flags")
    reason = models.CharField(max_length=10, choices=Reason.choices)
    note = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(default=timezone.now)
    # A moderator's decision settles the flags before it; later flags count afresh.
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created", "id"]
        constraints = [models.UniqueConstraint(fields=["post", "flagger"],
                                               name="one_flag_per_person_per_post")]

    def __str__(self):
        return f"Flag {self.pk}"


class ModerationAction(models.Model):
    """One moderation decision, shown to the space in its log by role, never by name."""

    class Action(models.TextChoices):
        APPROVE = "approve", "approved a post"
        REJECT = "reject", "did not approve a post"
        HIDE = "hide", "hid a post"
        AUTO_HIDE = "auto_hide", "hid a post after flags"
        RESTORE = "restore", "restored a post"
        REMOVE = "remove", "removed a post"
        LOCK = "lock", "locked a thread"
        UNLOCK = "unlock", "reopened a thread"
        REMOVE_MEMBER = "remove_member", "removed a member from the space"
        REVEAL = "reveal", "revealed who is behind a pseudonym"

    class Role(models.TextChoices):
        SPACE_MODERATOR = "space", "A moderator of this space"
        HUB_MODERATOR = "hub", "A hub moderator"
        STAFF = "staff", "Hub staff"
        AUTOMATIC = "auto", "The hub, automatically"

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="moderation_log")
    moderator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    role = models.CharField(max_length=6, choices=Role.choices)
    action = models.CharField(max_length=16, choices=Action.choices)
    thread = models.ForeignKey(Thread, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="moderation")
    # The pseudonym concerned, for removals and reveals: the log never names a person.
    pseudonym = models.CharField(max_length=60, blank=True)
    reason = models.TextField(max_length=2000, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self):
        return f"Moderation action {self.pk}"


class IdentityReveal(models.Model):
    """Hub staff learnt who is behind a pseudonym, and why. Kept for accountability."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(SpaceMembership, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="reveals")
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    revealed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(max_length=2000)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self):
        return f"Identity reveal {self.pk}"


class Notification(models.Model):
    """Something in a space for one person. The author is never stored here: pages work it
    out from the post, by the space's rules (no author under the Chatham House rule, the
    pseudonym in a pseudonymous space)."""

    class Kind(models.TextChoices):
        REPLY = "reply", "New reply"
        MENTION = "mention", "Mention"
        INVITED = "invited", "Invitation"
        APPROVED = "approved", "Post approved"
        MODERATED = "moderated", "Moderation"
        QUEUE = "queue", "Waiting for moderation"
        REVEALED = "revealed", "Identity revealed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="space_notifications")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    thread = models.ForeignKey(Thread, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="+")
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    action = models.CharField(max_length=16, blank=True)
    created = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "created"])]

    def __str__(self):
        return f"Notification {self.pk}"


class PublishStatus(models.TextChoices):
    """The life of what the hub publishes (news, briefings, stories, funding): a draft seen only
    by its writers, then published, then perhaps withdrawn."""

    DRAFT = "draft", "Draft (only its writers see it)"
    PUBLISHED = "published", "Published"
    WITHDRAWN = "withdrawn", "Withdrawn"


# --- News and briefings -----------------------------------------------------------------------

class Publication(TimeStampedModel):
    """What news items and briefings share: a title, a summary for lists and feeds, a body in
    Markdown (kept with its sanitised HTML), and a life of draft → published → withdrawn.

    Editing a published item records when (``updated_at``) and, optionally, what changed: the
    page then says "Updated", so readers know the facts moved on."""

    Status = PublishStatus

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True, editable=False)
    summary = models.CharField(max_length=300, help_text="One or two sentences for lists, "
                                                         "feeds and the weekly email.")
    body_markdown = models.TextField("text", max_length=20000,
                                     help_text="Markdown: **bold**, *italics*, links, lists.")
    body_html = models.TextField(editable=False, help_text="Rendered and sanitised.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True, editable=False,
                                        help_text="When it was first published.")
    updated_at = models.DateTimeField(null=True, blank=True, editable=False,
                                      help_text="When it was last changed after publication.")
    update_note = models.CharField(
        "what changed", max_length=300, blank=True,
        help_text="Optional. Shown with “Updated” when you change something already published.")
    withdrawn_at = models.DateTimeField(null=True, blank=True, editable=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")

    class Meta:
        abstract = True
        ordering = ["-published_at", "-id"]

    def __str__(self):
        return self.title

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class NewsItem(Publication):
    """News from the hub's staff, public once published."""

    class Meta(Publication.Meta):
        indexes = [models.Index(fields=["status", "published_at"])]

    def get_absolute_url(self):
        return reverse("community:news_detail", args=[self.slug])


class Briefing(Publication):
    """Facts a partner organisation gives to an audience it chooses: everyone, the hub's
    members, or the members of organisations it names (a police unit telling community
    contacts what happened before rumours spread, say)."""

    class Audience(models.TextChoices):
        PUBLIC = "public", "Everyone, including visitors"
        MEMBERS = "members", "Members of the hub"
        ORGANISATIONS = "organisations", "Members of the organisations named below"

    organisation = models.ForeignKey(
        "members.Organisation", on_delete=models.PROTECT, related_name="briefings",
        help_text="The partner organisation giving the briefing. Its members always see it.")
    audience = models.CharField("who can see it", max_length=13, choices=Audience.choices,
                                default=Audience.MEMBERS)
    audience_organisations = models.ManyToManyField(
        "members.Organisation", blank=True, related_name="briefings_received",
        verbose_name="named organisations",
        help_text="Only for “Members of the organisations named below”.")

    class Meta(Publication.Meta):
        indexes = [models.Index(fields=["status", "audience", "published_at"])]

    def get_absolute_url(self):
        return reverse("community:briefing_detail", args=[self.slug])


# --- Ideas board ------------------------------------------------------------------------------
#
# Members put ideas forward and support the ones they want to see happen, once each. A support
# keeps the supporter's sector as it was when they gave it, so the board can show police,
# community and other voices side by side instead of one total that the largest group decides.

class Idea(TimeStampedModel):
    class Status(models.TextChoices):
        NEW = "new", "New"
        DISCUSSION = "discussion", "Under discussion"
        ADOPTED = "adopted", "Adopted"
        DECLINED = "declined", "Declined"

    title = models.CharField(max_length=160)
    body_markdown = models.TextField("the idea", max_length=8000,
                                     help_text="What you propose and why. Markdown works.")
    body_html = models.TextField(editable=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="ideas")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    status_reason = models.TextField(
        "reason", max_length=2000, blank=True,
        help_text="Why the status changed. Required when an idea is declined.")
    status_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    status_changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                          on_delete=models.SET_NULL, related_name="+")
    # What came of an adopted idea. A study link joins these once the research workspace has
    # studies; until then ``outcome_note`` can say so in words.
    outcome_event = models.ForeignKey(Event, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="ideas", verbose_name="event")
    outcome_resource = models.ForeignKey("library.Resource", null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="ideas",
                                         verbose_name="library resource")
    outcome_note = models.CharField("what came of it", max_length=500, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["status", "created"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("community:idea_detail", args=[self.pk])


class IdeaSupport(models.Model):
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="supports")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="idea_supports")
    sector = models.CharField(max_length=12, choices=Sector.choices, default=Sector.OTHER,
                              help_text="The supporter's sector when they gave their support.")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["idea", "user"],
                                               name="one_support_per_person")]

    def __str__(self):
        return f"Support for idea {self.idea_id}"


class IdeaComment(models.Model):
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    body_markdown = models.TextField("comment", max_length=4000)
    body_html = models.TextField(editable=False)
    created = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True, editable=False)
    removed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    removed_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self):
        return f"Comment on idea {self.idea_id}"


# --- Success stories and funding ---------------------------------------------------------------

class Story(TimeStampedModel):
    """A success story told in a fixed shape, so stories can be compared and trusted: the
    context, what was done, with whom, what came of it, and the evidence for it."""

    Status = PublishStatus

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True, editable=False)
    summary = models.CharField(max_length=300, help_text="One or two sentences for lists, "
                                                         "feeds and the weekly email.")
    organisation = models.ForeignKey(
        "members.Organisation", null=True, blank=True, on_delete=models.PROTECT,
        related_name="stories", help_text="The organisation telling the story.")
    context = models.TextField(max_length=6000, help_text="The place, the people and the "
                                                          "problem before anything was done.")
    what_was_done = models.TextField("what was done", max_length=6000)
    partners = models.ManyToManyField("members.Organisation", blank=True,
                                      related_name="stories_partnered",
                                      help_text="Organisations on the hub that took part.")
    other_partners = models.CharField(
        "other partners", max_length=500, blank=True,
        help_text="Partners not on the hub, in words.")
    outcome = models.TextField(max_length=6000, help_text="What changed, for whom.")
    evidence = models.TextField(max_length=6000,
                                help_text="How we know: figures, evaluations, testimony.")
    initiatives = models.ManyToManyField("assessment.Initiative", blank=True,
                                         related_name="stories")
    resources = models.ManyToManyField("library.Resource", blank=True, related_name="stories")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name_plural = "stories"
        indexes = [models.Index(fields=["status", "published_at"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("community:story_detail", args=[self.slug])


class FundingOpportunity(TimeStampedModel):
    Status = PublishStatus

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True, editable=False)
    funder = models.CharField(max_length=200)
    amount = models.CharField(max_length=120, blank=True,
                              help_text="In words, e.g. “up to £10,000” or “£2,000–£5,000”.")
    summary = models.CharField(max_length=300)
    eligibility = models.TextField(max_length=4000, help_text="Who may apply.")
    deadline = models.DateTimeField(help_text="When applications close.")
    link = models.URLField(max_length=500, help_text="Where to read more and apply.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["deadline", "id"]
        verbose_name_plural = "funding opportunities"
        indexes = [models.Index(fields=["status", "deadline"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("community:funding_detail", args=[self.slug])


class FundingFollow(models.Model):
    """A member following an opportunity, to be reminded before its deadline."""

    opportunity = models.ForeignKey(FundingOpportunity, on_delete=models.CASCADE,
                                    related_name="follows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="funding_follows")
    created = models.DateTimeField(auto_now_add=True)
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["opportunity", "user"],
                                               name="one_follow_per_person")]

    def __str__(self):
        return f"Follow of {self.opportunity_id}"


# --- Consultations and concerns ------------------------------------------------------------------
#
# A partner organisation consults on a policy or a practice, members answer its questions until
# the closing date, and the organisation then says what it changed and why ("you said, we did").
# A member can also raise a concern with an organisation, in public or in private; the
# organisation answers, and how long it takes to answer is shown on its page.

class Consultation(TimeStampedModel):
    class Audience(models.TextChoices):
        PUBLIC = "public", "Everyone can read it; members respond"
        MEMBERS = "members", "Members of the hub"
        ORGANISATIONS = "organisations", "Members of the organisations named below"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        WITHDRAWN = "withdrawn", "Withdrawn"

    organisation = models.ForeignKey("members.Organisation", on_delete=models.PROTECT,
                                     related_name="consultations")
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True, editable=False)
    summary = models.CharField(max_length=300)
    body_markdown = models.TextField("what is proposed", max_length=20000,
                                     help_text="The policy or practice, and what may change.")
    body_html = models.TextField(editable=False)
    audience = models.CharField("who can see it and respond", max_length=13,
                                choices=Audience.choices, default=Audience.MEMBERS)
    audience_organisations = models.ManyToManyField(
        "members.Organisation", blank=True, related_name="consultations_received",
        verbose_name="named organisations")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    opened_at = models.DateTimeField(null=True, blank=True, editable=False)
    closes_at = models.DateTimeField("closing date")
    outcome_summary = models.TextField(
        "what we did", max_length=6000, blank=True,
        help_text="Published after the closing date: what changed and why.")
    outcome_published_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["status", "closes_at"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("community:consultation_detail", args=[self.slug])


class ConsultationQuestion(models.Model):
    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE,
                                     related_name="questions")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(max_length=500)
    required = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.text


class ConsultationResponse(models.Model):
    """One member's answers. Others who may see the consultation see the answers; the
    respondent's name only if they chose to give it."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE,
                                     related_name="responses")
    respondent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    sector = models.CharField(max_length=12, choices=Sector.choices, default=Sector.OTHER)
    show_name = models.BooleanField("show my name with my response", default=False)
    submitted_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["submitted_at", "id"]
        constraints = [models.UniqueConstraint(
            fields=["consultation", "respondent"], name="one_response_per_person",
            condition=models.Q(respondent__isnull=False))]

    def __str__(self):
        return f"Response {self.pk} to consultation {self.consultation_id}"


class ConsultationAnswer(models.Model):
    response = models.ForeignKey(ConsultationResponse, on_delete=models.CASCADE,
                                 related_name="answers")
    question = models.ForeignKey(ConsultationQuestion, on_delete=models.CASCADE,
                                 related_name="answers")
    text = models.TextField(max_length=6000)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["response", "question"],
                                               name="one_answer_per_question")]

    def __str__(self):
        return f"Answer to question {self.question_id}"


class ConsultationChange(models.Model):
    """One line of "you said, we did": what respondents said, what changed, and why."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE,
                                     related_name="changes")
    position = models.PositiveSmallIntegerField(default=0)
    you_said = models.TextField("you said", max_length=2000)
    we_did = models.TextField("we did", max_length=2000)
    why = models.TextField(max_length=2000, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.we_did[:60]


class Concern(TimeStampedModel):
    class Visibility(models.TextChoices):
        PUBLIC = "public", "Public: anyone can read it and the answer"
        PRIVATE = "private", "Private: only you and the organisation's staff"

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for an answer"
        ANSWERED = "answered", "Answered"
        CLOSED = "closed", "Closed"

    organisation = models.ForeignKey("members.Organisation", on_delete=models.PROTECT,
                                     related_name="concerns")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="concerns")
    show_name = models.BooleanField("show my name", default=False)
    title = models.CharField(max_length=200)
    body_markdown = models.TextField("your concern", max_length=8000)
    body_html = models.TextField(editable=False)
    visibility = models.CharField(max_length=7, choices=Visibility.choices,
                                  default=Visibility.PUBLIC)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    answered_at = models.DateTimeField(null=True, blank=True, editable=False,
                                       help_text="When the organisation first answered.")
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    removed_at = models.DateTimeField(null=True, blank=True, editable=False)
    removed_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["organisation", "status"]),
                   models.Index(fields=["visibility", "created"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("community:concern_detail", args=[self.pk])


class ConcernReply(models.Model):
    """A message on a concern: the organisation's answer (``on_behalf`` set) or the author's
    follow-up."""

    concern = models.ForeignKey(Concern, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    on_behalf = models.ForeignKey("members.Organisation", null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    body_markdown = models.TextField("reply", max_length=8000)
    body_html = models.TextField(editable=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created", "id"]
        verbose_name_plural = "concern replies"

    def __str__(self):
        return f"Reply on concern {self.concern_id}"
