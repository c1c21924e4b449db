"""Coding services, the text layout, and the codebook, coding and analysis pages."""

import pytest
from django.urls import reverse

from hub.core.models import AuditEvent
from hub.research import coding
from hub.research.coding import CodingError
from hub.research.models import Code, Coding, Memo
from hub.research.tests.test_coding_data import TEXT, code, coded, make_study

pytestmark = pytest.mark.django_db


@pytest.fixture
def s():
    s = make_study()
    s["T"] = code(s["study"], "Trust", colour="#aa0000")
    s["P"] = code(s["study"], "Partnership")
    return s


def url(name, s, *args):
    return reverse(f"research:{name}", args=[s["study"].slug, *args])


def test_coding_create_records_coder_and_is_idempotent(s):
    made = coding.coding_create(source=s["source"], code_ids=[s["T"].pk, s["P"].pk], start=44,
                                end=63, coder=s["coder"])
    assert {c.coder_id for c in made} == {s["coder"].pk}
    coding.coding_create(source=s["source"], code_ids=[s["T"].pk], start=44, end=63,
                         coder=s["coder"])
    assert Coding.objects.count() == 2


@pytest.mark.parametrize("start,end,ids,message", [
    (10, 5, None, "end must come after"),
    (10, 10, None, "end must come after"),
    (0, 500, None, "beyond the end"),
    (-1, 5, None, "negative"),
    (39, 40, None, "blank space"),
    (0, 5, [], "at least one code"),
    (0, 5, "foreign", "not in this study"),
])
def test_coding_create_refuses_bad_input(s, start, end, ids, message):
    """Nonsense offsets, an empty choice and a code of another study are refused, saving
    nothing."""
    if ids == "foreign":
        ids = [code(make_study(slug="s2")["study"], "X").pk]
    elif ids is None:
        ids = [s["T"].pk]
    with pytest.raises(CodingError, match=message):
        coding.coding_create(source=s["source"], code_ids=ids, start=start, end=end,
                             coder=s["coder"])
    assert not Coding.objects.exists()


def test_viewer_and_outsider_cannot_code(s):
    for who in ("viewer", "outsider"):
        with pytest.raises(CodingError):
            coding.coding_create(source=s["source"], code_ids=[s["T"].pk], start=0, end=5,
                                 coder=s[who])


def test_remove_own_coding_only_lead_may_tidy(s):
    mine = coded(s["source"], s["T"], 0, 5, s["coder"])
    with pytest.raises(CodingError):
        coding.coding_delete(coding=mine, user=s["coder2"])
    coding.coding_delete(coding=coded(s["source"], s["T"], 5, 9, s["coder"]), user=s["lead"])
    coding.coding_delete(coding=mine, user=s["coder"])
    assert not Coding.objects.exists()


def test_memos_author_or_lead_edit(s):
    memo = coding.memo_create(study=s["study"], author=s["coder"], text="A thought",
                              source=s["source"])
    with pytest.raises(CodingError):
        coding.memo_update(memo=memo, user=s["coder2"], title="", text="changed")
    coding.memo_update(memo=memo, user=s["lead"], title="T", text="Lead's edit")
    with pytest.raises(CodingError):
        coding.memo_create(study=s["study"], author=s["coder"], text="x\x00")
    with pytest.raises(CodingError):
        coding.memo_create(study=s["study"], author=s["viewer"], text="x")
    coding.memo_delete(memo=memo, user=s["coder"])
    assert not Memo.objects.exists()


def test_layout_cuts_text_once_at_every_edge(s):
    """Pieces cover the text exactly once, each with the codes covering it."""
    turns = list(s["source"].turns.all())
    blocks = coding.layout(TEXT, turns, [(44, 63, 1), (50, 85, 2), (0, 3, 1)])
    pieces = [p for b in blocks for p in b.pieces]
    assert "".join(p.text for p in pieces) == TEXT
    covered = {(p.start, p.codes) for p in pieces}
    assert (0, (1,)) in covered and (44, (1,)) in covered and (50, (1, 2)) in covered
    assert (63, (2,)) in covered and (85, ()) in covered
    assert [b.turn.speaker for b in blocks] == ["Interviewer", "P1", "P2"]


