"""Every change to news items and briefings goes through a function here, and each checks the
policy again.

A draft becomes public (to its audience) when it is published; ``published_at`` is the first
publication and never moves. Changing a published item records ``updated_at`` and an optional
note of what changed. Withdrawing is final: the item leaves every list, feed and email, and its
page answers like a missing one except to the people who write it. Publishing a briefing for
named organisations tells their members by mail, with nothing but the title and the link.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from hub import policy
from hub.community import markdown
from hub.community.models import Briefing, NewsItem, Publication
from hub.core.services import audit_record, email_queue, unique_slug
from hub.members.models import Membership, User

RESERVED_SLUGS = {"new", "mine", "feed"}
Status = Publication.Status
NEWS_FIELDS = {"title", "summary", "body_markdown", "status", "update_note"}
BRIEFING_FIELDS = NEWS_FIELDS | {"organisation", "audience", "audience_organisations"}


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied



def _check_fields(fields: dict, allowed: set[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    # The forms refuse NUL too; a caller that skips them must not reach the database with it.
    nul = [name for name, value in fields.items() if isinstance(value, str) and "\x00" in value]
    if nul:
        raise ValidationError({name: "Null characters are not allowed." for name in nul})
    if fields.get("status", Status.DRAFT) not in (Status.DRAFT, Status.PUBLISHED):
        raise ValidationError({"status": "Choose draft or published; withdraw with "
                                         "“Withdraw”."})


def _apply(item: Publication, fields: dict, *, now) -> set[str]:
    """Set the fields, render the body and move the dates; returns the names changed."""
    was_published = item.pk is not None and item.status == Status.PUBLISHED
    if was_published and fields.get("status") == Status.DRAFT:
        raise ValidationError({"status": "A published item cannot go back to being a draft. "
                                         "Withdraw it instead."})
    changed = {name for name, value in fields.items() if getattr(item, name, None) != value}
    for name, value in fields.items():
        setattr(item, name, value)
    item.body_html = markdown.render(item.body_markdown)
    if item.status == Status.PUBLISHED and item.published_at is None:
        item.published_at = now
    elif was_published and changed - {"update_note"}:
        item.updated_at = now
    if not was_published:
        item.update_note = ""  # there is nothing to have changed before publication
    return changed


def _log(actor, action: str, item: Publication, organisation=None, **context):
    return audit_record(actor=actor, action=f"community.{action}", target=item,
                        organisation=organisation, **context)


# --- News -------------------------------------------------------------------------------------

@transaction.atomic
def news_create(*, actor, **fields) -> NewsItem:
    _require(policy.can_write_news(actor))
    _check_fields(fields, NEWS_FIELDS)
    item = NewsItem(author=actor, slug=unique_slug(NewsItem, fields.get("title", ""),
                                                        reserved=RESERVED_SLUGS))
    _apply(item, fields, now=timezone.now())
    item.full_clean()
    item.save()
    _log(actor, "news_created", item, status=item.status)
    return item


@transaction.atomic
def news_update(*, actor, item: NewsItem, **fields) -> NewsItem:
    _require(policy.can_manage_news(actor, item))
    _check_fields(fields, NEWS_FIELDS)
    item = NewsItem.objects.select_for_update().get(pk=item.pk)
    if item.status == Status.WITHDRAWN:
        raise ValidationError("This news item has been withdrawn and can no longer change.")
    changed = _apply(item, fields, now=timezone.now())
    item.full_clean()
    item.save()
    _log(actor, "news_updated", item, fields=sorted(changed), status=item.status)
    return item


def news_publish(*, actor, item: NewsItem) -> NewsItem:
    return news_update(actor=actor, item=item, status=Status.PUBLISHED)


@transaction.atomic
def news_withdraw(*, actor, item: NewsItem) -> NewsItem:
    _require(policy.can_manage_news(actor, item))
    item = NewsItem.objects.select_for_update().get(pk=item.pk)
    _withdraw(item)
    _log(actor, "news_withdrawn", item)
    return item


def _withdraw(item: Publication) -> None:
    if item.status == Status.WITHDRAWN:
        raise ValidationError("This has already been withdrawn.")
    item.status = Status.WITHDRAWN
    item.withdrawn_at = timezone.now()
    item.save(update_fields=["status", "withdrawn_at", "modified"])


# --- Briefings --------------------------------------------------------------------------------

def _check_briefing(actor, briefing: Briefing, named: set, *, organisation_changed: bool):
    errors = {}
    if organisation_changed and briefing.organisation_id is not None and (
            briefing.organisation_id not in policy.briefing_organisation_ids(actor)):
        errors["organisation"] = "Choose a partner organisation whose briefings you write."
    if briefing.audience == Briefing.Audience.ORGANISATIONS and not named:
        errors["audience_organisations"] = ("Name at least one organisation, or choose "
                                            "another audience.")
    if errors:
        raise ValidationError(errors)


def _save_briefing(actor, briefing: Briefing, fields: dict, *, creating: bool) -> set[str]:
    current = set() if creating else set(briefing.audience_organisations.all())
    named = fields.pop("audience_organisations", None)
    named = current if named is None else set(named)
    organisation_before = None if creating else briefing.organisation_id
    was_published = not creating and briefing.status == Status.PUBLISHED
    changed = _apply(briefing, fields, now=timezone.now())
    if briefing.audience != Briefing.Audience.ORGANISATIONS:
        named = set()
    _check_briefing(actor, briefing, named,
                    organisation_changed=briefing.organisation_id != organisation_before)
    if named != current:
        changed.add("audience_organisations")
        if was_published:
            briefing.updated_at = timezone.now()
    briefing.full_clean()
    briefing.save()
    briefing.audience_organisations.set(named)
    return changed


@transaction.atomic
def briefing_create(*, actor, **fields) -> Briefing:
    _require(policy.can_write_briefings(actor))
    _check_fields(fields, BRIEFING_FIELDS)
    briefing = Briefing(author=actor, slug=unique_slug(
        Briefing, fields.get("title", ""), reserved=RESERVED_SLUGS))
    _save_briefing(actor, briefing, dict(fields), creating=True)
    _log(actor, "briefing_created", briefing, briefing.organisation, status=briefing.status,
         audience=briefing.audience)
    if briefing.status == Status.PUBLISHED:
        _tell_audience(briefing)
    return briefing


@transaction.atomic
def briefing_update(*, actor, briefing: Briefing, **fields) -> Briefing:
    _require(policy.can_manage_briefing(actor, briefing))
    _check_fields(fields, BRIEFING_FIELDS)
    briefing = Briefing.objects.select_for_update().get(pk=briefing.pk)
    if briefing.status == Status.WITHDRAWN:
        raise ValidationError("This briefing has been withdrawn and can no longer change.")
    first_publication = briefing.published_at is None
    changed = _save_briefing(actor, briefing, dict(fields), creating=False)
    _log(actor, "briefing_updated", briefing, briefing.organisation, fields=sorted(changed),
         status=briefing.status, audience=briefing.audience)
    if first_publication and briefing.status == Status.PUBLISHED:
        _tell_audience(briefing)
    return briefing


def briefing_publish(*, actor, briefing: Briefing) -> Briefing:
    return briefing_update(actor=actor, briefing=briefing, status=Status.PUBLISHED)


@transaction.atomic
def briefing_withdraw(*, actor, briefing: Briefing) -> Briefing:
    _require(policy.can_manage_briefing(actor, briefing))
    briefing = Briefing.objects.select_for_update().get(pk=briefing.pk)
    _withdraw(briefing)
    _log(actor, "briefing_withdrawn", briefing, briefing.organisation)
    return briefing


def _tell_audience(briefing: Briefing) -> int:
    """Mail the members of the named organisations that a briefing for them is out: the title
    and the link only (the page itself checks who is reading). Returns how many were told."""
    if briefing.audience != Briefing.Audience.ORGANISATIONS:
        return 0
    people = User.objects.filter(
        is_active=True, standing=User.Standing.MEMBER,
        pk__in=Membership.objects.filter(
            organisation__in=briefing.audience_organisations.all()).values("user_id"),
    ).exclude(pk=briefing.author_id).order_by("pk")
    body = render_to_string("community/news/briefing_email.txt", {
        "briefing": briefing, "url": settings.SITE_URL + briefing.get_absolute_url()})
    told = 0
    for person in people:
        email_queue(subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX
                    + f"Briefing: {briefing.title}",
                    body=body, to=[person.email], from_email=settings.DEFAULT_FROM_EMAIL)
        told += 1
    _log(None, "briefing_announced", briefing, briefing.organisation, told=told)
    return told
