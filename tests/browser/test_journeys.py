"""Whole journeys in a real browser, with an accessibility check on every page they visit."""

import re
import time

import pyotp
import pytest
from django.core import mail

from hub import policy
from hub.members.models import Membership, Profile, User
from hub.members.tests.factories import PASSWORD, MembershipFactory, UserFactory, enrol_mfa
from hub.members.tests.test_services import run_worker
from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)


def code_for(secret: str, steps_ahead: int = 0) -> str:
    """A TOTP code; allauth accepts one step either side, and each code only once."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def sign_in(page, email: str, password: str = PASSWORD, totp_secret: str | None = None,
            steps_ahead: int = 0):
    page.goto("/accounts/login/")
    assert_accessible(page)
    page.fill('input[name="login"]', email)
    page.fill('input[name="password"]', password)
    page.get_by_role("button", name="Sign In").click()
    if totp_secret:
        page.wait_for_url("**/2fa/authenticate/**")
        assert_accessible(page)
        page.fill('input[name="code"]', code_for(totp_secret, steps_ahead))
        page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/members/me/")


def test_apply_verify_be_approved_and_sign_in(new_page):
    """A newcomer applies, confirms their email, is approved by staff and signs in again."""
    staff = UserFactory(is_staff=True, profile__display_name="Staff Reviewer")
    staff_secret = enrol_mfa(staff)

    page = new_page()
    page.goto("/")
    assert_accessible(page)
    page.get_by_role("link", name="Apply to join").first.click()
    page.wait_for_url("**/accounts/signup/")
    assert_accessible(page)

    page.fill("#id_email", "amina.newcomer@example.org")
    page.fill("#id_display_name", "Amina Newcomer")
    page.select_option("#id_sector", "practice")
    page.fill("#id_statement", "I coordinate a mentoring scheme for young people.")
    page.fill("#id_password1", "short")
    page.fill("#id_password2", "short")
    page.get_by_role("button", name="Send my application").click()
    # Bad input: the problem is explained beside the field and nothing typed is lost.
    assert page.get_by_text("This password is too short").is_visible()
    assert page.input_value("#id_display_name") == "Amina Newcomer"
    assert page.input_value("#id_statement").startswith("I coordinate")
    assert_accessible(page)

    page.fill("#id_password1", "a-sound-passphrase-2026")
    page.fill("#id_password2", "a-sound-passphrase-2026")
    page.get_by_role("button", name="Send my application").click()
    page.wait_for_url("**/accounts/confirm-email/")
    assert_accessible(page)

    run_worker()
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mail.outbox[-1].body).group(0)
    page.goto(link.replace("http://127.0.0.1:8000", page.url.split("/accounts")[0]))
    assert_accessible(page)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/members/me/")
    assert page.get_by_text("Your application is waiting for a decision").is_visible()
    assert_accessible(page)

    reviewer = new_page()
    sign_in(reviewer, staff.email, totp_secret=staff_secret)
    reviewer.get_by_role("link", name="Applications").click()
    reviewer.wait_for_url("**/applications/")
    assert reviewer.get_by_text("I coordinate a mentoring scheme").is_visible()
    assert_accessible(reviewer)
    reviewer.get_by_role("button", name="Approve Amina Newcomer").click()
    assert reviewer.get_by_text("Amina Newcomer is now a member").is_visible()
    assert_accessible(reviewer)

    page.reload()
    assert page.get_by_text("waiting for a decision").count() == 0
    assert User.objects.get(email="amina.newcomer@example.org").standing == "member"
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "amina.newcomer@example.org", "a-sound-passphrase-2026")
    assert page.get_by_role("heading", name="My profile").is_visible()


def test_approver_enrols_in_two_step_sign_in(new_page):
    """An organisation approver is asked to enrol, enrols with an authenticator app from the
    banner, and from then on signs in with a code."""
    membership = MembershipFactory(role=Membership.Role.APPROVER,
                                   user__profile__display_name="Approver Person")
    page = new_page()
    sign_in(page, membership.user.email)
    assert page.get_by_text("needs two-step sign-in").first.is_visible()
    page.get_by_role("link", name="Set up two-step sign-in").click()
    if "/reauthenticate/" in page.url:
        # allauth asks for the password again before a change to sign-in security.
        assert_accessible(page)
        page.fill('input[name="password"]', PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/2fa/totp/activate/")
    assert_accessible(page)
    secret = page.input_value("#authenticator_secret")
    page.fill('input[name="code"]', "000000" if code_for(secret) != "000000" else "111111")
    page.get_by_role("button", name="Activate").click()
    # A wrong code is explained and the secret stays the same, so the app need not be reset.
    assert page.get_by_text("Incorrect code").is_visible()
    assert page.input_value("#authenticator_secret") == secret
    assert_accessible(page)
    page.fill('input[name="code"]', code_for(secret))
    page.get_by_role("button", name="Activate").click()
    page.wait_for_load_state()
    assert "/2fa/totp/activate/" not in page.url
    assert_accessible(page)
    page.goto("/members/me/")
    assert page.get_by_text("needs two-step sign-in").count() == 0
    assert policy.approver_org_ids(User.objects.get(pk=membership.user.pk)) == {
        membership.organisation_id}

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, membership.user.email, totp_secret=secret, steps_ahead=1)
    assert page.get_by_role("heading", name="My profile").is_visible()


def test_profile_visibility_seen_by_member_and_visitor(new_page):
    """A member changes who can see their profile; another member and a visitor see the
    effect at once."""
    owner = UserFactory(profile__display_name="Farah Visible",
                        profile__visibility=Profile.Visibility.MEMBERS)
    other = UserFactory(profile__display_name="Other Member")
    profile_url = owner.profile.get_absolute_url()

    page = new_page()
    sign_in(page, owner.email)
    assert_accessible(page)
    colleague = new_page()
    sign_in(colleague, other.email)
    visitor = new_page()

    def seen(viewer) -> bool:
        response = viewer.goto(profile_url)
        return response.status == 200 and viewer.get_by_role(
            "heading", name="Farah Visible").count() == 1

    assert seen(colleague) and not seen(visitor)
    assert_accessible(visitor)  # the "not found" page

    for label, colleague_sees, visitor_sees in [
        ("Anyone, including people who are not signed in", True, True),
        ("Only me (and hub staff)", False, False),
        ("Members of the hub", True, False),
    ]:
        page.goto("/members/me/edit/")
        page.get_by_label(label).check()
        assert_accessible(page)
        page.get_by_role("button", name="Save my profile").click()
        page.wait_for_url("**/members/me/")
        assert page.get_by_text("Your profile is saved").is_visible()
        assert seen(colleague) is colleague_sees, label
        assert seen(visitor) is visitor_sees, label
        assert_accessible(colleague)


def test_keyboard_and_small_screens(new_page):
    """The skip link is the first stop for the keyboard and moves focus to the content; key
    pages fit a 320-pixel-wide phone without sideways scrolling."""
    page = new_page()
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # The apply form can be filled and sent with the keyboard alone.
    page.goto("/accounts/signup/")
    page.focus("#id_email")
    page.keyboard.type("keys.only@example.org")
    page.keyboard.press("Tab")
    page.keyboard.type("Keyboard Person")
    assert page.input_value("#id_display_name") == "Keyboard Person"

    page.set_viewport_size({"width": 320, "height": 640})
    for path in ("/", "/accounts/signup/", "/accounts/login/", "/organisations/",
                 "/your-data/"):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        wide = page.evaluate("""[...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth)
            .map(e => e.tagName + '.' + e.className + '#' + e.id).slice(0, 5)""")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 320px: {wide}"
        assert_accessible(page)


def test_admin_manages_organisation_in_browser(new_page):
    """An organisation admin changes a member's role and makes an invitation link that a
    newcomer then opens."""
    admin = MembershipFactory(role=Membership.Role.ADMIN,
                              user__profile__display_name="Org Admin")
    secret = enrol_mfa(admin.user)
    org = admin.organisation
    MembershipFactory(organisation=org, user__profile__display_name="Kim Member")
    page = new_page()
    sign_in(page, admin.user.email, totp_secret=secret)
    page.goto(org.get_absolute_url())
    assert_accessible(page)
    page.get_by_role("link", name="Manage members and invitations").click()
    assert_accessible(page)
    page.get_by_label("Role of Kim Member").select_option("editor")
    page.get_by_role("button", name="Change role of Kim Member").click()
    assert page.get_by_text("Kim Member is now Editor").is_visible()
    page.get_by_label("Who it is for").fill("Chair of the youth forum")
    page.get_by_role("button", name="Make an invitation link").click()
    link = page.inner_text("#new-invitation-link").strip()
    assert_accessible(page)

    newcomer = new_page()
    newcomer.goto(link.replace(link.split("/invitations/")[0], ""))
    assert newcomer.get_by_role("heading", name=f"You are invited to join {org.name}").is_visible()
    assert_accessible(newcomer)
    newcomer.get_by_role("link", name="Create an account").click()
    assert newcomer.get_by_role("heading", name="Create your account").is_visible()
    assert_accessible(newcomer)