def test_layout_of_a_long_transcript_is_fast():
    """A 50,000-word text with 500 codings is laid out in well under a second."""
    import time

    text = ("We talked about trust and about the police. " * 6250)
    spans = [(i * 600, i * 600 + 900, i % 7) for i in range(500)]
    began = time.perf_counter()
    blocks = coding.layout(text, [], spans)
    assert time.perf_counter() - began < 1.0
    assert sum(len(p.text) for b in blocks for p in b.pieces) == len(text)


# --- Pages ----------------------------------------------------------------------------------

def test_coding_page_shows_highlights_and_logs_opening(client, s):
    coded(s["source"], s["T"], 44, 63, s["coder"])
    client.force_login(s["coder"])
    response = client.get(url("source_code", s, s["source"].pk))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'<mark data-o="44" data-c="{s["T"].pk}" class="hl hl-{s["T"].pk}"' in body
    assert "research/coding." in body and "<script>" not in body
    assert AuditEvent.objects.filter(action="research.source.open", actor=s["coder"],
                                     target_id=str(s["source"].pk)).exists()
    css = client.get(url("codes_css", s)).content.decode()
    assert f".hl-{s['T'].pk}{{background-color:#aa000033" in css


def test_code_by_form_by_turn_and_bad_input(client, s):
    client.force_login(s["coder"])
    add = url("coding_add", s, s["source"].pk)
    response = client.post(add, {"start": 44, "end": 63, "codes": [s["T"].pk]})
    assert response.status_code == 302
    turn = s["source"].turns.get(speaker="P2")
    client.post(add, {"turn": turn.pk, "codes": [s["P"].pk]})
    assert set(Coding.objects.values_list("start", "end", "coder_id")) == {
        (44, 63, s["coder"].pk), (86, 128, s["coder"].pk)}
    for data, message in (({"start": 5, "end": 900, "codes": [s["T"].pk]}, "beyond the end"),
                          ({"start": 9, "end": 2, "codes": [s["T"].pk]}, "must come after"),
                          ({"start": 1, "end": 9}, "This field is required"),
                          ({"codes": [s["T"].pk]}, "Select a passage")):
        response = client.post(add, data)
        assert response.status_code == 400
        assert message in response.content.decode()
    assert Coding.objects.count() == 2


def test_viewer_sees_but_cannot_code(client, s):
    client.force_login(s["viewer"])
    page = client.get(url("source_code", s, s["source"].pk)).content.decode()
    assert "Apply the codes" not in page
    response = client.post(url("coding_add", s, s["source"].pk),
                           {"start": 0, "end": 5, "codes": [s["T"].pk]})
    assert response.status_code == 404
    assert client.post(url("code_new", s), {"name": "X", "colour": "#000000"}).status_code == 404
    assert not Coding.objects.exists()


def test_codebook_pages_for_lead_and_coder(client, s):
    client.force_login(s["coder"])
    response = client.post(url("code_new", s), {"name": "Coder's idea", "colour": "#112233",
                                                "parent": s["T"].pk})
    assert response.status_code == 302
    assert Code.objects.get(name="Coder's idea").parent_id == s["T"].pk
    # structure is the lead's
    response = client.post(url("code_detail", s, s["T"].pk), {"action": "delete",
                                                              "confirm": "yes"})
    assert response.status_code == 404
    response = client.post(url("code_new", s), {"name": "bad\x00", "colour": "#112233"})
    assert response.status_code == 400 and "NUL" in response.content.decode()
    client.force_login(s["lead"])
    assert "Add the engagement model" in client.get(url("codebook", s)).content.decode()
    client.post(url("codebook_starter", s))
    assert Code.objects.filter(study=s["study"], name="Risk").exists()
    child = Code.objects.get(name="Coder's idea")
    response = client.post(url("code_detail", s, s["T"].pk), {"action": "move",
                                                              "parent": child.pk})
    assert response.status_code == 400 and "cannot go under" in response.content.decode()
    coded(s["source"], s["T"], 44, 63, s["coder"])
    page = client.get(url("code_detail", s, s["T"].pk)).content.decode()
    assert "Deleting removes 1 coding" in page
    response = client.post(url("code_detail", s, s["T"].pk), {"action": "merge",
                                                              "into": s["P"].pk})
    assert response.status_code == 302
    assert Coding.objects.get().code_id == s["P"].pk
    response = client.post(url("code_detail", s, s["P"].pk), {
        "action": "split", "names": "One\nTwo", "rule_word": "grows", "rule_target": 2})
    assert response.status_code == 302
    assert Coding.objects.get().code.name == "Two"


