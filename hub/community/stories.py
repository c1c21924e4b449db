"""Every change to success stories and funding opportunities goes through a function here,
and each asks the policy again.

Both move draft → published → withdrawn. ``published_at`` is the first publication and never
moves; withdrawing is final. A story links initiatives and library items: a writer may add only
those they can see, and links they cannot see (added by someone else) are kept as they are.

Members follow a published opportunity to be reminded before its deadline. A recurring task
(``funding_reminders_send``) mails each follower once, ``HUB_FUNDING_REMINDER_DAYS`` before the
deadline. Each reminder is claimed by a conditional update of ``reminded_at`` in the same
transaction that queues the mail, so two workers sweeping at once never both send it. Moving a
deadline later clears the reminders already sent whose new time is still ahead, so those
followers hear again before the new deadline; nothing is sent for a withdrawn or closed one.
"""

from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from hub import policy
from hub.community.models import FundingFollow, FundingOpportunity, Story
from hub.core.services import audit_record, email_queue, unique_slug
from hub.core.tasks import recurring

RESERVED_SLUGS = {"new", "mine", "feed", "following"}
STORY_FIELDS = {"title", "summary", "organisation", "context", "what_was_done", "partners",
                "other_partners", "outcome", "evidence", "initiatives", "resources", "status"}
STORY_LINKS = ("partners", "initiatives", "resources")
FUNDING_FIELDS = {"title", "funder", "amount", "summary", "eligibility", "deadline", "link",
                  "status"}
REMIND_EVERY = timedelta(hours=1)
Status = Story.Status


def reminder_days() -> int:
    return int(getattr(settings, "HUB_FUNDING_REMINDER_DAYS", 7))


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


def _move_status(item, status, now) -> None:
    if status is None:
        return
    if item.status == Status.PUBLISHED and status == Status.DRAFT:
        raise ValidationError({"status": "A published item cannot go back to being a draft. "
                                         "Withdraw it instead."})
    item.status = status
    if status == Status.PUBLISHED and item.published_at is None:
        item.published_at = now


def _log(actor, action: str, target, organisation=None, **context):
    return audit_record(actor=actor, action=f"community.{action}", target=target,
                        organisation=organisation, **context)


# --- Stories ----------------------------------------------------------------------------------

def _story_links(actor, story: Story, links: dict, *, creating: bool) -> dict:
    """The links to store: what was chosen among the items the actor may see, plus the links
    already there that the actor cannot see (someone else added them; they stay)."""
    from hub.assessment.models import Initiative
    from hub.library.models import Resource
    from hub.members.models import Organisation

    rules = {"partners": lambda qs: qs,
             "initiatives": lambda qs: policy.visible_initiatives(actor, qs),
             "resources": lambda qs: policy.visible_resources(actor, qs)}
    models = {"partners": Organisation, "initiatives": Initiative, "resources": Resource}
    result, errors = {}, {}
    for name in STORY_LINKS:
        chosen = links.get(name)
        current = set() if creating else set(getattr(story, name).values_list("pk", flat=True))
        if chosen is None:
            result[name] = current
            continue
        wanted = {getattr(obj, "pk", obj) for obj in chosen}
        visible = set(rules[name](models[name].objects.filter(pk__in=wanted | current))
                      .values_list("pk", flat=True))
        if wanted - visible - current:
            errors[name] = "Choose only items you can see."
        result[name] = (wanted & visible) | (current - visible)
    if errors:
        raise ValidationError(errors)
    return result


def _save_story(actor, story: Story, fields: dict, *, creating: bool) -> set[str]:
    links = {name: fields.pop(name) for name in STORY_LINKS if name in fields}
    organisation_before = None if creating else story.organisation_id
    changed = {name for name, value in fields.items() if getattr(story, name, None) != value}
    status = fields.pop("status", None)
    for name, value in fields.items():
        setattr(story, name, value)
    _move_status(story, status, timezone.now())
    errors = {}
    if story.organisation_id != organisation_before or creating:
        allowed = policy.story_organisation_ids(actor)
        if story.organisation_id is None and not policy.acts_as_staff(actor):
            errors["organisation"] = ["Choose the organisation telling the story."]
        elif story.organisation_id is not None and story.organisation_id not in allowed:
            errors["organisation"] = ["Choose a partner organisation whose stories you tell."]
    try:
        story.full_clean(exclude=["slug"])
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)
    resolved = _story_links(actor, story, links, creating=creating)
    story.save()
    for name, pks in resolved.items():
        before = set(getattr(story, name).values_list("pk", flat=True))
        if before != pks:
            getattr(story, name).set(pks)
            changed.add(name)
    return changed


