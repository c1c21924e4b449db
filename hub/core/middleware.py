import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.utils.cache import add_never_cache_headers, patch_cache_control

from hub import policy

SIGNED_IN_AT = "hub_signed_in_at"
LAST_SEEN_AT = "hub_last_seen_at"


class SessionLimitsMiddleware:
    """Sign people out after a fixed time however active they are, and sooner when idle if
    they hold powers.

    Django's session age restarts whenever the session changes; these limits do not.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            session = request.session
            signed_in_at = session.setdefault(SIGNED_IN_AT, now)
            last_seen_at = session.get(LAST_SEEN_AT, now)
            idle_limit = (settings.HUB_SESSION_IDLE_POWERS if policy.holds_powers(user)
                          else settings.HUB_SESSION_IDLE)
            if (now - signed_in_at > settings.HUB_SESSION_MAX_AGE
                    or now - last_seen_at > idle_limit):
                logout(request)
                messages.info(request, "You were signed out to keep your account safe. "
                                       "Please sign in again.")
                return redirect_to_login(request.get_full_path())
            # Only write the session when a minute has passed, to spare the database.
            if now - last_seen_at > 60 or LAST_SEEN_AT not in session:
                session[LAST_SEEN_AT] = now
        return self.get_response(request)


class PrivateCacheMiddleware:
    """Pages made for a signed-in person are never stored by browsers or proxies."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header(
                "Cache-Control"):
            add_never_cache_headers(response)
            patch_cache_control(response, private=True)
        return response


class CspBaselineMiddleware:
    """Every content security policy the hub sends forbids framing and <base>.

    django-csp writes the site's policy, but leaves alone one that a view wrote itself (file
    downloads send ``default-src 'none'; sandbox``). Those two directives do not fall back to
    default-src, so they are added to such a policy, which otherwise stays as the view wrote it.
    """

    BASELINE = {"base-uri": "'none'", "frame-ancestors": "'none'"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy_ = response.get("Content-Security-Policy")
        if policy_:
            present = {part.split()[0].lower() for part in policy_.split(";") if part.strip()}
            missing = [f"{name} {value}" for name, value in self.BASELINE.items()
                       if name not in present]
            if missing:
                response["Content-Security-Policy"] = "; ".join(
                    [policy_.rstrip("; "), *missing])
        return response
