"""Staff see events here. They are changed only through the hub's own pages, so capacity and
the waiting list keep their rules and every change its audit record. Registrations are not
shown: who registered, and their accessibility needs, are for the event's organisers."""

from django.contrib import admin

from hub.admin_site import ReadOnlyAdminMixin
from hub.community.models import AgendaItem, Event


class AgendaItemInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = AgendaItem
    extra = 0


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["title", "starts_at", "format", "status", "audience", "organisation"]
    list_filter = ["status", "format", "audience"]
    search_fields = ["title"]
    inlines = [AgendaItemInline]
    exclude = ["organisers", "resources"]
