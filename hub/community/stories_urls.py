"""Addresses of success stories and funding opportunities."""

urlpatterns: list = []