@transaction.atomic
def story_create(*, actor, **fields) -> Story:
    _require(policy.can_write_stories(actor))
    _check_fields(fields, STORY_FIELDS)
    story = Story(author=actor, slug=unique_slug(Story, fields.get("title", ""),
                                                    reserved=RESERVED_SLUGS))
    _save_story(actor, story, dict(fields), creating=True)
    _log(actor, "story_created", story, story.organisation, status=story.status)
    return story


@transaction.atomic
def story_update(*, actor, story: Story, **fields) -> Story:
    _require(policy.can_manage_story(actor, story))
    _check_fields(fields, STORY_FIELDS)
    story = Story.objects.select_for_update(of=("self",)).get(pk=story.pk)
    if story.status == Status.WITHDRAWN:
        raise ValidationError("This story has been withdrawn and can no longer change.")
    changed = _save_story(actor, story, dict(fields), creating=False)
    _log(actor, "story_updated", story, story.organisation, fields=sorted(changed),
         status=story.status)
    return story


def story_publish(*, actor, story: Story) -> Story:
    return story_update(actor=actor, story=story, status=Status.PUBLISHED)


@transaction.atomic
def story_withdraw(*, actor, story: Story) -> Story:
    _require(policy.can_manage_story(actor, story))
    story = Story.objects.select_for_update(of=("self",)).get(pk=story.pk)
    if story.status == Status.WITHDRAWN:
        raise ValidationError("This story has already been withdrawn.")
    story.status = Status.WITHDRAWN
    story.save(update_fields=["status", "modified"])
    _log(actor, "story_withdrawn", story, story.organisation)
    return story


# --- Funding opportunities --------------------------------------------------------------------

def _check_link(link: str) -> None:
    if link and urlsplit(link).scheme.lower() not in ("http", "https"):
        raise ValidationError({"link": "Give a web address starting with https:// or "
                                       "http://."})


def _save_funding(opportunity: FundingOpportunity, fields: dict, *, now) -> set[str]:
    changed = {name for name, value in fields.items()
               if getattr(opportunity, name, None) != value}
    publishing = fields.get("status") == Status.PUBLISHED and (
        opportunity.status != Status.PUBLISHED)
    status = fields.pop("status", None)
    for name, value in fields.items():
        setattr(opportunity, name, value)
    _move_status(opportunity, status, now)
    errors = {}
    try:
        _check_link(opportunity.link)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if opportunity.status == Status.PUBLISHED and opportunity.deadline and (
            publishing or "deadline" in changed) and opportunity.deadline <= now:
        errors["deadline"] = ["This deadline has passed. Give a date and time still ahead to "
                              "publish it."]
    try:
        opportunity.full_clean(exclude=["slug"])
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)
    opportunity.save()
    return changed


@transaction.atomic
def funding_create(*, actor, **fields) -> FundingOpportunity:
    _require(policy.can_write_funding(actor))
    _check_fields(fields, FUNDING_FIELDS)
    opportunity = FundingOpportunity(
        created_by=actor, slug=unique_slug(
            FundingOpportunity, fields.get("title", ""), reserved=RESERVED_SLUGS))
    _save_funding(opportunity, dict(fields), now=timezone.now())
    _log(actor, "funding_created", opportunity, status=opportunity.status)
    if opportunity.status == Status.PUBLISHED:
        transaction.on_commit(funding_reminders_ensure_scheduled)
    return opportunity


@transaction.atomic
def funding_update(*, actor, opportunity: FundingOpportunity, **fields) -> FundingOpportunity:
    _require(policy.can_manage_funding(actor, opportunity))
    _check_fields(fields, FUNDING_FIELDS)
    opportunity = FundingOpportunity.objects.select_for_update(of=("self",)).get(
        pk=opportunity.pk)
    if opportunity.status == Status.WITHDRAWN:
        raise ValidationError("This opportunity has been withdrawn and can no longer change.")
    now = timezone.now()
    old_deadline = opportunity.deadline
    changed = _save_funding(opportunity, dict(fields), now=now)
    reset = 0
    if opportunity.deadline > old_deadline:
        reset = _reminders_reset(opportunity, now)
    _log(actor, "funding_updated", opportunity, fields=sorted(changed),
         status=opportunity.status, reminders_reset=reset)
    return opportunity


def _reminders_reset(opportunity: FundingOpportunity, now) -> int:
    """The deadline moved later: followers already reminded hear again before the new one,
    but only when the new reminder time is still ahead (otherwise they would get a second
    mail at once, saying what the first said)."""
    if opportunity.deadline - timedelta(days=reminder_days()) <= now:
        return 0
    return opportunity.follows.filter(reminded_at__isnull=False).update(reminded_at=None)


