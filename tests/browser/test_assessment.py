"""Engagement assessment in a real browser: a facilitator opens a round, three people answer
(one through a private link, one leaving mid-way and coming back), and the report shows them."""

import re

import pytest

from hub.assessment import services
from hub.assessment.models import Response
from hub.members.models import Membership
from hub.members.tests.factories import MembershipFactory, OrganisationFactory
from tests.browser.conftest import assert_accessible
from tests.browser.test_journeys import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people(db):
    police = OrganisationFactory(name="Northfield Police", slug="nfp", is_partner=True)
    forum = OrganisationFactory(name="Eastgate Forum", slug="forum", is_partner=True)
    return {
        "facilitator": MembershipFactory(organisation=police, role=Membership.Role.EDITOR).user,
        "officer": MembershipFactory(organisation=police).user,
        "resident": MembershipFactory(organisation=forum).user,
    }


def answer_page(page, keys, value):
    """Choose an answer to each question, waiting for each to be saved as it is given."""
    for key in keys:
        choice = page.locator(f'input[name="{key}-value"][value="{value}"]')
        if choice.is_checked():
            continue
        with page.expect_response(lambda r: r.request.method == "POST") as saved:
            choice.check()
        assert saved.value.ok


def answer_everything(page, pages, value):
    for number, keys in enumerate(pages, 1):
        page.wait_for_url(re.compile(rf"/{number}/$"))
        answer_page(page, keys, value)
        page.get_by_role("button", name="Save and continue").click()
    page.get_by_role("heading", name="Check and send your answers").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Send my answers").click()
    page.get_by_role("heading", name=re.compile("Thank you")).wait_for()


def test_open_a_round_answer_three_ways_and_read_the_report(new_page, people):
    instrument = services.current_instrument()
    pages = [[i["key"] for i in d["indicators"]] for d in instrument.dimensions]

    # The facilitator describes the initiative and opens a round.
    facilitator = new_page()
    sign_in(facilitator, people["facilitator"].email)
    facilitator.goto("/assessment/")
    assert_accessible(facilitator)
    facilitator.get_by_role("link", name="Add an initiative").click()
    assert_accessible(facilitator)
    facilitator.get_by_label("Name").fill("Eastgate contact scheme")
    facilitator.get_by_label("Kind").select_option("contact_unit")
    facilitator.get_by_label("Area").fill("Eastgate")
    facilitator.get_by_label("Country").select_option("GB")
    facilitator.get_by_label("Lead organisation").select_option(label="Northfield Police")
    facilitator.get_by_label("Eastgate Forum").check()
    facilitator.get_by_label("Description").fill("Officers meet community groups monthly.")
    facilitator.get_by_role("button", name="Add the initiative").click()
    facilitator.get_by_role("heading", name="Eastgate contact scheme").wait_for()
    assert_accessible(facilitator)
    facilitator.get_by_role("link", name="Open a round").click()
    assert_accessible(facilitator)
    facilitator.get_by_label("Title").fill("Spring review")
    facilitator.get_by_role("button", name="Set up the round").click()
    facilitator.get_by_role("heading", name="Spring review").wait_for()
    assert_accessible(facilitator)
    facilitator.get_by_label("Email addresses of members to invite").fill(
        f"{people['officer'].email}\n{people['resident'].email}")
    facilitator.get_by_role("button", name="Invite").click()
    facilitator.get_by_text("Invited 2").wait_for()
    facilitator.get_by_label("How many private links").fill("1")
    facilitator.get_by_role("button", name="Make links").click()
    link = facilitator.get_by_label("Links, one per line").input_value().strip()
    assert "/assessment/r/" in link
    assert_accessible(facilitator)

    # A police officer answers every question and sends.
    officer = new_page()
    sign_in(officer, people["officer"].email)
    officer.goto("/assessment/")
    officer.get_by_role("link", name=re.compile("Spring review")).click()
    assert_accessible(officer)
    officer.get_by_label("Police officer").check()
    officer.get_by_role("button", name="Start").click()
    officer.wait_for_url(re.compile(r"/1/$"))
    assert_accessible(officer)
    answer_everything(officer, pages, 4)

    # A resident answers the first page, saved as she goes, and loses her connection.
    resident = new_page()
    sign_in(resident, people["resident"].email)
    resident.goto("/assessment/")
    resident.get_by_role("link", name=re.compile("Spring review")).click()
    resident.get_by_label("Community member").check()
    resident.get_by_role("button", name="Start").click()
    resident.wait_for_url(re.compile(r"/1/$"))
    answer_page(resident, pages[0], 2)
    resident.context.set_offline(True)
    resident.locator(f'input[name="{pages[0][0]}-value"][value="3"]').check()
    resident.locator("#save-status").get_by_text("Not saved").wait_for()
    resident.context.close()
    # She comes back later, elsewhere: everything saved is still there (the change made
    # offline never reached the hub, and the page said so).
    back = new_page()
    sign_in(back, people["resident"].email)
    back.goto("/assessment/")
    back.get_by_role("link", name=re.compile("Spring review")).click()
    back.wait_for_url(re.compile(r"/1/$"))
    for key in pages[0]:
        assert back.locator(f'input[name="{key}-value"][value="2"]').is_checked()
    answer_everything(back, pages, 2)

    # A young person without an account answers through the private link.
    young = new_page()
    young.goto(link)
    assert_accessible(young)
    young.get_by_label("Young person (16–25)").check()
    young.get_by_role("button", name="Start").click()
    young.wait_for_url(re.compile(r"/assessment/a/.+/1/$"))
    answer_everything(young, pages, 3)
    assert young.goto(link).status == 200  # same browser: back to its own answers
    assert new_page().goto(link).status == 410  # anyone else: spent

    assert Response.objects.filter(submitted_at__isnull=False).count() == 3

    # The report shows them, together: three perspectives of one person each are combined.
    facilitator.goto("/assessment/")
    facilitator.get_by_role("link", name="Eastgate contact scheme").click()
    facilitator.get_by_role("link", name="Report").click()
    facilitator.get_by_text("3 people sent answers").wait_for()
    assert facilitator.get_by_role("table").first.is_visible()
    assert facilitator.get_by_text("guide for discussion, not a verdict").is_visible()
    # Mean of 75 (police), 25 (resident) and 50 (young person).
    assert facilitator.get_by_text("50 of 100", exact=True).is_visible()
    assert_accessible(facilitator)
