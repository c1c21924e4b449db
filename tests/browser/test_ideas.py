"""The ideas board in a real browser: a member puts an idea forward and supports it using only
the keyboard (first leaving the title empty, and finding what she typed kept); staff decline
another idea, first without a reason (and are told one is needed), then with one. axe-core
checks the list, the form, the idea's page and the decision page."""

import pytest

from hub.community import ideas
from hub.community.models import Idea, IdeaSupport
from hub.members.models import Profile
from hub.members.tests.factories import UserFactory, enrol_mfa
from tests.browser.conftest import assert_accessible
from tests.browser.test_journeys import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "Residents on the ward tasking panel"


@pytest.fixture
def people(db):
    member = UserFactory(profile__display_name="Amira Keyboard")
    Profile.objects.filter(user=member).update(sector="community")
    staff = UserFactory(is_staff=True, profile__display_name="Staff Decider")
    other = ideas.idea_create(actor=UserFactory(), title="A hub tip line about individuals",
                              body_markdown="Collect reports about people.")
    return {"member": member, "staff": staff, "secret": enrol_mfa(staff), "other": other}


def tab_to(page, *, text: str = "", element_id: str = "", limit: int = 80) -> None:
    """Press Tab until the focused element has the given text or id (keyboard only)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("([text, id]) => { const e = document.activeElement;"
                         " return !!e && ((id && e.id === id) ||"
                         " (text && e.textContent.trim() === text)); }", [text, element_id]):
            return
    raise AssertionError(f"Tab never reached {text or element_id}")


def test_member_puts_forward_and_supports_an_idea_by_keyboard(new_page, people):
    page = new_page()
    sign_in(page, people["member"].email)
    page.goto("/community/ideas/")
    page.get_by_role("heading", name="Ideas board").wait_for()
    assert_accessible(page)
    tab_to(page, text="Put forward an idea")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Put forward an idea").wait_for()
    assert_accessible(page)

    # The title is forgotten: the message says so, and the text typed is still there.
    tab_to(page, element_id="id_body_markdown")
    page.keyboard.type("Two residents, chosen by the forum in turn, sit in on the **open** part.")
    tab_to(page, text="Put it forward")
    page.keyboard.press("Enter")
    page.get_by_text("Give the idea a title.").wait_for()
    assert "chosen by the forum" in page.get_by_label("Your idea").input_value()
    assert_accessible(page)
    tab_to(page, element_id="id_title")
    page.keyboard.type(TITLE)
    tab_to(page, text="Put it forward")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=TITLE).wait_for()
    assert page.locator(".post-body strong").inner_text() == "open"
    assert_accessible(page)

    tab_to(page, text="Support this idea")
    page.keyboard.press("Enter")
    page.get_by_text("You support this idea.").wait_for()
    row = page.get_by_role("row", name="Community organisation")
    assert row.get_by_role("cell").inner_text() == "1"
    assert_accessible(page)
    idea = Idea.objects.get(title=TITLE)
    assert IdeaSupport.objects.get(idea=idea).sector == "community"

    page.goto("/community/ideas/?sort=supported")
    assert page.get_by_role("link", name=TITLE).is_visible()
    assert page.get_by_text("Support by sector: Community organisation 1").is_visible()
    assert_accessible(page)


def test_staff_decline_an_idea_with_a_reason(new_page, people):
    idea = people["other"]
    page = new_page()
    sign_in(page, people["staff"].email, totp_secret=people["secret"])
    page.goto(idea.get_absolute_url())
    page.get_by_role("link", name="Set the status").click()
    page.get_by_role("heading", name="Set the status").wait_for()
    assert_accessible(page)
    page.get_by_label("Declined").check()
    page.get_by_role("button", name="Save the decision").click()
    page.get_by_text("Say why the idea is declined").wait_for()
    assert page.get_by_label("Declined").is_checked()
    assert_accessible(page)
    page.get_by_label("Reason").fill("It would gather reports about people; the hub looks "
                                     "at initiatives.")
    page.get_by_role("button", name="Save the decision").click()
    page.get_by_text("Why it was declined").wait_for()
    assert page.get_by_text("It would gather reports about people").is_visible()
    assert_accessible(page)
    idea.refresh_from_db()
    assert idea.status == Idea.Status.DECLINED and idea.status_changed_by == people["staff"]
