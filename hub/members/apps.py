from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "hub.members"
    label = "members"
    verbose_name = "Members and organisations"

    def ready(self):
        # Signed-in people are kept per web process until their account, memberships,
        # organisations or two-step devices change (hub/members/caching.py).
        from hub.members import caching

        caching.connect()
