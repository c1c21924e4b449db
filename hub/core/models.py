from django.conf import settings
from django.db import models


class TimeStampedModel(models.Model):
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete an audit event."""


class AuditEvent(models.Model):
    """One thing someone did that others may need to account for later.

    Append-only: it records who, what, to which object, with what outcome and when, and a
    little context, never the content itself.
    """

    class Outcome(models.TextChoices):
        OK = "ok", "Done"
        DENIED = "denied", "Refused"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(max_length=80, db_index=True)
    target_type = models.CharField(max_length=80, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    organisation = models.ForeignKey(
        "members.Organisation", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="audit_events",
        help_text="The organisation this event concerns, whose admins may read it.",
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.OK)
    context = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self):
        return f"{self.created:%Y-%m-%d %H:%M} {self.action} {self.target_label}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events cannot be deleted.")


class OutgoingEmail(models.Model):
    """A message waiting for the task worker. Deleted once sent (or given up on), so
    confirmation and reset links do not linger in the task queue's records."""

    MAX_ATTEMPTS = 6

    subject = models.CharField(max_length=300)
    body = models.TextField()
    html = models.TextField(blank=True)
    to = models.JSONField()
    from_email = models.CharField(max_length=254, blank=True)
    # Small text attachments (a calendar invitation): [{"filename", "content", "mimetype"}].
    attachments = models.JSONField(default=list, blank=True)
    # Extra headers, such as a mailing list's List-Unsubscribe.
    headers = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.subject
