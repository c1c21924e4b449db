from django.urls import path

from hub.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("your-data/", views.your_data, name="your_data"),
    path("research/", views.research, name="research"),
    path("healthz", views.healthz, name="healthz"),
    path("ping", views.ping, name="ping"),
]
