from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "hub.community"
    label = "community"
    verbose_name = "Community and networking"

    def ready(self):
        # Registers the weekly digest and the funding reminder sweep with the recurring tasks
        # that `serve` keeps scheduled.
        from hub.community import caching, mailing, stories  # noqa: F401

        caching.connect()
