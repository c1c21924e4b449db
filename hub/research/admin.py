"""Staff see that studies exist here, and nothing of their content.

A study's participants, sources, codings and memos belong to its team; hub staff have no way
in of their own (see the research section of ``hub.policy``). So only the listed studies
(those every member may see) appear, with their title, status and listing, read only; an
unlisted study is not shown at all, and the other models are not registered.
"""

from django.contrib import admin

from hub.admin_site import ReadOnlyAdminMixin
from hub.research.models import Study


@admin.register(Study)
class StudyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["title", "status", "listed", "created"]
    list_filter = ["status", "listed"]
    search_fields = ["title"]
    fields = ["title", "status", "listed", "created"]
    readonly_fields = ["created"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(listed=True)
