from functools import cache

from django.urls import reverse

from hub import policy

# Addresses every page's header and footer link to. They never change while the hub runs, so
# each process works them out once instead of on every page.
SITE_URLS = {
    "home": "core:home", "me": "members:me", "applications": "members:application_queue",
    "admin": "admin:index", "logout": "account_logout", "login": "account_login",
    "apply": "members:apply", "library": "library:home", "assessment": "assessment:home",
    "research": "core:research", "community": "community:home",
    "directory": "members:directory", "organisations": "members:organisation_list",
    "mfa_activate": "mfa_activate_totp", "your_data": "core:your_data",
    "subscribe": "community:subscribe",
}


@cache
def site_urls() -> dict[str, str]:
    return {key: reverse(name) for key, name in SITE_URLS.items()}


def hub(request):
    user = getattr(request, "user", None)
    return {
        "site_urls": site_urls(),
        "needs_mfa": policy.needs_mfa_enrolment(user) if user is not None else False,
        "is_hub_member": policy.is_member(user) if user is not None else False,
        "can_decide_applications": (policy.can_decide_any_application(user)
                                    if user is not None else False),
        "can_use_admin": policy.can_use_admin(user) if user is not None else False,
    }
