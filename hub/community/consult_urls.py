"""Addresses of consultations and concerns."""

urlpatterns: list = []
