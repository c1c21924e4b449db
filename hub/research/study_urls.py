"""Addresses of the research workspace: studies, teams, participants, names and sources."""

from django.urls import path

from hub.research import study_views as v

S = "studies/<slug:slug>/"

urlpatterns: list = [
    path("studies/", v.study_list, name="study_list"),
    path("studies/new/", v.study_new, name="study_new"),
    path(S, v.study_detail, name="study_detail"),
    path(S + "settings/", v.study_edit, name="study_edit"),
    path(S + "archive/", v.study_archive, name="study_archive"),
    path(S + "log/", v.study_log, name="study_log"),
    path(S + "team/", v.team, name="team"),
    path(S + "team/<int:pk>/role/", v.team_change, name="team_change"),
    path(S + "team/<int:pk>/remove/", v.team_remove, name="team_remove"),
    path(S + "participants/", v.participant_list, name="participant_list"),
    path(S + "participants/new/", v.participant_new, name="participant_new"),
    path(S + "participants/<int:pk>/edit/", v.participant_edit, name="participant_edit"),
    path(S + "participants/<int:pk>/remove/", v.participant_delete, name="participant_delete"),
    path(S + "names/", v.registry, name="registry"),
    path(S + "sources/", v.source_list, name="source_list"),
    path(S + "sources/import/", v.source_import, name="source_import"),
    path(S + "sources/import/review/", v.source_review, name="source_review"),
    path(S + "sources/<int:pk>/", v.source_detail, name="source_detail"),
    path(S + "sources/<int:pk>/edit/", v.source_edit, name="source_edit"),
    path(S + "sources/<int:pk>/delete/", v.source_delete, name="source_delete"),
]
