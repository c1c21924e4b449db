from django.urls import path

from hub.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("your-data/", views.your_data, name="your_data"),
    path("research/", views.coming_soon, {"area": "research"}, name="research"),
    path("community/", views.coming_soon, {"area": "community"}, name="community"),
    path("healthz", views.healthz, name="healthz"),
]
