"""Retrieval and analysis over a study's codings, always the codings this person may see.

Every function takes a queryset of codings already passed through ``policy.visible_codings``
(the views build it with ``visible_study_codings``), so blind coding holds in retrieval,
frequencies, co-occurrence and exports alike.

Boolean retrieval works on segments, i.e. codings. A query is a first code followed by steps,
applied left to right:

- ``and X``: keep the segments that overlap a segment of X in the same source;
- ``or X``: add the segments of X;
- ``not X``: drop the segments that overlap a segment of X.

Two spans overlap when they share at least one character (``a.start < b.end`` and
``b.start < a.end``). With "include sub-codes", a code stands for itself and everything under it.

A segment belongs to the speaker turn its first character falls in, and so to that turn's
participant, whose group and attributes the filters use.
"""

from __future__ import annotations

import bisect
import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import F
from django.db.models.functions import Substr

from hub import policy
from hub.research.codebook import descendant_ids
from hub.research.models import Code, Coding, Participant, SpeakerTurn, Study

OPS = ("and", "or", "not")
NO_GROUP = "unattributed"


def visible_study_codings(user, study: Study):
    return policy.visible_codings(user, Coding.objects.filter(source__study=study))


@dataclass
class Seg:
    pk: int
    source_id: int
    start: int
    end: int
    code_id: int
    coder_id: int | None


def _rows(codings_qs, code_ids) -> list[Seg]:
    return [Seg(*row) for row in codings_qs.filter(code_id__in=code_ids).values_list(
        "pk", "source_id", "start", "end", "code_id", "coder_id")]


def _expand(code: Code, include_children: bool) -> set[int]:
    return ({code.pk} | descendant_ids(code)) if include_children else {code.pk}


def _overlaps_any(seg: Seg, index: dict[int, list[tuple[int, int]]]) -> bool:
    """Whether the segment overlaps any span of the index (per source, sorted by start)."""
    spans = index.get(seg.source_id)
    if not spans:
        return False
    # spans starting before seg.end are candidates; one of them must end after seg.start
    limit = bisect.bisect_left(spans, (seg.end, -1))
    return any(end > seg.start for _start, end in spans[:limit])


def _index(segs: list[Seg]) -> dict[int, list[tuple[int, int]]]:
    index: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for s in segs:
        index[s.source_id].append((s.start, s.end))
    for spans in index.values():
        spans.sort()
    return index


def retrieve(codings_qs, first: Code, steps: list[tuple[str, Code]], *,
             include_children: bool = False) -> list[Seg]:
    """The segments the query selects, in source and text order, each once."""
    result = _rows(codings_qs, _expand(first, include_children))
    for op, code in steps:
        other = _rows(codings_qs, _expand(code, include_children))
        if op == "or":
            seen = {s.pk for s in result}
            result += [s for s in other if s.pk not in seen]
        else:
            index = _index(other)
            keep = op == "and"
            result = [s for s in result if _overlaps_any(s, index) == keep]
    result.sort(key=lambda s: (s.source_id, s.start, s.end, s.pk))
    return result


class Speakers:
    """Which participant spoke at a given offset of a source, from the study's turns."""

    def __init__(self, study: Study, source_ids=None, participant_ids=None):
        """``participant_ids``: read only these participants' turns (a filter by group needs
        no others: a segment starting elsewhere has no matching speaker)."""
        qs = SpeakerTurn.objects.filter(source__study=study)
        if source_ids is not None:
            qs = qs.filter(source_id__in=list(source_ids))
        if participant_ids is not None:
            qs = qs.filter(participant_id__in=list(participant_ids))
        self.turns: dict[int, tuple[list[int], list[tuple[int, int | None]]]] = {}
        rows = defaultdict(list)
        for source_id, start, end, participant_id in qs.order_by("source_id", "start").values_list(
                "source_id", "start", "end", "participant_id"):
            rows[source_id].append((start, end, participant_id))
        for source_id, items in rows.items():
            self.turns[source_id] = ([s for s, _e, _p in items], [(e, p) for _s, e, p in items])
        self.participants = {p.pk: p for p in Participant.objects.filter(study=study)}

    def participant_id(self, source_id: int, offset: int) -> int | None:
        found = self.turns.get(source_id)
        if not found:
            return None
        starts, rest = found
        i = bisect.bisect_right(starts, offset) - 1
        if i < 0:
            return None
        end, participant_id = rest[i]
        return participant_id if offset < end else None

    def participant(self, source_id: int, offset: int) -> Participant | None:
        pk = self.participant_id(source_id, offset)
        return self.participants.get(pk) if pk else None


