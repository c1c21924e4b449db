from django.urls import path

from hub.members import views

app_name = "members"

urlpatterns = [
    path("accounts/signup/", views.apply, name="apply"),
    path("invitations/<str:token>/", views.invitation_open, name="invitation_open"),
    path("members/me/", views.me, name="me"),
    path("members/me/edit/", views.profile_edit, name="profile_edit"),
    path("members/me/data/", views.personal_data, name="personal_data"),
    path("members/me/data/export/", views.personal_data_export, name="personal_data_export"),
    path("members/me/data/erase/", views.personal_data_erase, name="personal_data_erase"),
    path("members/<int:pk>/", views.profile_detail, name="profile_detail"),
    path("directory/", views.directory, name="directory"),
    path("organisations/", views.organisation_list, name="organisation_list"),
    path("organisations/<slug:slug>/", views.organisation_detail, name="organisation_detail"),
    path("organisations/<slug:slug>/edit/", views.organisation_edit, name="organisation_edit"),
    path("organisations/<slug:slug>/leave/", views.membership_leave, name="membership_leave"),
    path("organisations/<slug:slug>/manage/", views.organisation_manage,
         name="organisation_manage"),
    path("organisations/<slug:slug>/manage/members/<int:pk>/role/", views.membership_role,
         name="membership_role"),
    path("organisations/<slug:slug>/manage/members/<int:pk>/remove/", views.membership_remove,
         name="membership_remove"),
    path("organisations/<slug:slug>/manage/invitations/<int:pk>/revoke/",
         views.invitation_revoke, name="invitation_revoke"),
    path("applications/", views.application_queue, name="application_queue"),
    path("applications/<int:pk>/decide/", views.application_decide, name="application_decide"),
    path("applications/<int:pk>/decline/", views.application_decline_form,
         name="application_decline"),
]
