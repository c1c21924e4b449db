from django.db import models

from hub.core.models import AuditEvent


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