@transaction.atomic
def funding_withdraw(*, actor, opportunity: FundingOpportunity) -> FundingOpportunity:
    _require(policy.can_manage_funding(actor, opportunity))
    opportunity = FundingOpportunity.objects.select_for_update(of=("self",)).get(
        pk=opportunity.pk)
    if opportunity.status == Status.WITHDRAWN:
        raise ValidationError("This opportunity has already been withdrawn.")
    opportunity.status = Status.WITHDRAWN
    opportunity.save(update_fields=["status", "modified"])
    _log(actor, "funding_withdrawn", opportunity)
    return opportunity


def funding_follow(*, actor, opportunity: FundingOpportunity) -> FundingFollow:
    _require(policy.is_member(actor) and policy.can_view_funding(actor, opportunity))
    if not policy.can_follow_funding(actor, opportunity):
        raise ValidationError("This opportunity is closed or not published, so there is no "
                              "deadline to remind you of.")
    if FundingFollow.objects.filter(opportunity=opportunity, user=actor).exists():
        raise ValidationError("You already follow this opportunity.")
    try:
        with transaction.atomic():
            follow = FundingFollow.objects.create(opportunity=opportunity, user=actor)
    except IntegrityError:  # a second click that raced the first
        raise ValidationError("You already follow this opportunity.") from None
    transaction.on_commit(funding_reminders_ensure_scheduled)
    return follow


def funding_unfollow(*, actor, opportunity: FundingOpportunity) -> None:
    _require(policy.is_member(actor))
    deleted, _ = FundingFollow.objects.filter(opportunity=opportunity, user=actor).delete()
    if not deleted:
        raise ValidationError("You were not following this opportunity.")


# --- Reminders --------------------------------------------------------------------------------

def _due(now):
    from hub.members.models import User

    return FundingFollow.objects.filter(
        reminded_at__isnull=True, opportunity__status=Status.PUBLISHED,
        opportunity__deadline__gt=now,
        opportunity__deadline__lte=now + timedelta(days=reminder_days()),
        user__is_active=True, user__standing=User.Standing.MEMBER)


def funding_remind(*, follow_id: int, now=None) -> bool:
    """Send one follower's reminder if it is still due; never twice. Returns whether it was
    sent. The claim (setting ``reminded_at`` only where it is empty) and the queued mail commit
    together, so a second worker finds nothing left to claim."""
    now = now or timezone.now()
    with transaction.atomic():
        if not _due(now).filter(pk=follow_id).exists():
            return False
        # A plain conditional update: the database re-checks ``reminded_at`` on the row it
        # locks, so of two workers only one changes it.
        if not FundingFollow.objects.filter(pk=follow_id, reminded_at__isnull=True).update(
                reminded_at=now):
            return False
        follow = FundingFollow.objects.select_related("opportunity", "user").get(pk=follow_id)
        opportunity = follow.opportunity
        left = opportunity.deadline - now
        body = render_to_string("community/email/funding_reminder.txt", {
            "opportunity": opportunity, "days": left.days, "hours": left.seconds // 3600,
            "deadline": timezone.localtime(opportunity.deadline),
            "time_zone": settings.TIME_ZONE,
            "url": settings.SITE_URL + opportunity.get_absolute_url()})
        email_queue(subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX
                    + f"Deadline soon: {opportunity.title}",
                    body=body, to=[follow.user.email], from_email=settings.DEFAULT_FROM_EMAIL)
        _log(None, "funding_reminded", opportunity)
    return True


def funding_reminders_send(*, now=None) -> int:
    """Every reminder that is due and not yet sent. Safe to run as often as wanted, and by
    several workers at once."""
    now = now or timezone.now()
    due = list(_due(now).order_by("pk").values_list("pk", flat=True))
    return sum(funding_remind(follow_id=pk, now=now) for pk in due)


@recurring
def funding_reminders_ensure_scheduled(*, counting_running: bool = True) -> None:
    """Make sure one reminder sweep is waiting: at once when the hub starts or someone
    follows, an hour on when the sweep itself asks."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from hub.community.tasks import funding_reminders

    waiting = DBTaskResult.objects.filter(
        task_path=funding_reminders.module_path,
        status__in=[TaskResultStatus.READY, *([TaskResultStatus.RUNNING] if counting_running
                                             else [])])
    if not waiting.exists():
        later = timezone.now() + (timedelta(0) if counting_running else REMIND_EVERY)
        funding_reminders.using(run_after=later).enqueue()
