from functools import cache

from django.conf import settings
from django.template.loader import render_to_string
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
# The main menu's sections, each with the addresses under it: a section is the current one for
# every page whose path starts with its prefix (home and the directory only on their own pages).
NAV_PREFIXES = ("library", "assessment", "research", "community")
NAV_EXACT = {"home": ("home",), "directory": ("directory", "organisations")}


@cache
def site_urls() -> dict[str, str]:
    return {key: reverse(name) for key, name in SITE_URLS.items()}


def nav_section(path: str) -> str:
    """The main menu item a page belongs to, or "" for a page outside them all. The menu is
    rendered once per section and kept, so this must name few distinct values."""
    urls = site_urls()
    for section in NAV_PREFIXES:
        if path.startswith(urls[section]):
            return section
    for section, keys in NAV_EXACT.items():
        if any(path == urls[key] for key in keys):
            return section
    return ""


@cache
def _site_part(name: str, section: str = "") -> str:
    return render_to_string(f"_site_{name}.html",
                            {"site_urls": site_urls(), "nav_section": section})


def site_part(name: str, section: str = "") -> str:
    """The head's links, the main menu (one per section) or the footer: the same for everyone,
    so each process renders each once and keeps it, which spares every page rendering them.
    With DEBUG on they are rendered afresh, so edits to them show at once."""
    return (_site_part.__wrapped__ if settings.DEBUG else _site_part)(name, section)


def hub(request):
    # The policy's answers are left for the template to ask for: templates call what they are
    # given, so a page (or an htmx fragment) that shows none of them makes no query for them.
    user = getattr(request, "user", None)

    def ask(predicate):
        return (lambda: predicate(user)) if user is not None else False

    section = nav_section(request.path)
    return {
        "site_urls": site_urls(),
        "site_head": site_part("head"),
        "site_nav": site_part("nav", section),
        "site_footer": site_part("footer"),
        "needs_mfa": ask(policy.needs_mfa_enrolment),
        "is_hub_member": ask(policy.is_member),
        "can_decide_applications": ask(policy.can_decide_any_application),
        "can_use_admin": ask(policy.can_use_admin),
    }
