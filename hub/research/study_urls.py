"""Addresses of the research workspace: study."""

urlpatterns: list = []
