from django.apps import AppConfig


class ResearchConfig(AppConfig):
    name = "hub.research"
    label = "research"
    verbose_name = "Research workspace"
