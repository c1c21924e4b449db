"""Every address refuses a state-changing request that carries no CSRF token.

A staff member with two-step sign-in (who may reach the most views) sends POST, PUT, PATCH and
DELETE without a token to every URL pattern, with dummy arguments. Each must be refused by the
CSRF check itself (403 with the hub's CSRF page), not by whatever the view would have said.
"""

import pytest
from django.conf import settings
from django.test import Client

from tests.test_url_inventory import reachable_routes

METHODS = ("post", "put", "patch", "delete")

# Views that are csrf_exempt on purpose, each with its reason. Nothing else may be.
ALLOWLIST = {
    # OAI-PMH harvesters may POST their requests (the protocol allows it) without a session;
    # the endpoint only reads public metadata and changes nothing.
    "library:oai": "OAI-PMH accepts POST by protocol and changes no state",
    # RFC 8058 one-click leaving: mail programs POST to the link in the List-Unsubscribe
    # header with no session; the signed token in the address is what authorises it.
    "community:unsubscribe": "mail programs' one-click unsubscribe POST carries no token",
}


@pytest.fixture
def staff_client(staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    return client


def _csrf_refused(response) -> bool:
    return response.status_code == 403 and any(
        t.name == "errors/csrf.html" for t in response.templates)


@pytest.mark.django_db
def test_every_unsafe_request_without_token_is_refused(staff_client):
    """POST, PUT, PATCH and DELETE without a token meet the CSRF refusal on every address
    outside the allowlist."""
    sent, wrong = 0, []
    for route in reachable_routes():
        if route.name in ALLOWLIST:
            continue
        for method in METHODS:
            response = getattr(staff_client, method)(route.path)
            sent += 1
            if not _csrf_refused(response):
                wrong.append(f"{method.upper()} {route}: {response.status_code}")
    print(f"{sent} requests without a token")
    assert not wrong, "Accepted without a CSRF token:\n" + "\n".join(wrong)


@pytest.mark.django_db
def test_allowlisted_views_are_really_exempt(staff_client):
    """The allowlist holds only views that are exempt, so it cannot hide a stale entry."""
    by_name = {route.name: route for route in reachable_routes()}
    for name in ALLOWLIST:
        response = staff_client.post(by_name[name].path, {"verb": "Identify"})
        assert not _csrf_refused(response), name
        # The dummy arguments reach the view itself: OAI-PMH answers, a made-up leaving link
        # is refused as invalid.
        assert response.status_code in (200, 404), name


@pytest.mark.django_db
def test_token_lets_the_request_through(staff_client):
    """With the token from a page's form the same client gets past the check, so the refusals
    above come from the missing token and not from the client."""
    staff_client.get("/")
    token = staff_client.cookies[settings.CSRF_COOKIE_NAME].value
    response = staff_client.post("/accounts/logout/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
