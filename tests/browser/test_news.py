"""Briefings in a real browser: a police unit's editor writes a briefing for a named community
organisation (first forgetting to name it, and keeping what was typed), a member of that
organisation reads it, and a member of another organisation gets "page not found". axe-core
checks the list, the form and the briefing's page."""

import re

import pytest

from hub.community.models import Briefing
from hub.members.models import Membership, Organisation
from hub.members.tests.factories import MembershipFactory, OrganisationFactory
from tests.browser.conftest import assert_accessible
from tests.browser.test_journeys import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "Facts about an incident on Station Road"


@pytest.fixture
def people(db):
    police = OrganisationFactory(name="Northgate Police Unit", slug="police", is_partner=True,
                                 kind=Organisation.Kind.POLICE)
    forum = OrganisationFactory(name="Eastgate Forum", slug="forum")
    other = OrganisationFactory(name="Westbrook Club", slug="club")
    return {
        "editor": MembershipFactory(organisation=police, role=Membership.Role.EDITOR).user,
        "reader": MembershipFactory(organisation=forum).user,
        "outsider": MembershipFactory(organisation=other).user,
    }


def test_briefing_for_a_named_organisation(new_page, people):
    editor = new_page()
    sign_in(editor, people["editor"].email)
    editor.goto("/community/news/")
    assert_accessible(editor)
    editor.get_by_role("link", name="Write a briefing").click()
    editor.get_by_role("heading", name="Write a briefing").wait_for()
    assert_accessible(editor)
    editor.get_by_label("Title").fill(TITLE)
    editor.get_by_label("Summary").fill("What happened on Saturday, before rumours spread.")
    editor.get_by_label("Text").fill("One man was **arrested** and released on bail.")
    editor.get_by_label("Members of the organisations named below").check()
    editor.get_by_label("Published").check()
    editor.get_by_role("button", name="Save").click()

    # Nothing named: the message sits beside the field and what was typed is kept.
    editor.get_by_text("Name at least one organisation").wait_for()
    assert editor.get_by_label("Title").input_value() == TITLE
    assert "arrested" in editor.get_by_label("Text").input_value()
    assert_accessible(editor)
    editor.get_by_label("Eastgate Forum").check()
    editor.get_by_role("button", name="Save").click()
    editor.get_by_role("heading", name=TITLE).wait_for()
    assert editor.get_by_text(
        "Members of Eastgate Forum, and of Northgate Police Unit").is_visible()
    assert_accessible(editor)
    address = Briefing.objects.get().get_absolute_url()

    reader = new_page()
    sign_in(reader, people["reader"].email)
    reader.goto("/community/news/")
    reader.get_by_role("link", name=TITLE).click()
    reader.get_by_role("heading", name=TITLE).wait_for()
    assert reader.locator(".post-body strong").inner_text() == "arrested"
    assert_accessible(reader)

    outsider = new_page()
    sign_in(outsider, people["outsider"].email)
    response = outsider.goto(address)
    assert response.status == 404
    outsider.goto("/community/news/")
    assert outsider.get_by_role("link", name=re.compile("Station Road")).count() == 0
    assert_accessible(outsider)
