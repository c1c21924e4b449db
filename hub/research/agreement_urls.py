"""Addresses of the research workspace: agreement between coders, and one coded passage as
evidence can cite it."""

from django.urls import path

from hub.research import agreement_views, evidence_views

urlpatterns = [
    path("studies/<slug:slug>/segments/<int:pk>/", evidence_views.segment, name="segment"),
    path("studies/<slug:slug>/agreement/", agreement_views.agreement_page, name="agreement"),
    path("studies/<slug:slug>/agreement/<int:code_id>/", agreement_views.disagreements_page,
         name="disagreements"),
]
