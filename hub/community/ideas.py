"""Every change to the ideas board goes through a function here, and each asks the policy again.

Members put ideas forward, support them (once each, from their sector at that moment) and
comment. Staff decide: under discussion, adopted (with links to what came of it) or declined
(always with a reason). Each decision is kept on the idea (who and when), recorded in the audit
trail, and told to the idea's author by mail with nothing but the new status, the reason and a
link: the page itself checks what the reader may see.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from hub import policy
from hub.community import markdown
from hub.community.models import Idea, IdeaComment, IdeaSupport
from hub.core.services import audit_record, email_queue
from hub.members.models import Profile, Sector

Status = Idea.Status


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _refuse_nul(**fields) -> None:
    # The forms refuse NUL too; a caller that skips them must not reach the database with it.
    bad = [name for name, value in fields.items() if isinstance(value, str) and "\x00" in value]
    if bad:
        raise ValidationError({name: "Null characters are not allowed." for name in bad})


def _limit(name: str, value: str, limit: int) -> None:
    # TextField limits are not checked by full_clean; say so here rather than store too much.
    if len(value or "") > limit:
        raise ValidationError({name: f"Keep this to {limit} characters or fewer "
                                     f"(it has {len(value)})."})


def _locked(idea: Idea) -> Idea:
    return Idea.objects.select_for_update(of=("self",)).get(pk=idea.pk)


def _set_text(idea: Idea, title: str, body_markdown: str) -> None:
    _refuse_nul(title=title, body_markdown=body_markdown)
    _limit("body_markdown", body_markdown, Idea._meta.get_field("body_markdown").max_length)
    idea.title = (title or "").strip()
    idea.body_markdown = body_markdown or ""
    idea.body_html = markdown.render(idea.body_markdown)
    if not idea.body_markdown.strip():
        raise ValidationError({"body_markdown": "Say what you propose: the idea is empty."})
    idea.full_clean()


# --- Ideas ------------------------------------------------------------------------------------

@transaction.atomic
def idea_create(*, actor, title: str, body_markdown: str) -> Idea:
    _require(policy.can_submit_idea(actor))
    idea = Idea(author=actor)
    _set_text(idea, title, body_markdown)
    idea.save()
    audit_record(actor=actor, action="community.idea_created", target=idea)
    return idea


@transaction.atomic
def idea_update(*, actor, idea: Idea, title: str, body_markdown: str) -> Idea:
    _require(policy.can_view_idea(actor, idea) and idea.author_id == actor.pk)
    idea = _locked(idea)
    if not policy.can_edit_idea(actor, idea):
        # Staff took it up between opening the form and saving it.
        raise ValidationError("Staff have taken this idea up, so it can no longer be changed. "
                              "Add what you wanted to say as a comment.")
    _set_text(idea, title, body_markdown)
    idea.save()
    audit_record(actor=actor, action="community.idea_updated", target=idea)
    return idea


def _outcome_check(actor, status, outcome_event, outcome_resource, outcome_note) -> None:
    errors = {}
    if status != Status.ADOPTED and (outcome_event or outcome_resource or outcome_note):
        message = ("Only an adopted idea links to what came of it. Choose “Adopted”, or "
                   "leave this empty.")
        for name, value in (("outcome_event", outcome_event),
                            ("outcome_resource", outcome_resource),
                            ("outcome_note", outcome_note)):
            if value:
                errors[name] = message
    if outcome_event is not None and not policy.can_view_event(actor, outcome_event):
        errors["outcome_event"] = "Choose an event you can see."
    if outcome_resource is not None and not policy.can_view_resource(actor, outcome_resource):
        errors["outcome_resource"] = "Choose a library resource you can see."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def idea_status_set(*, actor, idea: Idea, status: str, reason: str = "", outcome_event=None,
                    outcome_resource=None, outcome_note: str = "") -> Idea:
    """Decide about an idea. Declining needs a reason; the outcome links belong to adopted
    ideas only. The author is told by mail when the status changes."""
    _require(policy.can_decide_idea(actor, idea))
    reason, outcome_note = (reason or "").strip(), (outcome_note or "").strip()
    _refuse_nul(status_reason=reason, outcome_note=outcome_note)
    _limit("status_reason", reason, Idea._meta.get_field("status_reason").max_length)
    if status not in Status.values:
        raise ValidationError({"status": "Choose one of the statuses offered."})
    if status == Status.DECLINED and not reason:
        raise ValidationError({"status_reason": "Say why the idea is declined: its author and "
                                                "every member will read the reason."})
    _outcome_check(actor, status, outcome_event, outcome_resource, outcome_note)
    idea = _locked(idea)
    before = (idea.status, idea.status_reason, idea.outcome_event_id,
              idea.outcome_resource_id, idea.outcome_note)
    after = (status, reason, getattr(outcome_event, "pk", None),
             getattr(outcome_resource, "pk", None), outcome_note)
    if before == after:
        raise ValidationError("Nothing changed: the idea already has this status and reason.")
    previous = idea.status
    idea.status, idea.status_reason = status, reason
    idea.outcome_event, idea.outcome_resource, idea.outcome_note = (
        outcome_event, outcome_resource, outcome_note)
    idea.status_changed_at, idea.status_changed_by = timezone.now(), actor
    idea.full_clean()
    idea.save()
    audit_record(actor=actor, action="community.idea_status_set", target=idea,
                 previous=previous, status=status, has_reason=bool(reason),
                 outcome_event=after[2], outcome_resource=after[3])
    if previous != status:
        _tell_author(idea, actor)
    return idea


def _tell_author(idea: Idea, actor) -> bool:
    author = idea.author
    if author is None or not author.is_active or author.pk == actor.pk or not author.email:
        return False
    body = render_to_string("community/ideas/status_email.txt", {
        "idea": idea, "url": settings.SITE_URL + idea.get_absolute_url()})
    email_queue(subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX
                + f"Your idea is now “{idea.get_status_display().lower()}”",
                body=body, to=[author.email], from_email=settings.DEFAULT_FROM_EMAIL)
    return True


# --- Support ----------------------------------------------------------------------------------

ALREADY = "You already support this idea. Each member supports an idea once."


def _sector_of(user) -> str:
    sector = Profile.objects.filter(user=user).values_list("sector", flat=True).first()
    return sector if sector in Sector.values else Sector.OTHER


@transaction.atomic
def idea_support(*, actor, idea: Idea) -> IdeaSupport:
    _require(policy.can_view_idea(actor, idea))
    idea = _locked(idea)
    if not policy.can_support_idea(actor, idea):
        raise ValidationError("This idea has been decided, so support is closed.")
    if IdeaSupport.objects.filter(idea=idea, user=actor).exists():
        raise ValidationError(ALREADY)
    try:
        # A second submit racing the first meets the unique constraint: same answer.
        with transaction.atomic():
            support = IdeaSupport.objects.create(idea=idea, user=actor,
                                                 sector=_sector_of(actor))
    except IntegrityError:
        raise ValidationError(ALREADY) from None
    return support


@transaction.atomic
def idea_support_withdraw(*, actor, idea: Idea) -> None:
    _require(policy.can_view_idea(actor, idea))
    idea = _locked(idea)
    if not policy.can_support_idea(actor, idea):
        raise ValidationError("This idea has been decided, so its support stays as it was.")
    deleted, _ = IdeaSupport.objects.filter(idea=idea, user=actor).delete()
    if not deleted:
        raise ValidationError("You do not support this idea, so there is nothing to withdraw.")


# --- Comments ---------------------------------------------------------------------------------

@transaction.atomic
def idea_comment_create(*, actor, idea: Idea, body_markdown: str) -> IdeaComment:
    _require(policy.can_comment_on_idea(actor, idea))
    _refuse_nul(body_markdown=body_markdown)
    _limit("body_markdown", body_markdown,
           IdeaComment._meta.get_field("body_markdown").max_length)
    if not (body_markdown or "").strip():
        raise ValidationError({"body_markdown": "Write something first: the comment is empty."})
    comment = IdeaComment(idea=idea, author=actor, body_markdown=body_markdown,
                          body_html=markdown.render(body_markdown))
    comment.full_clean()
    comment.save()
    return comment


@transaction.atomic
def idea_comment_delete(*, actor, comment: IdeaComment) -> None:
    """The author takes their own comment back: it is gone, not marked."""
    comment = IdeaComment.objects.select_for_update(of=("self",)).get(pk=comment.pk)
    _require(policy.can_delete_idea_comment(actor, comment))
    comment.delete()


@transaction.atomic
def idea_comment_remove(*, actor, comment: IdeaComment, reason: str) -> IdeaComment:
    """A moderator removes someone's comment; the reason stays where the comment was."""
    comment = IdeaComment.objects.select_for_update(of=("self",)).get(pk=comment.pk)
    if comment.removed_at is not None:
        raise ValidationError("This comment has already been removed.")
    _require(policy.can_remove_idea_comment(actor, comment))
    reason = (reason or "").strip()
    _refuse_nul(reason=reason)
    _limit("reason", reason, IdeaComment._meta.get_field("removed_reason").max_length)
    if not reason:
        raise ValidationError({"reason": "Give a reason: it is shown in the comment's place."})
    comment.removed_at, comment.removed_by, comment.removed_reason = (
        timezone.now(), actor, reason)
    comment.full_clean()
    comment.save(update_fields=["removed_at", "removed_by", "removed_reason"])
    audit_record(actor=actor, action="community.idea_comment_removed", target=comment,
                 idea=comment.idea_id)
    return comment
