from django.contrib import admin, messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from hub import policy


class HubAdminSite(admin.AdminSite):
    """The admin answers only to staff who have enrolled in two-step sign-in."""

    site_header = "Engagement Hub administration"
    site_title = "Engagement Hub admin"
    index_title = "Administration"

    def has_permission(self, request):
        return policy.can_use_admin(request.user)

    def login(self, request, extra_context=None):
        user = request.user
        if not user.is_authenticated:
            query = urlencode({"next": request.GET.get("next", reverse("admin:index"))})
            return redirect(f"{reverse('account_login')}?{query}")
        if user.is_staff and policy.needs_mfa_enrolment(user):
            messages.warning(request, "Set up two-step sign-in before you use the admin.")
            return redirect("mfa_index")
        if self.has_permission(request):
            return redirect("admin:index")
        # Everyone else finds nothing here, as with any other page they may not see.
        raise Http404


class PolicyAdminMixin:
    """The hub's models answer to the policy in the admin, not to Django's per-model
    permissions: whoever may use the admin may view, add and change them."""

    def has_module_permission(self, request):
        return policy.can_use_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return policy.can_use_admin(request.user)

    def has_add_permission(self, request, *args):
        return policy.can_use_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return policy.can_use_admin(request.user)

    def has_delete_permission(self, request, obj=None):
        # Nothing of the hub's is deleted from the admin: accounts are deactivated, and
        # deleting an organisation would cut its audit trail loose.
        return False


class ReadOnlyAdminMixin(PolicyAdminMixin):
    """Shown in the admin, changed only through the hub's own pages and services, so every
    change keeps its checks and its audit record."""

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False
