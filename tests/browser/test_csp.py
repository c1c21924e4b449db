"""The content security policy in a real browser: pages of every kind run with nothing refused.

Chromium reports every refusal on the console ("Refused to ... because it violates the
following Content Security Policy directive"). The pages visited cover what the policy could
break: htmx (loaded from static, autosaving answers), the hub's own scripts, charts drawn as
inline SVG, the QR code of two-step sign-in (a data: image) and the Django admin.
"""

import re

import pytest
from django.core.management import call_command

from hub.assessment.models import Initiative
from hub.library.models import Resource, Tier
from hub.members.demo import DEMO_PASSWORD, demo_totp_secret, email_for
from tests.browser.test_journeys import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo():
    call_command("demo_load")


def watch(page) -> list[str]:
    """Collect the console messages about the content security policy, as they come."""
    refused: list[str] = []

    def on_console(message):
        if "Content Security Policy" in message.text:
            refused.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: refused.append(f"{page.url}: {error}"))
    return refused


def visit(page, path: str) -> None:
    response = page.goto(path)
    assert response.ok, f"{path}: {response.status}"
    page.wait_for_load_state("load")
    assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith("system-ui"), (
        f"{path}: the stylesheet did not load")


def report_path(name: str) -> str:
    return f"/assessment/initiatives/{Initiative.objects.get(name=name).pk}/report/"


def assert_charts_sized(page) -> None:
    """Charts are drawn (so htmx-free inline SVG survives) at no more than their own width,
    which the stylesheet now gives them instead of a style attribute."""
    charts = page.locator("svg.chart-svg")
    assert charts.count() >= 1
    for index in range(charts.count()):
        box = charts.nth(index).bounding_box()
        assert box and 300 < box["width"] <= 404 and box["height"] > 100, box


def test_visitor_pages_run_under_the_policy(new_page, demo):
    """A visitor's pages: home, library, a resource, assessment, a public report with
    charts, and sign-in."""
    page = new_page()
    refused = watch(page)
    resource = Resource.objects.filter(status=Resource.Status.PUBLISHED,
                                       metadata_tier=Tier.PUBLIC).first()
    for path in ("/", "/library/", f"/library/{resource.pk}/", "/assessment/",
                 "/accounts/login/"):
        visit(page, path)
    visit(page, report_path("Riverside Youth Mentoring Project"))
    assert_charts_sized(page)
    assert page.locator("script[src*='htmx']").count() == 1
    assert not refused, "\n".join(refused)


def test_member_pages_and_autosave_run_under_the_policy(new_page, demo):
    """A member's pages, including the upload form's script, a members-only report with
    charts, the two-step sign-in QR code and answers saved by htmx as they are given."""
    page = new_page()
    refused = watch(page)
    sign_in(page, email_for("forum.member"), DEMO_PASSWORD)
    for path in ("/", "/library/", "/library/contribute/", "/members/me/"):
        visit(page, path)
    visit(page, report_path("Eastgate Security and Partnership Officers"))
    assert_charts_sized(page)
    visit(page, "/accounts/2fa/totp/activate/")
    if "/reauthenticate/" in page.url:  # allauth asks for the password again first
        page.fill('input[name="password"]', DEMO_PASSWORD)
        page.locator("form button[type=submit]").last.click()
        page.wait_for_url("**/2fa/totp/activate/")
    qr = page.locator("img[src^='data:']")
    assert qr.count() == 1
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0"), "the QR code was refused"

    visit(page, "/assessment/")
    page.get_by_role("link", name=re.compile("Autumn 2026 review")).first.click()
    page.get_by_label("Community member").check()
    page.get_by_role("button", name="Start").click()
    page.wait_for_url(re.compile(r"/1/$"))
    choice = page.locator("form[data-autosave] input[type=radio]").first
    with page.expect_response(lambda r: r.request.method == "POST") as saved:
        choice.check()
    assert saved.value.ok
    page.locator("#save-status").get_by_text("Saved at").wait_for()
    assert not refused, "\n".join(refused)


def test_admin_runs_under_the_policy(new_page, demo):
    """Staff's admin pages: the index, a list and an object's form, with their scripts."""
    email = email_for("staff")
    page = new_page()
    refused = watch(page)
    sign_in(page, email, DEMO_PASSWORD, totp_secret=demo_totp_secret(email))
    resource = Resource.objects.first()
    for path in ("/admin/", "/admin/library/resource/", "/admin/members/user/",
                 f"/admin/library/resource/{resource.pk}/change/"):
        visit_admin(page, path)
    assert not refused, "\n".join(refused)


def visit_admin(page, path: str) -> None:
    response = page.goto(path)
    assert response.ok, f"{path}: {response.status}"
    page.wait_for_load_state("load")
