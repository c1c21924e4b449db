from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "hub.core"
    label = "core"
    verbose_name = "Core"

    def ready(self):
        from hub.core import checks  # noqa: F401  (registers the hub's system checks)
