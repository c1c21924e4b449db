"""Reports as files: CSV for spreadsheets, PDF for print.

Initiative, round and event names are user text, so every CSV cell that a spreadsheet would
read as a formula is defused, and the PDF renderer may read nothing but data: URLs and the
hub's own static files, whatever links the text contains.
"""

from __future__ import annotations

import csv
import io
import mimetypes
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from django.apps import apps
from django.conf import settings
from django.utils import timezone
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from hub.assessment import scoring
from hub.assessment.selectors import InitiativeReport, ProgrammeReport, ProgrammeRow

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ALL_GROUPS = "All groups"
OVERALL = "Overall position"
REPORT_COLUMNS = ["initiative", "round", "round_closes", "instrument_version", "group",
                  "respondents", "dimension", "score", "answers", "dont_know", "spread",
                  "disagreed", "weight"]
PROGRAMME_COLUMNS = ["initiative", "area", "lead_organisation", "round", "round_closes",
                     "respondents", "overall"]


def safe_cell(value) -> str:
    """A cell a spreadsheet shows as text: one that starts like a formula gets a leading
    apostrophe (OWASP, "CSV Injection")."""
    if value is None:
        return ""
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _csv(header: list[str], rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([safe_cell(value) for value in row] for row in rows)
    return buffer.getvalue()


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _day(moment: datetime) -> str:
    return timezone.localdate(moment).isoformat() if timezone.is_aware(moment) else (
        moment.date().isoformat())


def _round_rows(initiative, round_, result: scoring.RoundResult):
    """Each group on each dimension and overall, then all groups together. ``spread`` and
    ``disagreed`` describe the dimension (or the overall position) across groups; ``weight``
    is the group's weight in the overall position; the respondents of all groups are those
    whose answers were used, without any left out."""
    lead = [initiative.name, round_.title, _day(round_.ends_at), round_.instrument.version]
    yes = {True: "yes", False: "no"}
    for group in result.groups:
        weight = f"{group.weight:g}"
        for dimension in result.dimensions:
            cell = group.cells.get(dimension.key) or scoring.Cell(None)
            yield [*lead, group.label, group.respondents, dimension.name, _score(cell.score),
                   cell.answers, cell.dont_know, _score(dimension.spread),
                   yes[dimension.disagreed], weight]
        cells = group.cells.values()
        yield [*lead, group.label, group.respondents, OVERALL, _score(group.position),
               sum(c.answers for c in cells), sum(c.dont_know for c in cells),
               _score(result.spread), yes[result.disagreed], weight]
    counted = result.respondents - result.left_out
    for dimension in result.dimensions:
        cells = [g.cells[dimension.key] for g in result.groups if dimension.key in g.cells]
        yield [*lead, ALL_GROUPS, counted, dimension.name, _score(dimension.overall),
               sum(c.answers for c in cells), sum(c.dont_know for c in cells),
               _score(dimension.spread), yes[dimension.disagreed], ""]
    cells = [cell for group in result.groups for cell in group.cells.values()]
    yield [*lead, ALL_GROUPS, counted, OVERALL, _score(result.overall),
           sum(c.answers for c in cells), sum(c.dont_know for c in cells),
           _score(result.spread), yes[result.disagreed], ""]


def report_csv(report: InitiativeReport) -> str:
    """Every round of an initiative's report, one row per group and dimension."""
    rows = []
    for point in report.history:
        rows.extend(_round_rows(report.initiative, point.round, point.result))
    return _csv(REPORT_COLUMNS, rows)


def _dimension_columns(rows: list[ProgrammeRow], instrument=None) -> list[tuple[str, str]]:
    """The instrument's dimensions, then any others that rounds on older versions used."""
    columns = {d["key"]: d["name"] for d in instrument.dimensions} if instrument else {}
    for row in rows:
        for dimension in row.result.dimensions if row.result else []:
            columns.setdefault(dimension.key, dimension.name)
    return list(columns.items())


def _initiative_csv(rows: list[ProgrammeRow], instrument=None) -> str:
    columns = _dimension_columns(rows, instrument)
    lines = []
    for row in rows:
        initiative, round_, result = row.initiative, row.round, row.result
        scores = {d.key: d.overall for d in result.dimensions} if result else {}
        lines.append([
            initiative.name, initiative.area, initiative.lead_organisation,
            round_.title if round_ else "", _day(round_.ends_at) if round_ else "",
            result.respondents if result else "", _score(result.overall if result else None),
            *(_score(scores.get(key)) for key, _ in columns)])
    return _csv(PROGRAMME_COLUMNS + [name for _, name in columns], lines)


def programme_csv(report: ProgrammeReport) -> str:
    """One row per initiative of a programme: its latest round's overall and dimension
    scores."""
    return _initiative_csv(report.rows, report.instrument)


def compare_csv(rows: list[ProgrammeRow]) -> str:
    return _initiative_csv(rows)


def _static_roots() -> list[Path]:
    roots = [settings.STATIC_ROOT] if settings.STATIC_ROOT else []
    for entry in settings.STATICFILES_DIRS:
        roots.append(entry[1] if isinstance(entry, (list, tuple)) else entry)
    roots.extend(Path(app.path) / "static" for app in apps.get_app_configs())
    return [Path(root).resolve() for root in roots]


def static_file(url: str) -> Path | None:
    """The file a file: URL names, if it is one of the hub's static files."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        return None
    path = Path(url2pathname(parts.path)).resolve()  # resolves "..", symlinks
    if path.is_file() and any(path.is_relative_to(root) for root in _static_roots()):
        return path
    return None


class StaticOnlyFetcher(URLFetcher):
    """WeasyPrint's fetcher, allowed only data: URLs and the hub's static files, so that
    nothing in a report can make the server open a network connection or read another file.
    A refused URL is left out of the PDF, with a warning in WeasyPrint's log."""

    def __init__(self):
        super().__init__(allowed_protocols={"data", "file"}, allow_redirects=False)

    def fetch(self, url, headers=None):
        if urlsplit(url).scheme.lower() == "data":
            return super().fetch(url, headers)
        path = static_file(url)
        if path is None:
            raise PermissionError(f"Not fetched for a PDF: {url[:200]}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(),
                                  {"Content-Type": content_type})


def html_to_pdf(html: str, *, base_url: str) -> bytes:
    """A tagged PDF (its headings and tables readable by screen readers) of a standalone page
    such as assessment/report_pdf.html, which carries its own styles. Relative links resolve
    against ``base_url``, but only data: URLs and static files are ever read."""
    document = HTML(string=html, base_url=base_url, url_fetcher=StaticOnlyFetcher())
    return document.write_pdf(pdf_tags=True)
