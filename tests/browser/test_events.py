"""Events in a real browser: two members and one place. A registers, B joins the waiting
list, A cancels, and B is promoted (and told by mail). axe-core checks every page."""

import re

import pytest
from django.core import mail

from hub.community.tests.factories import EventFactory
from hub.members.models import Membership
from hub.members.tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from hub.members.tests.test_services import run_worker
from tests.browser.conftest import assert_accessible
from tests.browser.test_journeys import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people(db):
    forum = OrganisationFactory(name="Eastgate Forum", slug="forum")
    return {
        "organiser": MembershipFactory(organisation=forum, role=Membership.Role.EDITOR).user,
        "a": UserFactory(profile__display_name="Amal First"),
        "b": UserFactory(profile__display_name="Ben Second"),
        "forum": forum,
    }


def test_register_for_a_full_event_and_be_promoted(new_page, people):
    event = EventFactory(title="Small partnership workshop", capacity=1,
                         organisation=people["forum"], accessibility="Step-free access.")
    event.organisers.add(people["organiser"])

    a = new_page()
    sign_in(a, people["a"].email)
    a.goto("/community/")
    assert_accessible(a)
    assert a.get_by_text("1 place left").is_visible()
    a.get_by_role("link", name="Small partnership workshop").click()
    a.get_by_role("heading", name="Small partnership workshop").wait_for()
    assert_accessible(a)
    assert a.get_by_text("shown here to people with a confirmed place").is_visible()
    a.get_by_label(re.compile("accessible to you")).fill("An aisle seat, please")
    a.get_by_role("button", name="Register").click()
    a.get_by_text("Your place is confirmed.").first.wait_for()
    assert a.get_by_role("link", name="https://meet.example.org/secret-room").is_visible()
    assert_accessible(a)

    b = new_page()
    sign_in(b, people["b"].email)
    b.goto(event.get_absolute_url())
    assert b.get_by_text("Full").first.is_visible()
    assert_accessible(b)
    b.get_by_role("button", name="Join the waiting list").click()
    b.get_by_text("You are on the waiting list", exact=True).wait_for()
    assert b.get_by_text("(number 1)").is_visible()
    assert b.get_by_role("link", name=re.compile("secret-room")).count() == 0
    assert_accessible(b)

    a.get_by_role("button", name="Cancel my place").click()
    a.get_by_text("Your registration is cancelled").wait_for()
    assert_accessible(a)

    b.reload()
    assert b.get_by_text("Your place is confirmed.").is_visible()
    assert b.get_by_role("link", name="https://meet.example.org/secret-room").is_visible()
    b.goto("/community/")
    b.get_by_role("link", name="My events").click()
    b.get_by_role("heading", name="My events").wait_for()
    assert b.get_by_text("Place confirmed").is_visible()
    assert_accessible(b)

    run_worker()
    promoted = [m for m in mail.outbox if m.to == [people["b"].email]
                and "A place has come up" in m.subject]
    assert len(promoted) == 1
    ((filename, content, mimetype),) = promoted[0].attachments
    assert filename == "event.ics" and "METHOD:REQUEST" in content


def test_organiser_pages_are_accessible(new_page, people):
    """The create form (with its errors shown), the registrations list and the calendar page
    pass the accessibility check."""
    page = new_page()
    sign_in(page, people["organiser"].email)
    page.goto("/community/")
    page.get_by_role("link", name="Add an event").click()
    page.get_by_role("heading", name="Add an event").wait_for()
    assert_accessible(page)
    page.get_by_label("Title").fill("Spring forum")
    page.get_by_role("button", name="Save the event").click()
    page.get_by_text("Please check the form").wait_for()
    assert page.input_value("#id_title") == "Spring forum"
    assert_accessible(page)
    page.get_by_label("Summary").fill("Residents and officers meet.")
    page.get_by_label("In person", exact=True).check()
    page.fill("#id_starts_at", "2031-05-01T18:00")
    page.fill("#id_ends_at", "2031-05-01T20:00")
    page.get_by_label("Venue").fill("Eastgate Community Hall")
    page.get_by_label("Agenda").fill("18:00 Welcome — Chair\n18:15 Open discussion")
    page.get_by_label("Organisation").select_option(label="Eastgate Forum")
    page.get_by_label("Status").select_option("published")
    page.get_by_role("button", name="Save the event").click()
    page.get_by_role("heading", name="Spring forum").wait_for()
    assert page.get_by_text("Open discussion").is_visible()
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("^Registrations")).click()
    page.get_by_role("heading", name=re.compile("^Registrations")).wait_for()
    assert_accessible(page)
    page.goto("/community/calendar/")
    assert_accessible(page)
    page.get_by_role("button", name="Make my calendar address").click()
    assert page.locator(".copy-box").inner_text().endswith(".ics")
    assert_accessible(page)
