"""Addresses of consultations and concerns."""

from django.urls import path

from hub.community import consult_views as views

urlpatterns: list = [
    path("consultations/", views.consultation_list, name="consultation_list"),
    path("consultations/new/", views.consultation_new, name="consultation_new"),
    path("consultations/<slug:slug>/", views.consultation_detail, name="consultation_detail"),
    path("consultations/<slug:slug>/edit/", views.consultation_edit, name="consultation_edit"),
    path("consultations/<slug:slug>/withdraw/", views.consultation_withdraw,
         name="consultation_withdraw"),
    path("consultations/<slug:slug>/respond/", views.consultation_respond,
         name="consultation_respond"),
    path("consultations/<slug:slug>/outcome/", views.consultation_outcome,
         name="consultation_outcome"),
    path("consultations/<slug:slug>/answers.csv", views.consultation_export,
         name="consultation_export"),
    path("concerns/", views.concern_list, name="concern_list"),
    path("concerns/new/", views.concern_new, name="concern_new"),
    path("concerns/<int:pk>/", views.concern_detail, name="concern_detail"),
    path("concerns/<int:pk>/reply/", views.concern_reply, name="concern_reply"),
    path("concerns/<int:pk>/close/", views.concern_close, name="concern_close"),
    path("concerns/<int:pk>/remove/", views.concern_remove, name="concern_remove"),
]
