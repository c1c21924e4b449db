from django.contrib import admin

from hub import policy
from hub.admin_site import PolicyAdminMixin
from hub.core.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(PolicyAdminMixin, admin.ModelAdmin):
    """Read-only: the audit trail is appended to by the hub and changed by nobody."""

    list_display = ["created", "actor", "action", "target_label", "organisation", "outcome"]
    list_filter = ["action", "outcome"]
    search_fields = ["action", "target_label"]

    def get_queryset(self, request):
        return policy.visible_audit_events(request.user, super().get_queryset(request))

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
