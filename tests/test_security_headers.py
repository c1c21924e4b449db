"""Every address sends the security headers a deployment needs, and its cookies are locked.

The settings that differ when the hub is served over HTTPS (HUB_SECURE=true) are read from a
fresh process, exactly as settings.py makes them, and applied to the test's own settings; the
requests are then made over HTTPS.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from hub.library.tests.factories import ResourceFactory, add_text_file
from tests.test_url_inventory import reachable_routes

ROOT = Path(__file__).resolve().parent.parent
YEAR = 31_536_000

# The settings HUB_SECURE changes, as they reach the security middleware and the cookies.
SECURE_SETTINGS = [
    "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
    "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_NAME", "CSRF_COOKIE_NAME", "SESSION_COOKIE_HTTPONLY",
    "CSRF_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE", "CSRF_COOKIE_SAMESITE",
]


@pytest.fixture(scope="module")
def production_settings(tmp_path_factory) -> dict:
    code = ("import json; from django.conf import settings; "
            f"print(json.dumps({{n: getattr(settings, n) for n in {SECURE_SETTINGS!r}}}))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")
           and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update({"HUB_DATA_DIR": str(tmp_path_factory.mktemp("secure")), "HUB_SECURE": "true",
                "HUB_SECRET_KEY": "k" * 20 + "Q7-x_vZ2pL9mN4bR8tY1wE6uI3oP0aS5",
                "HUB_ALLOWED_HOSTS": "testserver"})
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def secure(settings, production_settings):
    for name, value in production_settings.items():
        setattr(settings, name, value)
    return settings


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        tokens = part.split()
        if tokens:
            directives[tokens[0].lower()] = tokens[1:]
    return directives


def header_problems(response) -> list[str]:
    """What is missing or too weak among the response's security headers."""
    problems = []
    h = response.headers
    if h.get("X-Content-Type-Options") != "nosniff":
        problems.append("nosniff")
    if h.get("Referrer-Policy") not in ("same-origin", "no-referrer", "strict-origin"):
        problems.append(f"Referrer-Policy {h.get('Referrer-Policy')!r}")
    if h.get("X-Frame-Options") != "DENY":
        problems.append(f"X-Frame-Options {h.get('X-Frame-Options')!r}")
    if h.get("Cross-Origin-Opener-Policy") != "same-origin":
        problems.append(f"Cross-Origin-Opener-Policy {h.get('Cross-Origin-Opener-Policy')!r}")
    hsts = [p.strip() for p in h.get("Strict-Transport-Security", "").split(";")]
    age = next((p.removeprefix("max-age=") for p in hsts if p.startswith("max-age=")), "0")
    if int(age) < YEAR or "includeSubDomains" not in hsts:
        problems.append(f"HSTS {h.get('Strict-Transport-Security')!r}")
    csp = csp_directives(h.get("Content-Security-Policy", ""))
    scripts = csp.get("script-src", csp.get("default-src"))
    if scripts is None or "'unsafe-inline'" in scripts or "'unsafe-eval'" in scripts:
        problems.append(f"script-src {scripts}")
    for name in ("object-src", "base-uri", "frame-ancestors"):
        # object-src falls back to default-src; the other two stand alone.
        value = csp.get(name, csp.get("default-src") if name == "object-src" else None)
        if value != ["'none'"]:
            problems.append(f"{name} {value}")
    return problems


def walk(client: Client) -> tuple[int, list[str]]:
    checked, wrong = 0, []
    for route in reachable_routes():
        response = client.get(route.path, secure=True)
        checked += 1
        if problems := header_problems(response):
            wrong.append(f"{route} ({response.status_code}): {', '.join(problems)}")
    return checked, wrong


@pytest.mark.django_db
def test_every_address_sends_security_headers_to_visitors(secure):
    """A signed-out visitor gets the full set of headers from every address."""
    checked, wrong = walk(Client())
    print(f"{checked} addresses checked for a visitor")
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
def test_every_address_sends_security_headers_to_members(secure, member):
    """A signed-in member gets the full set of headers from every address."""
    client = Client()
    client.force_login(member)
    checked, wrong = walk(client)
    print(f"{checked} addresses checked for a member")
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
def test_pages_allow_nothing_inline(secure):
    """The site's policy: only the hub's own scripts, styles and images (and data: images, for
    the QR code of two-step sign-in), nothing inline and no plugins."""
    csp = csp_directives(Client().get("/", secure=True)["Content-Security-Policy"])
    assert csp == {
        "default-src": ["'self'"], "script-src": ["'self'"], "style-src": ["'self'"],
        "img-src": ["'self'", "data:"], "object-src": ["'none'"], "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"], "form-action": ["'self'"],
    }


@pytest.mark.django_db
def test_file_downloads_keep_their_sandbox(secure):
    """A real download keeps the stricter policy its view writes, plus what every policy of
    the hub has, and all the other headers."""
    resource = ResourceFactory()
    item = add_text_file(resource)
    response = Client().get(f"/library/{resource.pk}/files/{item.pk}/download/", secure=True)
    assert response.status_code == 200
    csp = csp_directives(response["Content-Security-Policy"])
    assert csp["default-src"] == ["'none'"] and "sandbox" in csp
    assert "script-src" not in csp and "style-src" not in csp
    assert header_problems(response) == []


def _cookie_problems(morsel, name: str) -> list[str]:
    problems = []
    if not morsel.key.startswith("__Host-") or morsel.key != name:
        problems.append(f"name {morsel.key}")
    if not morsel["secure"]:
        problems.append("not Secure")
    if not morsel["httponly"]:
        problems.append("not HttpOnly")
    if morsel["samesite"] != "Lax":
        problems.append(f"SameSite {morsel['samesite']!r}")
    if morsel["path"] != "/" or morsel["domain"]:
        problems.append(f"path {morsel['path']!r} domain {morsel['domain']!r}")
    return problems


@pytest.mark.django_db
def test_session_cookie_is_locked(secure, member):
    """Over HTTPS the session cookie is __Host- prefixed, Secure, HttpOnly and SameSite=Lax."""
    client = Client()
    client.force_login(member)
    response = client.get("/members/me/", secure=True)
    assert response.status_code == 200
    name = secure.SESSION_COOKIE_NAME
    assert name in response.cookies, "the page did not refresh the session cookie"
    assert _cookie_problems(response.cookies[name], name) == []


@pytest.mark.django_db
def test_csrf_cookie_is_locked(secure):
    """Over HTTPS the CSRF cookie is __Host- prefixed, Secure, HttpOnly and SameSite=Lax."""
    response = Client().get("/accounts/login/", secure=True)
    name = secure.CSRF_COOKIE_NAME
    assert name in response.cookies
    assert _cookie_problems(response.cookies[name], name) == []


def test_production_settings_are_strict(production_settings):
    """HUB_SECURE turns on a year of HSTS for subdomains too, the HTTPS redirect and locked
    cookies."""
    s = production_settings
    assert s["SECURE_HSTS_SECONDS"] >= YEAR and s["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert s["SECURE_SSL_REDIRECT"]
    assert s["SESSION_COOKIE_SECURE"] and s["CSRF_COOKIE_SECURE"]
    assert s["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert s["CSRF_COOKIE_NAME"].startswith("__Host-")