def matching_participants(study: Study, *, groups=(), attribute: str = "",
                          value: str = "") -> set[int]:
    """Participants of the study in the chosen groups with the chosen attribute value."""
    found = set()
    for p in Participant.objects.filter(study=study):
        if groups and p.group not in groups:
            continue
        if attribute and str(p.attributes.get(attribute, "")).strip().lower() != (
                value.strip().lower()):
            continue
        found.add(p.pk)
    return found


def filter_segments(segs: list[Seg], speakers: Speakers, *, groups=(), attribute: str = "",
                    value: str = "", source_ids=()) -> list[Seg]:
    """Keep segments from the chosen sources, spoken by participants of the chosen groups and
    with the chosen attribute value (compared as text, ignoring case)."""
    if source_ids:
        wanted = set(source_ids)
        segs = [s for s in segs if s.source_id in wanted]
    if groups or attribute:
        groups = set(groups)
        out = []
        for s in segs:
            p = speakers.participant(s.source_id, s.start)
            if p is None:
                continue
            if groups and p.group not in groups:
                continue
            if attribute and str(p.attributes.get(attribute, "")).strip().lower() != (
                    value.strip().lower()):
                continue
            out.append(s)
        segs = out
    return segs


@dataclass
class Row:
    seg: Seg
    text: str
    code: Code
    source_title: str
    participant: Participant | None
    coder_name: str


def segment_rows(segs: list[Seg], speakers: Speakers, codes_by_id: dict[int, Code],
                 limit: int | None = None, offset: int = 0) -> list[Row]:
    """The text and labels of a page of segments: only these texts are read, by substring."""
    page = segs[offset:offset + limit] if limit else segs[offset:]
    if not page:
        return []
    info = {pk: (text, title, name) for pk, text, title, name in Coding.objects.filter(
        pk__in=[s.pk for s in page]).annotate(
        snippet=Substr("source__text", F("start") + 1, F("end") - F("start")),
    ).values_list("pk", "snippet", "source__title", "coder__profile__display_name")}
    rows = []
    for s in page:
        text, title, name = info.get(s.pk, ("", "", ""))
        rows.append(Row(s, text or "", codes_by_id[s.code_id], title,
                        speakers.participant(s.source_id, s.start), name or "(former member)"))
    return rows


# --- Frequencies and co-occurrence ----------------------------------------------------------

GROUPS = list(Participant.Group.choices)


