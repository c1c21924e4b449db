from django.contrib import admin

from hub.admin_site import PolicyAdminMixin, ReadOnlyAdminMixin
from hub.library.models import Audience, Resource, Theme


@admin.register(Resource)
class ResourceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Staff see the catalogue here; curation, files and access happen on the library's own
    pages, where each step is checked and logged. File contents are never shown here."""

    list_display = ["title", "organisation", "type", "status", "metadata_tier", "file_tier",
                    "published_at"]
    list_filter = ["status", "type", "metadata_tier", "file_tier", "organisation"]
    search_fields = ["title"]
    fields = ["title", "organisation", "contributor", "type", "year", "language", "country",
              "status", "metadata_tier", "file_tier", "submitted_at", "published_at",
              "return_reason"]


@admin.register(Theme)
class ThemeAdmin(PolicyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "is_aspect", "position"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Audience)
class AudienceAdmin(PolicyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    prepopulated_fields = {"slug": ["name"]}
