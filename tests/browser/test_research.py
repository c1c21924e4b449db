"""Importing a Word interview in a real browser: the lead uploads it, reviews the proposed
pseudonyms (declining one, marking a missed name), confirms, and reads the stored text.
axe-core checks the study page, the review page and the reading page."""

import io
import os

import pytest

from hub.members.tests.factories import UserFactory
from hub.research import services
from hub.research.models import Source
from tests.browser.conftest import assert_accessible
from tests.browser.test_journeys import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

LINES = [
    "Interview 5. Recorded at the Hollinsend Community Hub.",
    "Interviewer: How did the partnership with the police begin?",
    "Marguerite: It began when Sergeant Brannock came to the Hollinsend Community Hub and "
    "asked what we needed. Trust took a year. Ring me on 07700 900456 if you need more.",
    "Interviewer: Who else was involved?",
    "Marguerite: Old Tobiah from the allotments, and the youth club.",
]


def snapshot(page, name):
    """Keep a picture of the page when HUB_SCREENSHOTS names a folder (for looking, not
    testing)."""
    if os.environ.get("HUB_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["HUB_SCREENSHOTS"], f"{name}.png"),
                        full_page=True)


def interview_docx(path):
    import docx

    document = docx.Document()
    for line in LINES:
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    path.write_bytes(out.getvalue())
    return path


@pytest.fixture
def study(db):
    lead = UserFactory(profile__display_name="Rhona Lead")
    study = services.study_create(actor=lead, title="Partnership histories",
                                  research_questions="How did partnerships begin?")
    participant = services.participant_create(actor=lead, study=study, code="P05",
                                              group="community_org")
    services.registry_add(actor=lead, study=study, kind="person", names=["Marguerite"],
                          participant=participant)
    study.lead = lead
    return study


def test_import_docx_review_confirm_and_read(new_page, study, tmp_path):
    page = new_page()
    sign_in(page, study.lead.email)
    page.goto(study.get_absolute_url())
    page.get_by_role("heading", name="Partnership histories").wait_for()
    assert_accessible(page)
    snapshot(page, "research-study")

    page.get_by_role("link", name="Import a transcript").click()
    page.get_by_label("Title").fill("Interview 5")
    page.get_by_label("Or choose a file").set_input_files(interview_docx(tmp_path / "i5.docx"))
    page.get_by_role("button", name="Read it and review the pseudonyms").click()
    page.get_by_role("heading", name="Review the pseudonymisation").wait_for()
    assert_accessible(page)
    snapshot(page, "research-review")
    # The registered name becomes the participant's code; the phone number a label.
    assert page.get_by_role("cell", name="[P05]", exact=True).first.is_visible()
    assert page.get_by_role("cell", name="[Phone 1]", exact=True).is_visible()
    # Decline the engine's guess for "Tobiah" (if it made one), then mark the name by hand
    tobiah = page.get_by_label("Keep Tobiah as written", exact=False)
    if tobiah.count():
        tobiah.check()
    page.get_by_label("Text").first.fill("Tobiah")
    page.get_by_role("button", name="Update the proposals and preview").click()
    page.get_by_role("heading", name="Review the pseudonymisation").wait_for()
    assert page.get_by_role("cell", name="marked by you", exact=True).first.is_visible()
    assert page.get_by_label("[P05]", exact=True).input_value() == str(study.participants.get().pk)
    page.get_by_role("button", name="Confirm and store the pseudonymised text").click()

    page.get_by_role("heading", name="Interview 5").wait_for()
    assert page.get_by_text("Only the pseudonymised text was kept").is_visible()
    assert_accessible(page)
    snapshot(page, "research-source")
    body = page.locator("main").inner_text()
    for name in ("Marguerite", "Brannock", "Hollinsend", "Tobiah", "07700"):
        assert name not in body
    assert "[P05] · community organisation" in body
    source = Source.objects.get(study=study)
    for name in ("Marguerite", "Brannock", "Hollinsend", "Tobiah", "07700"):
        assert name not in source.text
    assert source.origin == "docx" and source.turns.filter(participant__code="P05").count() == 2
