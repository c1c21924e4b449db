"""Staff see events here. They are changed only through the hub's own pages, so capacity and
the waiting list keep their rules and every change its audit record. Registrations are not
shown: who registered, and their accessibility needs, are for the event's organisers."""

from django.contrib import admin

from hub.admin_site import ReadOnlyAdminMixin
from hub.community.models import (
    AgendaItem,
    Consultation,
    Event,
    FundingOpportunity,
    Idea,
    IdentityReveal,
    Space,
    Story,
)


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


# Ideas, stories, funding and consultations are shown for oversight; they change through the
# hub's pages. Consultation responses are left out (their authors chose who sees their names),
# and so are concerns: a private concern is for its author and the organisation alone.

@admin.register(Idea)
class IdeaAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["title", "status", "created", "status_changed_at"]
    list_filter = ["status"]
    search_fields = ["title"]
    exclude = ["author", "status_changed_by", "body_html"]


@admin.register(Story)
class StoryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["title", "organisation", "status", "published_at"]
    list_filter = ["status"]
    search_fields = ["title"]
    exclude = ["author"]


@admin.register(FundingOpportunity)
class FundingOpportunityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["title", "funder", "deadline", "status"]
    list_filter = ["status"]
    search_fields = ["title", "funder"]
    exclude = ["created_by"]


@admin.register(Consultation)
class ConsultationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["title", "organisation", "audience", "status", "closes_at"]
    list_filter = ["status", "audience"]
    search_fields = ["title"]
    exclude = ["created_by", "body_html"]
