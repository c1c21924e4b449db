from django.apps import AppConfig


class LibraryConfig(AppConfig):
    name = "hub.library"
    label = "library"
    verbose_name = "Resource library"

    def ready(self):
        # Shared copies of rendered search results follow every change to what a search can
        # find, or to who may see it (hub/library/caching.py).
        from hub.library import caching

        caching.connect()
