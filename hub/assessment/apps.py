from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    name = "hub.assessment"
    label = "assessment"
    verbose_name = "Engagement assessment"
