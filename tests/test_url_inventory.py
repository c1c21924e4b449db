"""Every URL pattern is classed in the policy, and none but the public ones answers a visitor.

The walk also serves the CSRF and security-header tests: ``all_routes()`` gives each pattern
with an example address built from dummy arguments (999999 for numbers, "x" for text, a fresh
UUID for UUIDs), so those tests reach every pattern as well.
"""

import re
import uuid
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.converters import IntConverter, UUIDConverter
from django.urls.resolvers import RegexPattern, RoutePattern

from hub import policy

DUMMY_INT = "999999"
DUMMY_STR = "x"


@dataclass(frozen=True)
class Route:
    name: str  # namespaced name; an unnamed pattern is "<namespace>:" (or "" at the top)
    route: str  # the pattern as written, prefixes included
    path: str  # an address that reaches it, with dummy arguments
    answered_by: str  # the name of the pattern that answers that address

    @property
    def shadowed(self) -> bool:
        """Another pattern comes first for the same address, so this one is never reached."""
        return self.answered_by != self.name

    @property
    def url_class(self) -> str | None:
        return policy.url_class(self.name)

    def __str__(self) -> str:
        return f"{self.name or '(unnamed)'} /{self.route}"


def _dummy(converter) -> str:
    if isinstance(converter, IntConverter):
        return DUMMY_INT
    if isinstance(converter, UUIDConverter):
        return str(uuid.uuid4())
    return DUMMY_STR


def _route_example(pattern: RoutePattern) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>",
                  lambda m: _dummy(pattern.converters[m.group(1)]), str(pattern._route))


def _group_example(body: str) -> str:
    """A value for one named group of a regular expression: its first alternative when it
    lists words (admin's app labels), a number when it wants digits, "x" otherwise."""
    if re.fullmatch(r"\w+(\|\w+)*", body):
        return body.split("|")[0]
    if body in (r"\d+", "[0-9]+"):
        return DUMMY_INT
    return DUMMY_STR


def _regex_example(pattern: RegexPattern) -> str:
    regex = str(pattern._regex).removeprefix("^").removesuffix("$").removesuffix(r"\Z")
    out, i = [], 0
    while i < len(regex):
        if regex.startswith("(?P<", i):
            start = regex.index(">", i) + 1
            depth, j = 1, start
            while depth:
                depth += {"(": 1, ")": -1}.get(regex[j], 0) if regex[j - 1] != "\\" else 0
                j += 1
            out.append(_group_example(regex[start:j - 1]))
            i = j
        elif regex[i] == "\\":
            out.append(regex[i + 1])
            i += 2
        else:
            out.append(regex[i])
            i += 1
    return "".join(out)


def _example(pattern) -> str:
    if isinstance(pattern, RoutePattern):
        return _route_example(pattern)
    return _regex_example(pattern)


def _walk(resolver: URLResolver, route: str, path: str, namespace: str):
    for entry in resolver.url_patterns:
        text, example = route + str(entry.pattern), path + _example(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry, text, example, inner)
        else:
            assert isinstance(entry, URLPattern)
            if entry.name:
                name = f"{namespace}:{entry.name}" if namespace else entry.name
            else:
                name = f"{namespace}:" if namespace else ""
            yield name, text, "/" + example


def all_routes() -> list[Route]:
    """Every pattern the hub's resolver knows, in resolution order."""
    routes = []
    for name, text, path in _walk(get_resolver(), "", "", ""):
        match = resolve(path)
        answered = match.view_name if match.url_name else (
            f"{match.namespace}:" if match.namespace else "")
        routes.append(Route(name, text, path, answered))
    return routes


def reachable_routes() -> list[Route]:
    """One route per address: those that some request can reach."""
    return [r for r in all_routes() if not r.shadowed]


def test_every_url_pattern_is_classed():
    """Each pattern the resolver knows has a class in policy.URL_CLASSES, and every class is
    one of the three the policy defines."""
    routes = all_routes()
    assert len(routes) > 100, "the resolver walk found too few patterns"
    unclassed = [str(r) for r in routes if r.url_class is None]
    assert not unclassed, "URL patterns without a class in hub.policy.URL_CLASSES:\n" + "\n".join(
        unclassed)
    assert {r.url_class for r in routes} <= {policy.PUBLIC, policy.MEMBER, policy.ROLE}


def test_url_classes_name_only_existing_patterns():
    """The policy lists no name that the resolver has dropped (a renamed or removed page)."""
    names = {r.name for r in all_routes()}
    assert not set(policy.URL_CLASSES) - names


def test_dummy_addresses_reach_their_patterns():
    """The walk's example addresses reach the pattern they were built for, except where an
    earlier pattern takes the same address (allauth's sign-up page, replaced by the hub's)."""
    shadowed = {r.name: r.answered_by for r in all_routes() if r.shadowed}
    assert shadowed == {"account_signup": "members:apply"}


# Signing out while signed out sends the visitor on (home, or the admin's front door, which
# sends them to sign in): nothing is shown.
SIGN_OUT = {"account_logout", "admin:logout"}


def _signs_in(response) -> bool:
    """A redirect to sign in: the hub's own page, or the admin's, which sends on to it."""
    return response.status_code == 302 and response["Location"].startswith(
        ("/accounts/login/", "/admin/login/"))


@pytest.mark.django_db
def test_visitors_get_no_page_from_non_public_addresses(client):
    """A signed-out visitor's GET of any member or role address is sent to sign in, refused
    or answered as missing: never a 200 with content."""
    checked, wrong = 0, []
    for route in reachable_routes():
        if route.url_class == policy.PUBLIC:
            continue
        response = client.get(route.path)
        checked += 1
        if response.status_code == 200 and (
                getattr(response, "streaming", False) or response.content.strip()):
            wrong.append(f"{route}: 200")
        elif response.status_code >= 500:
            wrong.append(f"{route}: {response.status_code}")
        elif response.status_code in (301, 302, 303, 307, 308) and not (
                _signs_in(response) or route.name in SIGN_OUT):
            wrong.append(f"{route}: redirect to {response['Location']}")
    print(f"{checked} non-public addresses checked")
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
def test_visitors_post_to_non_public_addresses_changes_nothing(client):
    """A signed-out visitor's POST to any member or role address (the test client skips the
    CSRF check, so the view itself answers) is sent to sign in, refused or answered as
    missing."""
    wrong = []
    for route in reachable_routes():
        if route.url_class == policy.PUBLIC:
            continue
        response = client.post(route.path, {"x": "1"})
        if response.status_code == 200 or response.status_code >= 500 or (
                response.status_code in (301, 302, 303, 307, 308)
                and not (_signs_in(response) or route.name in SIGN_OUT)):
            wrong.append(f"{route}: {response.status_code}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
def test_public_addresses_never_fail_for_visitors(client):
    """A signed-out visitor's GET of a public address never meets a server error."""
    checked, failed = 0, []
    for route in reachable_routes():
        if route.url_class != policy.PUBLIC:
            continue
        response = client.get(route.path)
        checked += 1
        if response.status_code >= 500:
            failed.append(f"{route}: {response.status_code}")
    print(f"{checked} public addresses checked")
    assert not failed, "\n".join(failed)
