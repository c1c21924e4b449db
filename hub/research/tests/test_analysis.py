"""Retrieval (with hand-worked boolean combinations), filters, frequencies, co-occurrence,
text search and exports, over the codings a person may see."""

import csv
import io

import docx
import pytest
from django.utils import timezone

from hub.research import analysis
from hub.research.tests.test_coding_data import code, coded, make_study

pytestmark = pytest.mark.django_db


@pytest.fixture
def s():
    s = make_study()
    study, src, c = s["study"], s["source"], s["coder"]
    s["T"], s["P"], s["N"] = code(study, "Trust"), code(study, "Partnership"), code(study, "Neg")
    s["t1"] = coded(src, s["T"], 44, 63, c)    # "Trust grows slowly." (P1, police)
    s["t2"] = coded(src, s["T"], 90, 110, c)   # "I do not trust them." (P2, young person)
    s["p1"] = coded(src, s["P"], 50, 85, c)    # overlaps t1
    s["n1"] = coded(src, s["N"], 90, 127, c)   # overlaps t2
    s["n2"] = coded(src, s["N"], 0, 10, c)     # interviewer, overlaps no T
    return s


def ids(segs):
    return [seg.pk for seg in segs]


def run(s, user, first, steps=(), **kw):
    qs = analysis.visible_study_codings(s[user] if isinstance(user, str) else user, s["study"])
    return analysis.retrieve(qs, s[first], [(op, s[c]) for op, c in steps], **kw)


def test_retrieve_boolean_combinations_hand_worked(s):
    """and keeps overlapping segments, not drops them, or adds; steps apply in order."""
    assert ids(run(s, "coder", "T")) == [s["t1"].pk, s["t2"].pk]
    assert ids(run(s, "coder", "T", [("and", "P")])) == [s["t1"].pk]
    assert ids(run(s, "coder", "T", [("not", "P")])) == [s["t2"].pk]
    assert ids(run(s, "coder", "T", [("or", "N")])) == [s["n2"].pk, s["t1"].pk, s["t2"].pk,
                                                         s["n1"].pk]
    assert ids(run(s, "coder", "T", [("or", "N"), ("and", "P")])) == [s["t1"].pk]
    assert ids(run(s, "coder", "N", [("not", "T")])) == [s["n2"].pk]


def test_touching_spans_do_not_overlap(s):
    """Spans that only meet at an edge share no character, so they do not overlap."""
    s["X"] = x = code(s["study"], "X")
    coded(s["source"], x, 63, 70, s["coder"])
    assert ids(run(s, "coder", "T", [("and", "X")])) == []
    assert ids(run(s, "coder", "P", [("and", "X")])) == [s["p1"].pk]


def test_retrieve_with_sub_codes(s):
    sub = code(s["study"], "Trust lost", parent=s["T"])
    lost = coded(s["source"], sub, 111, 127, s["coder"])
    assert lost.pk not in ids(run(s, "coder", "T"))
    assert ids(run(s, "coder", "T", include_children=True)) == [s["t1"].pk, s["t2"].pk, lost.pk]


def test_filters_by_group_attribute_and_source(s):
    study = s["study"]
    segs = run(s, "coder", "T", [("or", "N")])
    speakers = analysis.Speakers(study)
    police = analysis.filter_segments(segs, speakers, groups=["police"])
    assert ids(police) == [s["t1"].pk]
    young = analysis.filter_segments(segs, speakers, groups=["young_person"])
    assert ids(young) == [s["t2"].pk, s["n1"].pk]
    south = analysis.filter_segments(segs, speakers, attribute="area", value="SOUTH")
    assert ids(south) == [s["t2"].pk, s["n1"].pk]
    assert analysis.filter_segments(segs, speakers, source_ids=[999]) == []


