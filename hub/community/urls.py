from django.urls import path

from hub.community import mailing_views, views

app_name = "community"

urlpatterns = [
    path("", views.home, name="home"),
    path("events/new/", views.event_new, name="event_new"),
    path("events/mine/", views.my_events, name="my_events"),
    path("events/<slug:slug>/", views.event_detail, name="event_detail"),
    path("events/<slug:slug>/edit/", views.event_edit, name="event_edit"),
    path("events/<slug:slug>/register/", views.register, name="register"),
    path("events/<slug:slug>/cancel-registration/", views.registration_cancel,
         name="registration_cancel"),
    path("events/<slug:slug>/registrations/", views.event_registrations,
         name="event_registrations"),
    path("events/<slug:slug>/cancel/", views.event_cancel, name="event_cancel"),
    path("events/<slug:slug>/follow-up/", views.event_followup, name="event_followup"),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("news-by-email/", mailing_views.subscribe, name="subscribe"),
    path("news-by-email/confirm/<str:token>/", mailing_views.subscription_confirm,
         name="subscription_confirm"),
    path("news-by-email/leave/<str:token>/", mailing_views.unsubscribe, name="unsubscribe"),
]
