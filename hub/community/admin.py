"""Staff see events here. They are changed only through the hub's own pages, so capacity and
the waiting list keep their rules and every change its audit record. Registrations are not
shown: who registered, and their accessibility needs, are for the event's organisers."""

from django.contrib import admin

from hub.admin_site import ReadOnlyAdminMixin
from hub.community.models import AgendaItem, Event, IdentityReveal, Space


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


# Discussion spaces: staff see the spaces and the record of identity reveals. Posts and
# memberships are left out on purpose: an admin page listing them would link people to their
# pseudonyms without the recorded reason that a reveal needs.

@admin.register(Space)
class SpaceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "visibility", "chatham_house", "pseudonymous", "flag_threshold",
                    "organisation", "created"]
    list_filter = ["visibility", "chatham_house", "pseudonymous"]
    search_fields = ["name"]
    exclude = ["created_by"]


@admin.register(IdentityReveal)
class IdentityRevealAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created", "space", "revealed_by", "reason"]
    exclude = ["membership", "post"]
