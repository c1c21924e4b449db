from datetime import timedelta

from django.db import models, transaction
from django.utils import timezone
from django.utils.text import slugify

from hub.core.models import AuditEvent, OutgoingEmail


def audit_record(
    *, actor, action: str, target: models.Model | None = None, organisation=None,
    outcome: str = AuditEvent.Outcome.OK, **context,
) -> AuditEvent:
    """Append one event to the audit trail. Pass identifiers in ``context``, never content."""
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=str(target)[:200] if target is not None else "",
        organisation=organisation,
        outcome=outcome,
        context=context,
    )


def unique_slug(model: type[models.Model], title: str, *, reserved=frozenset()) -> str:
    """A free address for a new object of ``model``: the title as a slug, numbered when taken.

    A slug that is one of the ``reserved`` words of the app's addresses ("new", "feed", ...)
    gets the model's name after it, so no object can hide a page.
    """
    kind = model._meta.model_name
    base = slugify(title)[:60].strip("-") or kind
    if base in reserved:
        base = f"{base}-{kind}"
    slug, n = base, 1
    while model._default_manager.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def email_queue(*, subject: str, body: str, to: list[str], from_email: str = "",
                html: str = "", attachments: list[dict] | None = None,
                headers: dict[str, str] | None = None) -> OutgoingEmail:
    """Queue a message; the task worker sends it once the current transaction commits.

    ``attachments`` are small text files, each ``{"filename", "content", "mimetype"}``.
    """
    from hub.core.tasks import email_send

    attachments = [{"filename": str(item["filename"]), "content": str(item["content"]),
                    "mimetype": str(item.get("mimetype") or "text/plain")}
                   for item in attachments or []]
    email = OutgoingEmail.objects.create(subject=subject, body=body, to=to,
                                         from_email=from_email or "", html=html or "",
                                         attachments=attachments, headers=headers or {})
    transaction.on_commit(lambda: email_send.enqueue(email_id=email.pk))
    return email


def tasks_requeue_stale(*, older_than: timedelta) -> int:
    """Hand back to the queue every task still marked running ``older_than`` after it started:
    its worker died mid-way (django_tasks_db never takes such a task back by itself). The task
    runs again from the start, so tasks must be safe to repeat."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    stale = DBTaskResult.objects.running().filter(started_at__lt=timezone.now() - older_than)
    count = stale.update(status=TaskResultStatus.READY)
    if count:
        audit_record(actor=None, action="tasks.requeued", count=count)
    return count
