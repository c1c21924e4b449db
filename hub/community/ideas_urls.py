"""Addresses of the ideas board."""

urlpatterns: list = []
