from django.urls import path

from hub.assessment import views

app_name = "assessment"

urlpatterns = [
    path("", views.home, name="home"),
    path("instrument/", views.instrument, name="instrument"),
    path("instrument/v<int:version>/", views.instrument, name="instrument_version"),
    path("instrument/publish/", views.instrument_publish, name="instrument_publish"),
    path("initiatives/new/", views.initiative_new, name="initiative_new"),
    path("initiatives/<int:pk>/", views.initiative_detail, name="initiative"),
    path("initiatives/<int:pk>/edit/", views.initiative_edit, name="initiative_edit"),
    path("initiatives/<int:pk>/facilitators/", views.facilitator_add, name="facilitator_add"),
    path("initiatives/<int:pk>/facilitators/<int:user_pk>/remove/", views.facilitator_remove,
         name="facilitator_remove"),
    path("initiatives/<int:pk>/context/", views.context_add, name="context_add"),
    path("initiatives/<int:pk>/context/<int:event_pk>/delete/", views.context_delete,
         name="context_delete"),
    path("initiatives/<int:pk>/rounds/new/", views.round_new, name="round_new"),
    path("initiatives/<int:pk>/report/", views.report, name="report"),
    path("initiatives/<int:pk>/report.csv", views.report_csv, name="report_csv"),
    path("initiatives/<int:pk>/report.pdf", views.report_pdf, name="report_pdf"),
    path("compare/", views.compare, name="compare"),
    path("compare.csv", views.compare_csv, name="compare_csv"),
    path("rounds/<int:pk>/", views.round_manage, name="round"),
    path("rounds/<int:pk>/invite/", views.round_invite, name="round_invite"),
    path("rounds/<int:pk>/links/", views.round_links, name="round_links"),
    path("rounds/<int:pk>/links/withdraw/", views.round_links_withdraw,
         name="round_links_withdraw"),
    path("rounds/<int:pk>/remind/", views.round_remind, name="round_remind"),
    path("rounds/<int:pk>/close/", views.round_close, name="round_close"),
    path("rounds/<int:pk>/respond/", views.respond, name="respond"),
    path("rounds/<int:pk>/respond/<int:step>/", views.answer, name="answer"),
    path("r/<str:token>/", views.link_open, name="link"),
    path("a/<str:key>/<int:step>/", views.answer_key, name="answer_key"),
    path("programmes/new/", views.programme_new, name="programme_new"),
    path("programmes/<int:pk>/", views.programme_detail, name="programme"),
    path("programmes/<int:pk>/edit/", views.programme_edit, name="programme_edit"),
    path("programmes/<int:pk>/export.csv", views.programme_csv, name="programme_csv"),
]
