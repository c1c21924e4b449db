"""Stories and funding in a real browser: a partner's editor tells a story (first leaving a
part empty, and keeping what was typed), a member reads it with its links, finds a funding
opportunity by its deadline and follows it, then stops following it. axe-core checks the
lists, the form and the detail pages."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hub.community import stories
from hub.community.models import FundingFollow, Story
from hub.library.tests.factories import ResourceFactory
from hub.members.models import Membership
from hub.members.tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.browser.conftest import assert_accessible
from tests.browser.test_journeys import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "Night football with the neighbourhood team"


@pytest.fixture
def people(db):
    youth = OrganisationFactory(name="Canal Youth Club", slug="canal-youth", is_partner=True)
    editor = MembershipFactory(organisation=youth, role=Membership.Role.EDITOR).user
    ResourceFactory(title="Running a street league: a toolkit")
    for title, days in [("Bridges Fund", 30), ("Quick Grants", 4)]:
        stories.funding_create(
            actor=editor, title=title, funder="The Canal Trust", amount="Up to £5,000",
            summary="For projects that bring neighbours together.",
            eligibility="Community groups in the city.",
            deadline=timezone.now() + timedelta(days=days, hours=6),
            link="https://funding.example.org/b", status="published")
    return {"editor": editor, "member": UserFactory()}


def test_tell_a_story_then_a_member_reads_it_and_follows_funding(new_page, people):
    editor = new_page()
    sign_in(editor, people["editor"].email)
    editor.goto("/community/stories/")
    assert_accessible(editor)
    editor.get_by_role("link", name="Tell a story").click()
    editor.get_by_role("heading", name="Tell a success story").wait_for()
    assert_accessible(editor)
    editor.get_by_label("Title").fill(TITLE)
    editor.get_by_label("Summary").fill("A Friday league that brought officers and young "
                                        "people onto the same pitch.")
    editor.get_by_label("Context").fill("Fights after school had left young people wary.")
    editor.get_by_label("What was done").fill("Officers and youth workers ran a league.")
    editor.get_by_label("Outcome").fill("Calls on Friday nights fell.")
    editor.get_by_label("Running a street league: a toolkit").check()
    editor.get_by_label("Published").check()
    editor.get_by_role("button", name="Save").click()

    # The evidence was left empty: the message sits beside it and the rest is kept.
    editor.get_by_text("This field is required.").wait_for()
    assert editor.get_by_label("Title").input_value() == TITLE
    assert editor.get_by_label("Running a street league: a toolkit").is_checked()
    assert_accessible(editor)
    editor.get_by_label("Evidence").fill("Call logs for the year before and after.")
    editor.get_by_role("button", name="Save").click()
    editor.get_by_role("heading", name=TITLE).wait_for()
    assert_accessible(editor)
    assert Story.objects.get().status == "published"

    member = new_page()
    sign_in(member, people["member"].email)
    member.goto("/community/stories/")
    member.get_by_role("link", name=TITLE).click()
    member.get_by_role("heading", name=TITLE).wait_for()
    assert member.get_by_role("heading", name="The evidence").is_visible()
    assert member.get_by_role("link", name="Running a street league: a toolkit").is_visible()
    assert_accessible(member)

    member.goto("/community/funding/")
    assert_accessible(member)
    cards = member.locator(".funding-list h2")
    assert cards.all_inner_texts() == ["Quick Grants", "Bridges Fund"]  # soonest first
    assert member.get_by_text("closes in 4 days").is_visible()
    member.get_by_role("link", name="Bridges Fund").click()
    member.get_by_role("heading", name="Bridges Fund").wait_for()
    assert_accessible(member)
    member.get_by_role("button", name="Follow and remind me").click()
    member.get_by_text("Following. We will email you 7 days before the deadline.").wait_for()
    assert_accessible(member)
    assert FundingFollow.objects.filter(user=people["member"]).count() == 1

    member.goto("/community/funding/following/")
    assert member.get_by_role("link", name="Bridges Fund").is_visible()
    assert_accessible(member)
    member.get_by_role("button", name="Stop following Bridges Fund").click()
    member.get_by_text("You no longer follow this opportunity.").wait_for()
    assert not FundingFollow.objects.exists()
