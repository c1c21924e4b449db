"""Addresses of the research workspace: coding."""

urlpatterns: list = []