def test_memo_pages(client, s):
    client.force_login(s["coder"])
    response = client.post(url("memo_new", s), {"source": s["source"].pk, "text": "Memo 1"})
    assert response.status_code == 302
    memo = Memo.objects.get()
    assert memo.source_id == s["source"].pk and memo.author_id == s["coder"].pk
    response = client.post(url("memo_edit", s, memo.pk), {"text": ""})
    assert response.status_code == 400
    assert Memo.objects.get().text == "Memo 1"
    client.force_login(s["coder2"])
    assert client.get(url("memo_edit", s, memo.pk)).status_code == 404
    client.force_login(s["lead"])
    assert client.post(url("memo_delete", s, memo.pk)).status_code == 302
    assert not Memo.objects.exists()


def test_retrieve_analysis_search_and_exports(client, s):
    coded(s["source"], s["T"], 44, 63, s["coder"])
    coded(s["source"], s["P"], 50, 85, s["coder"])
    coded(s["source"], s["T"], 90, 110, s["coder"])
    client.force_login(s["viewer"])
    page = client.get(url("retrieve", s), {"code": s["T"].pk, "groups": "young_person"})
    body = page.content.decode()
    assert "1 segment:" in body and "I do not trust them." in body
    assert "Trust grows slowly" not in body
    page = client.get(url("retrieve", s), {"code": s["T"].pk, "op1": "and",
                                           "code1": s["P"].pk})
    assert "Trust grows slowly." in page.content.decode()
    csv_ = client.get(url("retrieve_export", s, "csv"), {"code": s["T"].pk})
    assert csv_["Content-Type"].startswith("text/csv")
    assert "I do not trust them." in csv_.content.decode("utf-8-sig")
    docx_ = client.get(url("retrieve_export", s, "docx"), {"code": s["T"].pk})
    assert docx_.content[:2] == b"PK"
    analysis_page = client.get(url("analysis", s)).content.decode()
    assert "<svg" in analysis_page and "Codings (participants) per code and group" in \
        analysis_page
    assert "How often two codes overlap" in client.get(url("cooccurrence", s)).content.decode()
    hits = client.get(url("analysis_search", s), {"q": "nobody"}).content.decode()
    assert "<mark>Nobody</mark>" in hits


def test_reveal_by_lead_only(client, s):
    s["study"].blind = True
    s["study"].save()
    client.force_login(s["coder"])
    assert client.post(url("study_reveal", s)).status_code == 404
    client.force_login(s["lead"])
    client.post(url("study_reveal", s))
    s["study"].refresh_from_db()
    assert s["study"].revealed_at is not None
    assert AuditEvent.objects.filter(action="research.study.reveal").exists()


def test_chart_rolls_sub_codes_up_to_their_top_level_code(client, s):
    """A top-level code whose codings are all on its sub-codes still has its bars."""
    sub = code(s["study"], "Lost trust", parent=s["T"])
    coded(s["source"], sub, 90, 110, s["coder"])
    coded(s["source"], sub, 111, 127, s["coder"])
    client.force_login(s["lead"])
    page = client.get(url("analysis", s)).content.decode()
    svg = page[page.index("<svg"):page.index("</svg>")]
    assert ">Trust</text>" in svg and ">2</text>" in svg
    assert "Partnership" not in svg  # no codings: no bars