def test_blind_retrieval_shows_only_own_codings():
    """In a blind study each coder (the lead too) retrieves only their own segments, until the
    lead reveals."""
    s = make_study(blind=True)
    t = code(s["study"], "T")
    mine = coded(s["source"], t, 44, 63, s["coder"])
    theirs = coded(s["source"], t, 90, 110, s["coder2"])
    s["T"] = t
    assert ids(run(s, "coder", "T")) == [mine.pk]
    assert ids(run(s, "coder2", "T")) == [theirs.pk]
    assert ids(run(s, "lead", "T")) == []
    assert ids(run(s, "outsider", "T")) == []
    s["study"].revealed_at = timezone.now()
    s["study"].save()
    assert ids(run(s, "coder", "T")) == [mine.pk, theirs.pk]


def test_frequencies_by_group(s):
    """Codings per group, and how many different participants they came from."""
    coded(s["source"], s["T"], 95, 100, s["coder2"])
    qs = analysis.visible_study_codings(s["lead"], s["study"])
    groups, table = analysis.frequencies(qs, s["study"])
    assert [g for g, _ in groups] == ["police", "young_person", analysis.NO_GROUP]
    assert table[s["T"].pk] == {"police": (1, 1), "young_person": (3 - 1, 1),
                                analysis.NO_GROUP: (0, 0)}
    assert table[s["N"].pk] == {"police": (0, 0), "young_person": (1, 1),
                                analysis.NO_GROUP: (1, 0)}
    assert table[s["P"].pk]["police"] == (1, 1)


def test_cooccurrence_counts_overlapping_pairs(s):
    """Each overlapping pair of codings of two different codes counts once."""
    coded(s["source"], s["T"], 95, 100, s["coder2"])  # overlaps t2 (same code) and n1
    pairs = analysis.cooccurrence(analysis.visible_study_codings(s["lead"], s["study"]))
    key = lambda a, b: (min(s[a].pk, s[b].pk), max(s[a].pk, s[b].pk))  # noqa: E731
    assert pairs == {key("T", "P"): 1, key("T", "N"): 2}


def test_text_search_finds_each_place(s):
    hits = analysis.text_search(s["study"], "TRUST")
    assert [h.start for h in hits] == [28, 44, 99]
    assert hits[1].match == "Trust"
    assert analysis.text_search(s["study"], "bad\x00") == []
    assert analysis.text_search(s["study"], "   ") == []


def test_exports_carry_segments_and_defuse_formulas(s):
    speakers = analysis.Speakers(s["study"])
    by_id = {c.pk: c for c in (s["T"], s["P"], s["N"])}
    coded(s["source"], s["N"], 86, 90, s["coder"])  # "P2: " -> no formula risk
    segs = run(s, "coder", "T", [("and", "P")])
    rows = analysis.segment_rows(segs, speakers, by_id)
    paths = {pk: c.name for pk, c in by_id.items()}
    table = list(csv.reader(io.StringIO(analysis.export_csv(rows, paths).decode("utf-8-sig"))))
    assert table[0] == analysis.EXPORT_FIELDS
    assert table[1] == ["Interview A", "44", "63", "Trust", "Coder One", "P1",
                        "Police officer or staff", "Trust grows slowly."]
    assert analysis._safe_cell("=cmd()") == "'=cmd()"
    document = docx.Document(io.BytesIO(analysis.export_docx(rows, paths, title="S",
                                                             query="Trust and P")))
    assert "Trust grows slowly." in [p.text for p in document.paragraphs]


def test_speakers_limited_to_matching_participants_filter_the_same(s):
    """Reading only the matching participants' turns selects the same segments."""
    segs = run(s, "coder", "T", [("or", "N")])
    wanted = analysis.matching_participants(s["study"], groups=["young_person"])
    assert wanted == {s["p2"].pk}
    few = analysis.Speakers(s["study"], participant_ids=wanted)
    assert ids(analysis.filter_segments(segs, few, groups=["young_person"])) == [
        s["t2"].pk, s["n1"].pk]