def frequencies(codings_qs, study: Study, spans=None) -> tuple[list[tuple[str, str]], dict]:
    """For each code: codings per participant group, and how many different participants of
    each group it was applied to. Returns the groups shown (those present, plus
    "unattributed" when some coded text has no participant) and
    ``{code_id: {group: (codings, participants)}}``."""
    rows = [(source_id, start, code_id) for source_id, start, _end, code_id in (
        spans if spans is not None else spans_of(codings_qs))]
    speakers = Speakers(study)
    counts: dict[int, Counter] = defaultdict(Counter)
    people: dict[int, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    present = set()
    for source_id, start, code_id in rows:
        p = speakers.participant(source_id, start)
        group = p.group if p else NO_GROUP
        present.add(group)
        counts[code_id][group] += 1
        if p:
            people[code_id][group].add(p.pk)
    groups = [(k, label) for k, label in GROUPS if k in present]
    if NO_GROUP in present:
        groups.append((NO_GROUP, "No participant (interviewer or unattributed)"))
    table = {code_id: {g: (c[g], len(people[code_id][g])) for g, _ in groups}
             for code_id, c in counts.items()}
    return groups, table


def spans_of(codings_qs) -> list[tuple[int, int, int, int]]:
    """(source_id, start, end, code_id) of every coding: what the analysis page needs, read
    once."""
    return list(codings_qs.values_list("source_id", "start", "end", "code_id"))


def cooccurrence(codings_qs, spans=None) -> dict[tuple[int, int], int]:
    """How many times two different codes overlap: each overlapping pair of codings counts
    once, under the pair of codes (smaller id first). One sweep per source."""
    by_source: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for source_id, start, end, code_id in (spans if spans is not None
                                           else spans_of(codings_qs)):
        by_source[source_id].append((start, end, code_id))
    pairs: Counter = Counter()
    for spans in by_source.values():
        spans.sort()
        active: list[tuple[int, int]] = []  # (end, code_id) of spans still open
        for start, end, code_id in spans:
            if active:
                active = [a for a in active if a[0] > start]
                for _end, other in active:
                    if other != code_id:
                        pairs[(code_id, other) if code_id < other else (other, code_id)] += 1
            active.append((end, code_id))
    return dict(pairs)


# --- Text search ----------------------------------------------------------------------------

@dataclass
class Hit:
    source_id: int
    source_title: str
    start: int
    before: str
    match: str
    after: str


def text_search(study: Study, query: str, *, limit: int = 200, context: int = 80) -> list[Hit]:
    """Places where the words occur in the study's sources (ignoring case), with context."""
    query = query.strip()
    if not query or "\x00" in query:
        return []
    hits: list[Hit] = []
    needle = query.lower()
    for pk, title, text in study.sources.filter(text__icontains=query).values_list(
            "pk", "title", "text"):
        low = text.lower()
        at = low.find(needle)
        while at != -1 and len(hits) < limit:
            end = at + len(needle)
            hits.append(Hit(pk, title, at, text[max(0, at - context):at], text[at:end],
                            text[end:end + context]))
            at = low.find(needle, end)
        if len(hits) >= limit:
            break
    return hits


# --- Exports --------------------------------------------------------------------------------

EXPORT_FIELDS = ["source", "start", "end", "code", "coder", "participant", "group", "text"]


def _cells(row: Row, path: str) -> list[str]:
    p = row.participant
    return [row.source_title, str(row.seg.start), str(row.seg.end), path, row.coder_name,
            p.code if p else "", p.get_group_display() if p else "", row.text]


def _safe_cell(value: str) -> str:
    # A spreadsheet would run a cell starting with = + - @ as a formula.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_csv(rows: list[Row], paths: dict[int, str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_FIELDS)
    for row in rows:
        writer.writerow([_safe_cell(c) for c in _cells(row, paths[row.seg.code_id])])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def export_docx(rows: list[Row], paths: dict[int, str], *, title: str, query: str) -> bytes:
    import docx

    document = docx.Document()
    document.add_heading(title, level=1)
    document.add_paragraph(f"Query: {query}. {len(rows)} segment(s).")
    for row in rows:
        p = row.participant
        who = f"{p.code} ({p.get_group_display()})" if p else "no participant"
        document.add_heading(f"{row.source_title}, {row.seg.start}–{row.seg.end}", level=3)
        document.add_paragraph(f"Code: {paths[row.seg.code_id]} · coder: {row.coder_name} · "
                               f"speaker: {who}")
        document.add_paragraph(row.text, style="Quote")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --- Chart ----------------------------------------------------------------------------------

# Okabe–Ito hues (as the assessment charts use), told apart by a pattern letter in the legend
# too, so that colour is never the only cue; the table beside the chart gives every figure.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#6B7079"]


def bar_chart_svg(groups, rows, table) -> str:
    """Codings of each top-level code per participant group, as grouped horizontal bars in
    inline SVG with a title and a description stating what it shows."""
    from django.utils.html import escape

    if not rows or not groups:
        return ""
    bar, gap, label_w, width = 14, 10, 220, 640
    top = 30 + 20 * len(groups)
    plot_w = width - label_w - 60
    most = max([table.get(r.code.pk, {}).get(g, (0, 0))[0] for r in rows for g, _ in groups]
               + [1])
    height = top + len(rows) * (bar * len(groups) + gap) + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'width="100%" role="img" aria-labelledby="freq-title freq-desc" '
           f'class="freq-chart">',
           '<title id="freq-title">Codings of each top-level code (with its sub-codes) by '
           'participant group</title>',
           '<desc id="freq-desc">One bar per group for each top-level code; its length is the '
           'number of codings of the code or its sub-codes on text spoken by that group. The '
           'table below gives the figures code by code.</desc>']
    for i, (_g, label) in enumerate(groups):
        colour = PALETTE[i % len(PALETTE)]
        y = 8 + 20 * i
        out.append(f'<rect x="{label_w}" y="{y}" width="14" height="14" fill="{colour}" '
                   f'stroke="#14171f"/><text x="{label_w + 20}" y="{y + 12}" '
                   f'font-size="13" fill="#14171f">{escape(label)}</text>')
    y = top
    for r in rows:
        name = r.code.name if len(r.code.name) <= 30 else r.code.name[:29] + "…"
        block = bar * len(groups)
        out.append(f'<text x="{label_w - 8}" y="{y + block / 2 + 5}" text-anchor="end" '
                   f'font-size="13" fill="#14171f">{escape(name)}</text>')
        for i, (g, _label) in enumerate(groups):
            n = table.get(r.code.pk, {}).get(g, (0, 0))[0]
            w = plot_w * n / most
            colour = PALETTE[i % len(PALETTE)]
            out.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar - 2}" '
                       f'fill="{colour}" stroke="#14171f" stroke-width="0.5"/>'
                       f'<text x="{label_w + w + 4:.1f}" y="{y + bar - 3}" font-size="11" '
                       f'fill="#14171f">{n}</text>')
            y += bar
        y += gap
    out.append("</svg>")
    return "".join(out)
