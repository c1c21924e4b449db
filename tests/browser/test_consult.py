"""Consultations and concerns in a real browser: a member responds to a police unit's
consultation (first missing a required answer, keeping what was typed) and raises a private
concern; the unit's editor answers it; a member of another organisation gets "page not found"
for the private concern. axe-core checks each page on the way."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hub.community import consult
from hub.community.consult_forms import QuestionSpec
from hub.community.models import Concern, ConsultationResponse
from hub.members.models import Membership, Organisation
from hub.members.tests.factories import MembershipFactory, OrganisationFactory
from tests.browser.conftest import assert_accessible
from tests.browser.test_journeys import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "Community monitoring of stop and search"


@pytest.fixture
def people(db):
    police = OrganisationFactory(name="Northgate Police Unit", slug="police", is_partner=True,
                                 kind=Organisation.Kind.POLICE)
    forum = OrganisationFactory(name="Eastgate Forum", slug="forum")
    editor = MembershipFactory(organisation=police, role=Membership.Role.EDITOR).user
    consult.consultation_create(
        actor=editor, organisation=police, title=TITLE, summary="Should residents check stops?",
        body_markdown="A **panel** of residents would see anonymised records.",
        audience="members", closes_at=timezone.now() + timedelta(days=10),
        questions=[QuestionSpec("Would you trust such a panel?", True),
                   QuestionSpec("Anything else?")], open_now=True)
    return {"editor": editor, "member": MembershipFactory(organisation=forum).user,
            "outsider": MembershipFactory(organisation=forum).user}


def test_respond_raise_a_private_concern_and_get_an_answer(new_page, people):
    member = new_page()
    sign_in(member, people["member"].email)
    member.goto("/community/consultations/")
    assert_accessible(member)
    member.get_by_role("link", name=TITLE).click()
    member.get_by_role("heading", name=TITLE).wait_for()
    assert_accessible(member)
    member.get_by_role("link", name="Respond").click()
    member.get_by_label("2. Anything else?").fill("Meet in the evenings.")
    member.get_by_role("button", name="Save my response").click()
    member.get_by_text("This field is required.").wait_for()
    assert member.get_by_label("2. Anything else?").input_value() == "Meet in the evenings."
    assert_accessible(member)
    member.get_by_label("1. Would you trust such a panel?").fill("Only if it picks the clips.")
    member.get_by_role("button", name="Save my response").click()
    member.get_by_text("Your response is saved").wait_for()
    assert member.get_by_text("Only if it picks the clips.").is_visible()
    assert_accessible(member)
    assert ConsultationResponse.objects.count() == 1

    member.goto("/community/concerns/new/")
    member.get_by_role("heading", name="Raise a concern").wait_for()
    assert_accessible(member)
    member.get_by_label("Addressed to").select_option(label="Northgate Police Unit")
    member.get_by_label("Title").fill("A visit that frightened a family")
    member.get_by_label("Your concern").fill("Officers came at night. Can we talk about it?")
    member.get_by_label("Private: only you and the organisation's staff").check()
    member.get_by_role("button", name="Send the concern").click()
    member.get_by_role("heading", name="A visit that frightened a family").wait_for()
    assert_accessible(member)
    address = Concern.objects.get().get_absolute_url()

    editor = new_page()
    sign_in(editor, people["editor"].email)
    editor.goto("/community/concerns/?organisation=police")
    assert_accessible(editor)
    editor.get_by_role("link", name="A visit that frightened a family").click()
    editor.get_by_label("Your reply").fill("Thank you. Could we meet on Wednesday?")
    editor.get_by_role("button", name="Post the answer").click()
    editor.get_by_text("Your reply is posted.").wait_for()
    assert_accessible(editor)
    assert Concern.objects.get().status == "answered"

    member.goto(address)
    assert member.get_by_text("Could we meet on Wednesday?").is_visible()

    outsider = new_page()
    sign_in(outsider, people["outsider"].email)
    assert outsider.goto(address).status == 404
