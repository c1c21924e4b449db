"""Browser tests of coding: by mouse selection, by keyboard, retrieval by group, and the
accessibility of the coding, codebook and analysis pages."""

import pytest
from playwright.sync_api import expect

from hub.members.tests.factories import PASSWORD
from hub.research.models import Coding
from hub.research.tests.test_coding_data import code, coded, make_study
from tests.browser.conftest import assert_accessible
from tests.browser.test_journeys import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def s():
    s = make_study(slug="browser-study")
    s["T"] = code(s["study"], "Trust", colour="#1a7f37")
    s["P"] = code(s["study"], "Partnership", colour="#b35900")
    s["L"] = code(s["study"], "Loss of trust", parent=s["T"], colour="#c92a2a")
    return s


def coding_url(s):
    return f"/research/studies/{s['study'].slug}/sources/{s['source'].pk}/code/"


def test_code_by_mouse_selection(new_page, s):
    """A coder selects words with the mouse, ticks a code and applies it."""
    page = new_page()
    sign_in(page, s["coder"].email, PASSWORD)
    page.goto(coding_url(s))
    assert_accessible(page)
    # where the words "Trust grows slowly." are on screen
    rects = page.evaluate("""() => {
        const span = [...document.querySelectorAll('#text [data-o]')]
            .find(e => e.textContent.includes('Trust grows slowly.'));
        const node = span.firstChild, at = node.data.indexOf('Trust grows slowly.');
        const first = document.createRange(), last = document.createRange();
        first.setStart(node, at); first.setEnd(node, at + 1);
        const end = at + 'Trust grows slowly.'.length;
        last.setStart(node, end - 1); last.setEnd(node, end);
        const a = first.getBoundingClientRect(), b = last.getBoundingClientRect();
        return [a.left, a.top + a.height / 2, b.right, b.top + b.height / 2];
    }""")
    page.mouse.move(rects[0] + 1, rects[1])
    page.mouse.down()
    page.mouse.move(rects[2] - 1, rects[3], steps=8)
    page.mouse.up()
    expect(page.locator("#id_start")).to_have_value("44")
    expect(page.locator("#id_end")).to_have_value("63")
    assert "Trust grows slowly." in page.inner_text("#selection-status")
    page.check(f"#code-{s['T'].pk}")
    page.get_by_role("button", name="Apply the codes").click()
    page.wait_for_selector(f"#text mark.hl-{s['T'].pk}")
    made = Coding.objects.get()
    assert (made.start, made.end, made.code_id, made.coder_id) == (44, 63, s["T"].pk,
                                                                   s["coder"].pk)
    assert_accessible(page)


def test_code_by_keyboard(new_page, s):
    """From the keyboard: J selects sentences, Shift+J extends, Enter goes to the codes, the
    filter ticks the only match, and the form applies it."""
    page = new_page()
    sign_in(page, s["coder"].email, PASSWORD)
    page.goto(coding_url(s))
    page.focus("#text")
    page.keyboard.press("j")  # the first sentence
    page.keyboard.press("j")  # the next: "P1: Trust grows slowly."
    status = page.inner_text("#selection-status")
    assert "Trust grows slowly." in status, status
    page.keyboard.press("Shift+J")  # extend by "Partnership helps us."
    assert "Partnership helps us." in page.inner_text("#selection-status")
    start, end = page.input_value("#id_start"), page.input_value("#id_end")
    assert int(end) == 85, (start, end)
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "code-filter"
    page.keyboard.type("partner")
    page.keyboard.press("Enter")
    assert page.is_checked(f"#code-{s['P'].pk}")
    page.get_by_role("button", name="Apply the codes").click()
    page.wait_for_selector(f"#text mark.hl-{s['P'].pk}")
    made = Coding.objects.get()
    assert (made.end, made.code_id) == (85, s["P"].pk)
    assert made.start == int(start)


def test_retrieve_by_group_and_pages_are_accessible(new_page, s):
    """A viewer retrieves trust segments spoken by young people; the codebook, analysis and
    retrieval pages pass axe."""
    coded(s["source"], s["T"], 44, 63, s["coder"])
    coded(s["source"], s["L"], 90, 110, s["coder2"])
    coded(s["source"], s["P"], 50, 85, s["coder"])
    page = new_page()
    sign_in(page, s["viewer"].email, PASSWORD)
    base = f"/research/studies/{s['study'].slug}/"
    page.goto(base + "retrieve/")
    assert_accessible(page)
    page.select_option("#id_code", str(s["T"].pk))
    page.check("#id_children")
    page.get_by_label("Young person").check()
    page.get_by_role("button", name="Retrieve").click()
    results = page.locator("#results-h")
    assert "1 segment" in results.inner_text()
    assert "I do not trust them." in page.inner_text(".segments")
    assert "Trust grows slowly." not in page.inner_text(".segments")
    assert_accessible(page)
    page.goto(base + "codebook/")
    assert_accessible(page)
    page.goto(base + "analysis/")
    assert page.locator("svg.freq-chart").count() == 1
    assert_accessible(page)
    page.goto(base + f"codebook/{s['T'].pk}/")
    assert_accessible(page)
    lead = new_page()
    sign_in(lead, s["lead"].email, PASSWORD)
    lead.goto(base + f"codebook/{s['T'].pk}/")  # every reshaping form
    assert_accessible(lead)
    lead.goto(coding_url(s))
    assert_accessible(lead)
