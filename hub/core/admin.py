from django.contrib import admin

from hub import policy
from hub.admin_site import ReadOnlyAdminMixin
from hub.core.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: the audit trail is appended to by the hub and changed by nobody."""

    list_display = ["created", "actor", "action", "target_label", "organisation", "outcome"]
    list_filter = ["action", "outcome"]
    search_fields = ["action", "target_label"]

    def get_queryset(self, request):
        return policy.visible_audit_events(request.user, super().get_queryset(request))
