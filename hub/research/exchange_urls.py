"""Addresses of the research workspace: exchange with other tools (REFI-QDA)."""

from django.urls import path

from hub.research import exchange_views

urlpatterns = [
    path("import-project/", exchange_views.project_import, name="project_import"),
    path("studies/<slug:slug>/exchange/", exchange_views.exchange_page, name="exchange"),
    path("studies/<slug:slug>/exchange/project.qdpx", exchange_views.project_export,
         name="project_export"),
    path("studies/<slug:slug>/exchange/codebook.qdc", exchange_views.codebook_export,
         name="codebook_export"),
    path("studies/<slug:slug>/exchange/codebook/", exchange_views.codebook_import,
         name="codebook_import"),
]
