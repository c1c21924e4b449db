from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "hub.members"
    label = "members"
    verbose_name = "Members and organisations"
