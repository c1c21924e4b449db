"""Addresses of the research workspace: codebook, coding, memos, retrieval and analysis."""

from django.urls import path

from hub.research import coding_views as v

S = "studies/<slug:slug>/"

urlpatterns: list = [
    path(S + "codebook/", v.codebook_view, name="codebook"),
    path(S + "codebook/new/", v.code_new, name="code_new"),
    path(S + "codebook/starter/", v.codebook_starter, name="codebook_starter"),
    path(S + "codebook/colours.css", v.codes_css, name="codes_css"),
    path(S + "codebook/<int:pk>/", v.code_detail, name="code_detail"),
    path(S + "reveal/", v.study_reveal, name="study_reveal"),
    path(S + "sources/<int:pk>/code/", v.source_code, name="source_code"),
    path(S + "sources/<int:pk>/code/add/", v.coding_add, name="coding_add"),
    path(S + "sources/<int:pk>/codings.json", v.source_codings_json, name="source_codings_json"),
    path(S + "codings/<int:pk>/remove/", v.coding_remove, name="coding_remove"),
    path(S + "memos/new/", v.memo_new, name="memo_new"),
    path(S + "memos/<int:pk>/", v.memo_edit, name="memo_edit"),
    path(S + "memos/<int:pk>/delete/", v.memo_delete, name="memo_delete"),
    path(S + "retrieve/", v.retrieve, name="retrieve"),
    path(S + "retrieve/export.<slug:fmt>", v.retrieve_export, name="retrieve_export"),
    path(S + "analysis/", v.analysis_view, name="analysis"),
    path(S + "analysis/cooccurrence/", v.cooccurrence_view, name="cooccurrence"),
    path(S + "analysis/search/", v.study_search, name="analysis_search"),
]
