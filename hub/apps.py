from django.contrib.admin.apps import AdminConfig


class HubAdminConfig(AdminConfig):
    """Django's admin, behind the hub's policy: staff who have enrolled in two-step sign-in."""

    default_site = "hub.admin_site.HubAdminSite"
