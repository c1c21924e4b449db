from django.urls import path

from hub.library import views, views_metadata

app_name = "library"

urlpatterns = [
    path("", views.home, name="home"),
    path("contribute/", views.contribute, name="contribute"),
    path("mine/", views.mine, name="mine"),
    path("curation/", views.curation, name="curation"),
    path("requests/", views.inbox, name="inbox"),
    path("requests/mine/", views.my_requests, name="my_requests"),
    path("requests/<int:request_pk>/decide/", views.decide, name="decide"),
    path("requests/<int:request_pk>/withdraw/", views.request_withdraw, name="withdraw"),
    path("log/", views.access_log, name="access_log"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/files/add/", views.file_add, name="file_add"),
    path("<int:pk>/files/status/", views.file_status, name="file_status"),
    path("<int:pk>/files/<int:file_pk>/", views.file_action, name="file_action"),
    path("<int:pk>/files/<int:file_pk>/download/", views.download, name="download"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/curate/", views.curate, name="curate"),
    path("<int:pk>/request/", views.request_access, name="request"),
    path("<int:pk>/access/", views.access, name="access"),
    path("<int:pk>/cite.<str:fmt>", views_metadata.cite, name="cite"),
    path("export.<str:fmt>", views_metadata.export, name="export"),
    path("feed/", views_metadata.NewPublicResources(), name="feed"),
    path("oai", views_metadata.oai, name="oai"),
    path("<int:pk>/access/grants/<int:grant_pk>/revoke/", views.grant_revoke,
         name="grant_revoke"),
]
