"""The mailing list: anyone may subscribe with an email address alone, confirms by a link
(double opt-in), and leaves with one click from any mail. A weekly digest lists what became
public in the hub since the last one.

Only the address, whether it is confirmed, and when, are kept. An address that leaves is
deleted, not marked; one whose confirmation never comes is deleted after the link expires.
Links carry a signed token, so nothing secret is stored.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from hub.community.models import Digest, Subscription
from hub.core.services import audit_record, email_queue
from hub.core.tasks import recurring

CONFIRM_SALT = "community.subscription.confirm"
UNSUBSCRIBE_SALT = "community.subscription.leave"
CONFIRM_WITHIN = timedelta(days=3)
# A pending address gets at most one confirmation mail in this time, so the form cannot be
# used to flood someone's inbox.
RESEND_AFTER = timedelta(minutes=10)
DIGEST_EVERY = timedelta(days=7)


class LinkError(Exception):
    """A confirmation or leaving link that cannot be used, with a message for its holder."""

    def __init__(self, message: str, state: str):
        super().__init__(message)
        self.message = message
        self.state = state


def normalise(address: str) -> str:
    address = (address or "").strip().lower()
    try:
        validate_email(address)
    except ValidationError:
        raise ValidationError(
            {"email": "Enter an email address such as name@example.org."}) from None
    return address


def _link(name: str, token: str) -> str:
    return settings.SITE_URL + reverse(name, args=[token])


def confirm_url(address: str) -> str:
    return _link("community:subscription_confirm",
                 signing.dumps(address, salt=CONFIRM_SALT, compress=True))


def unsubscribe_url(address: str) -> str:
    return _link("community:unsubscribe",
                 signing.dumps(address, salt=UNSUBSCRIBE_SALT, compress=True))


def list_headers(address: str) -> dict[str, str]:
    """RFC 2369 and RFC 8058 headers: mail programs show their own one-click leave button."""
    return {"List-Unsubscribe": f"<{unsubscribe_url(address)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


@transaction.atomic
def subscribe(address: str) -> Subscription | None:
    """Ask ``address`` to confirm. The same answer whatever the address's state, so the form
    cannot be used to learn who is subscribed; returns the pending subscription, if any."""
    address = normalise(address)
    now = timezone.now()
    subscription, created = Subscription.objects.select_for_update().get_or_create(
        email=address, defaults={"asked_at": now})
    if subscription.status == Subscription.Status.CONFIRMED:
        return None
    if not created:
        if now - subscription.asked_at < RESEND_AFTER:
            return subscription
        subscription.asked_at = now
        subscription.save(update_fields=["asked_at"])
    email_queue(
        subject="Confirm your subscription to the Engagement Hub's news",
        body=render_to_string("community/email/subscription_confirm.txt", {
            "url": confirm_url(address), "days": CONFIRM_WITHIN.days}),
        to=[address])
    return subscription


def _address_from(token: str, salt: str, max_age: timedelta | None) -> str:
    try:
        return signing.loads(token, salt=salt,
                             max_age=max_age.total_seconds() if max_age else None)
    except signing.SignatureExpired:
        raise LinkError("This confirmation link has expired. Subscribe again to get a new "
                        "one.", "expired") from None
    except signing.BadSignature:
        raise LinkError("This link is not valid. Check that you copied all of it from the "
                        "message.", "invalid") from None


def confirm_check(token: str) -> str:
    """The address a confirmation link is for, or ``LinkError``."""
    address = _address_from(token, CONFIRM_SALT, CONFIRM_WITHIN)
    if not Subscription.objects.filter(email=address).exists():
        raise LinkError("We have no request to subscribe this address any more. Subscribe "
                        "again to get a new link.", "gone")
    return address


@transaction.atomic
def confirm(token: str) -> Subscription:
    address = confirm_check(token)
    subscription = Subscription.objects.select_for_update().get(email=address)
    if subscription.status != Subscription.Status.CONFIRMED:
        subscription.status = Subscription.Status.CONFIRMED
        subscription.confirmed_at = timezone.now()
        subscription.save(update_fields=["status", "confirmed_at"])
        audit_record(actor=None, action="subscription.confirm", target=subscription)
        transaction.on_commit(digest_ensure_scheduled)
    return subscription


def unsubscribe_check(token: str) -> str:
    return _address_from(token, UNSUBSCRIBE_SALT, None)


def unsubscribe(token: str) -> bool:
    """Delete the subscription the link is for; ``False`` if it was already gone."""
    address = unsubscribe_check(token)
    deleted, _ = Subscription.objects.filter(email=address).delete()
    if deleted:
        audit_record(actor=None, action="subscription.leave", target=None)
    return bool(deleted)


def pending_purge(now: datetime | None = None) -> int:
    """Forget addresses whose confirmation link has expired unused."""
    now = now or timezone.now()
    deleted, _ = Subscription.objects.filter(
        status=Subscription.Status.PENDING, asked_at__lt=now - CONFIRM_WITHIN).delete()
    return deleted


# --- The weekly digest ----------------------------------------------------------------------

@dataclass(frozen=True)
class Item:
    title: str
    url: str
    line: str = ""


def _new_resources(start: datetime, end: datetime) -> list[Item]:
    from hub.library.models import Resource, Tier

    found = Resource.objects.filter(
        status=Resource.Status.PUBLISHED, metadata_tier=Tier.PUBLIC,
        published_at__gte=start, published_at__lt=end).select_related("organisation")
    return [Item(r.title, settings.SITE_URL + reverse("library:detail", args=[r.pk]),
                 f"{r.get_type_display()} · {r.organisation.name}")
            for r in found.order_by("published_at", "pk")]


def _new_events(start: datetime, end: datetime) -> list[Item]:
    from hub.community.models import Event

    found = Event.objects.filter(
        status=Event.Status.PUBLISHED, audience=Event.Audience.PUBLIC,
        published_at__gte=start, published_at__lt=end, starts_at__gte=end)
    return [Item(e.title, settings.SITE_URL + e.get_absolute_url(),
                 timezone.localtime(e.starts_at).strftime("%A %-d %B %Y, %H:%M"))
            for e in found.order_by("starts_at", "pk")]


def _new_news(start: datetime, end: datetime) -> list[Item]:
    from hub.community import news_selectors

    news = news_selectors.public_news().filter(published_at__gte=start, published_at__lt=end)
    briefings = news_selectors.public_briefings().filter(
        published_at__gte=start, published_at__lt=end).select_related("organisation")
    found = [(n.published_at, n.pk, Item(n.title, settings.SITE_URL + n.get_absolute_url(),
                                          "News from the hub")) for n in news]
    found += [(b.published_at, b.pk, Item(b.title, settings.SITE_URL + b.get_absolute_url(),
                                          f"Briefing by {b.organisation.name}"))
              for b in briefings]
    return [item for _, _, item in sorted(found, key=lambda row: (row[0], row[1]))]


def _new_stories(start: datetime, end: datetime) -> list[Item]:
    from hub.community import stories_selectors

    found = stories_selectors.public_stories().filter(
        published_at__gte=start, published_at__lt=end).select_related("organisation")
    return [Item(s.title, settings.SITE_URL + s.get_absolute_url(),
                 f"Told by {s.organisation.name if s.organisation else 'the hub'}")
            for s in found.order_by("published_at", "pk")]


def _new_funding(start: datetime, end: datetime) -> list[Item]:
    from hub.community import stories_selectors

    found = stories_selectors.public_funding().filter(
        published_at__gte=start, published_at__lt=end, deadline__gt=end)
    return [Item(f.title, settings.SITE_URL + f.get_absolute_url(),
                 f"{f.funder} · closes "
                 + timezone.localtime(f.deadline).strftime("%A %-d %B %Y, %H:%M %Z"))
            for f in found.order_by("deadline", "pk")]


# What the digest lists, section by section: each part of the hub that makes public items
# adds its own here (stories and funding will).
DIGEST_SECTIONS = [
    ("New in the library", _new_resources),
    ("Coming events", _new_events),
    ("News and briefings", _new_news),
    ("Success stories", _new_stories),
    ("Funding opportunities", _new_funding),
]


def digest_sections(start: datetime, end: datetime) -> list[tuple[str, list[Item]]]:
    sections = [(title, find(start, end)) for title, find in DIGEST_SECTIONS]
    return [(title, items) for title, items in sections if items]


def digest_send(now: datetime | None = None) -> Digest | None:
    """Send the digest of what became public since the last one, once per week at most.

    The digest's row is written first and its period is unique, so two workers cannot both
    send the same week. Returns ``None`` when it is not yet time.
    """
    now = now or timezone.now()
    pending_purge(now)
    last = Digest.objects.order_by("-period_end").first()
    start = last.period_end if last else now - DIGEST_EVERY
    if now - start < DIGEST_EVERY - timedelta(hours=1):
        return None
    sections = digest_sections(start, now)
    count = sum(len(items) for _, items in sections)
    recipients = list(Subscription.objects.filter(
        status=Subscription.Status.CONFIRMED).values_list("email", flat=True)) if count else []
    try:
        with transaction.atomic():
            digest = Digest.objects.create(period_start=start, period_end=now, items=count,
                                           recipients=len(recipients))
            for address in recipients:
                context = {"sections": sections, "start": start, "end": now,
                           "unsubscribe_url": unsubscribe_url(address)}
                email_queue(subject="This week in the Engagement Hub",
                            body=render_to_string("community/email/digest.txt", context),
                            to=[address], headers=list_headers(address))
    except IntegrityError:  # another worker sent this week's digest first
        return None
    return digest


def digest_next_run(now: datetime | None = None) -> datetime:
    """Mondays at 08:00 in the hub's time zone."""
    local = timezone.localtime(now or timezone.now())
    days = (7 - local.weekday()) % 7 or 7
    return (local + timedelta(days=days)).replace(hour=8, minute=0, second=0, microsecond=0)


@recurring
def digest_ensure_scheduled(*, counting_running: bool = True) -> None:
    """Make sure exactly one digest task is waiting (called when the hub starts, when someone
    confirms, and by the digest task itself, which does not count its own run)."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from hub.community.tasks import digest_weekly

    waiting = DBTaskResult.objects.filter(
        task_path=digest_weekly.module_path,
        status__in=[TaskResultStatus.READY, *([TaskResultStatus.RUNNING] if counting_running
                                             else [])])
    if not waiting.exists():
        digest_weekly.using(run_after=digest_next_run()).enqueue()
