"""Staff look after initiatives, programmes and rounds here. Single responses and answers are
deliberately not registered: nobody, staff included, reads one person's answers."""

from django.contrib import admin

from hub.admin_site import PolicyAdminMixin, ReadOnlyAdminMixin
from hub.assessment.models import ContextEvent, Initiative, Instrument, Programme, Round


@admin.register(Instrument)
class InstrumentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Published from the hub's own page, where it is checked."""

    list_display = ["version", "title", "published_at"]


class ContextEventInline(PolicyAdminMixin, admin.TabularInline):
    model = ContextEvent
    extra = 0
    fields = ["happened_on", "kind", "title"]


@admin.register(Initiative)
class InitiativeAdmin(PolicyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "area", "country", "lead_organisation", "audience"]
    list_filter = ["kind", "audience", "country"]
    search_fields = ["name", "area"]
    filter_horizontal = ["partner_organisations", "facilitators"]
    inlines = [ContextEventInline]


@admin.register(Programme)
class ProgrammeAdmin(PolicyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "area", "organisation", "audience"]
    filter_horizontal = ["initiatives"]


@admin.register(Round)
class RoundAdmin(PolicyAdminMixin, admin.ModelAdmin):
    list_display = ["title", "initiative", "opens_at", "closes_at", "instrument"]
    # The stored summary was worked out with the round's minimum group size: it is set once.
    readonly_fields = ["instrument", "reminded_at", "min_group"]
    exclude = ["tally", "summary"]
