"""Charts of the continuum as accessible inline SVG: each has a title and a description that
state its figures in words, and each sits beside a data table on the page.

Groups are told apart by marker shape as well as colour (Okabe–Ito, with a dark outline), so
nothing relies on colour alone. The charts are drawn narrow, with 12pt text, so they stay
legible when a phone scales them down.
"""

from __future__ import annotations

import io
import threading
import xml.etree.ElementTree as ET
from collections import OrderedDict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

import matplotlib
from defusedxml import ElementTree as DefusedET
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from matplotlib import dates as mdates
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import blended_transform_factory

from hub.assessment import scoring

if TYPE_CHECKING:
    from hub.assessment.selectors import HistoryPoint

# Figures are drawn straight to SVG and never shown: no GUI backend, no pyplot state.
matplotlib.use("Agg")

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
INK = "#14171f"  # the page's text colour: 17:1 on white
MUTED = "#454b57"  # 8.9:1 on white
GRID = "#c9ced6"
WIDTH = 4.2  # inches: 302pt, so 12pt text is still about 9pt at 320 px

# Per perspective: an Okabe–Ito fill and a shape, the same in every chart and in
# _continuum.html, and a darker shade of the hue for lines (4.4:1 or more on white, where some
# fills, such as yellow, are well under 3:1 and rely on their dark outline).
STYLES = {
    "police": ("#0072B2", "o", "#0072B2"),
    "community_member": ("#D55E00", "s", "#B34F00"),
    "community_org": ("#009E73", "^", "#007A59"),
    "young_person": ("#CC79A7", "D", "#A0507E"),
    "practitioner": ("#E69F00", "v", "#8F6400"),
    "statutory": ("#56B4E9", "P", "#2B7BB3"),
    "policy_maker": ("#F0E442", "X", "#857A00"),
    "researcher": ("#FFFFFF", "h", "#454B57"),
    scoring.POOLED: ("#999999", "p", "#6B7079"),
}
FALLBACK = ("#FFFFFF", "o", "#454B57")
OVERALL = dict(marker="*", markersize=17, color=INK, markeredgecolor="#ffffff",
               markeredgewidth=0.8, linestyle="none")

RC = {
    "svg.fonttype": "none",  # text stays text: selectable, searchable, read by zoom tools
    "svg.hashsalt": "hub-assessment",  # the same chart gives the same bytes
    "font.size": 12, "axes.titlesize": 12, "axes.labelsize": 12, "xtick.labelsize": 12,
    "ytick.labelsize": 12, "legend.fontsize": 12,
    "text.color": INK, "axes.labelcolor": INK, "xtick.color": INK, "ytick.color": INK,
    "axes.edgecolor": INK,
}
# rc_context changes matplotlib's process-wide settings for its duration: one chart at a time.
_lock = threading.Lock()


def whole(value: float | None) -> str:
    """A position as the page shows it: rounded half up, like the floatformat filter."""
    if value is None:
        return "no score"
    return str(Decimal(repr(value)).quantize(Decimal(1), ROUND_HALF_UP))


def _marker(key: str, **extra) -> dict:
    fill, shape, line = STYLES.get(key, FALLBACK)
    return dict(marker=shape, markersize=10, markerfacecolor=fill, markeredgecolor=INK,
                markeredgewidth=1, color=line, **extra)


def _figure(height: float) -> Figure:
    return Figure(figsize=(WIDTH, height), layout="constrained", facecolor="white")


def _legend(fig: Figure, handles: list, labels: list[str]) -> None:
    ncols = 2 if max(len(label) for label in labels) <= 18 else 1
    fig.legend(handles, labels, loc="outside lower center", ncols=ncols, frameon=False,
               handletextpad=0.4, columnspacing=1.2)


def _continuum_axis(ax, axis: str = "x") -> None:
    """0–100 with the poles named at the ends."""
    ticks = [0, 25, 50, 75, 100]
    labels = ["0\nCommunity-\ntargeted", "25", "50", "75", "100\nCommunity-\nfocussed"]
    if axis == "x":
        ax.set_xlim(-4, 104)
        ax.set_xticks(ticks, labels)
        ends = ax.get_xticklabels()
        ends[0].set_horizontalalignment("left")
        ends[-1].set_horizontalalignment("right")
        ax.xaxis.grid(True, color=GRID, linewidth=0.8)
    else:
        ax.set_ylim(-4, 104)
        ax.set_yticks(ticks, ["targeted 0", "25", "50", "75", "focussed 100"])
        ax.yaxis.grid(True, color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _plain(root: ET.Element) -> None:
    """Plain SVG for inlining: unprefixed tags, presentation attributes rather than style=""
    (nothing for a content security policy to block, nor for an HTML renderer to read as
    unknown CSS), href rather than xlink:href, and no <style>, whose `*` rule would apply to
    the whole page."""
    for element in root.iter():
        element.tag = element.tag.removeprefix(f"{{{SVG_NS}}}")
        for declaration in element.attrib.pop("style", "").split(";"):
            name, _, value = declaration.partition(":")
            if value:
                element.set(name.strip(), value.strip())
        if XLINK_HREF in element.attrib:
            element.set("href", element.attrib.pop(XLINK_HREF))
    for defs in root.findall("defs"):
        for style in defs.findall("style"):
            defs.remove(style)


def _prefix_ids(root: ET.Element, prefix: str) -> None:
    """Keep only the ids something refers to, each with the chart's prefix, so that several
    charts can share a page."""
    for element in root.iter():
        old = element.attrib.pop("id", None)
        if old:
            element.set("id", f"{prefix}-{old}")
        href = element.get("href", "")
        if href.startswith("#"):
            element.set("href", f"#{prefix}-{href[1:]}")
        for name, value in element.attrib.items():
            if value.startswith("url(#"):
                element.set(name, f"url(#{prefix}-{value[5:]}")
    referenced = {element.get("href", "")[1:] for element in root.iter()} | {
        value[5:-1] for element in root.iter() for value in element.attrib.values()
        if value.startswith("url(#")}
    for element in root.iter():
        if element.get("id") not in referenced:
            element.attrib.pop("id", None)


def _svg(fig: Figure, *, id_prefix: str, title: str, desc: str) -> SafeString:
    """The figure as SVG to inline in HTML, a title and description first, scaled by its
    viewBox to the width it is given."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None,
                                                 "Format": None, "Type": None})
    root = DefusedET.fromstring(buffer.getvalue())
    _plain(root)
    _prefix_ids(root, id_prefix)
    # Sized by the .chart-svg rule of hub.css and report_pdf.html (WIDTH at 96 px an inch):
    # a style attribute here would be refused by the content security policy.
    root.attrib.pop("width")
    root.attrib.pop("height")
    root.attrib.update({
        "xmlns": SVG_NS, "width": "100%", "class": "chart-svg", "role": "img",
        "aria-labelledby": f"{id_prefix}-title {id_prefix}-desc"})
    for index, tag in enumerate(("title", "desc")):
        element = ET.Element(tag, id=f"{id_prefix}-{tag}")
        element.text = title if tag == "title" else desc
        root.insert(index, element)
    # ElementTree escapes every text and attribute it writes (people's words reach the chart
    # only as labels), _plain dropped any <style>, and the tests check no script or on*
    # attribute is left.
    return mark_safe(ET.tostring(root, encoding="unicode"))  # nosec B308 B703


_drawn: OrderedDict = OrderedDict()
DRAWN_KEPT = 128


def _render(draw, *, id_prefix: str, title: str, desc: str, key=None) -> SafeString:
    """Draw a figure and write it out with the house settings, one chart at a time.

    ``key`` holds everything the drawing depends on. A chart drawn before from the same key is
    served again without drawing: matplotlib's text layout is most of a report's time, and
    reports are read far more often than their answers change.
    """
    memo = None if key is None else (key, id_prefix, title, desc)
    with _lock:
        if memo is not None and memo in _drawn:
            _drawn.move_to_end(memo)
            return _drawn[memo]
        with matplotlib.rc_context(RC):
            svg = _svg(draw(), id_prefix=id_prefix, title=title, desc=desc)
        if memo is not None:
            _drawn[memo] = svg
            while len(_drawn) > DRAWN_KEPT:
                _drawn.popitem(last=False)
        return svg


def dimension_chart(result: scoring.RoundResult, *, id_prefix: str) -> SafeString:
    """A dot plot: one row per dimension, one marker per group and the overall position."""
    def draw():
        count = len(result.dimensions)
        fig = _figure(1.5 + 0.62 * count + 0.25 * len(result.groups))
        ax = fig.subplots()
        label_at = blended_transform_factory(ax.transAxes, ax.transData)
        steps = max(len(result.groups) - 1, 1)  # groups sit a little apart within a row
        for row, dimension in enumerate(result.dimensions):
            y = count - 1 - row
            name = dimension.name + (" (disagreed)" if dimension.disagreed else "")
            ax.text(0, y + 0.28, name, transform=label_at, va="bottom", ha="left")
            scores = [g.cells[dimension.key].score for g in result.groups
                      if dimension.key in g.cells]
            scores = [score for score in scores if score is not None]
            if dimension.disagreed and scores:
                low, high = min(scores), max(scores)
                ax.plot([low, low, high, high], [y - 0.24, y - 0.32, y - 0.32, y - 0.24],
                        color=INK, linewidth=1.5)
            for index, group in enumerate(result.groups):
                cell = group.cells.get(dimension.key)
                if cell and cell.score is not None:
                    offset = (index / steps - 0.5) * 0.3 if len(result.groups) > 1 else 0
                    ax.plot([cell.score], [y + offset], **_marker(group.key), linestyle="none")
            if dimension.overall is not None:
                ax.plot([dimension.overall], [y], **OVERALL)
        ax.set_ylim(-0.55, count - 0.1)
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        _continuum_axis(ax)
        handles = [Line2D([], [], **_marker(g.key), linestyle="none") for g in result.groups]
        labels = [group.label for group in result.groups]
        handles.append(Line2D([], [], **OVERALL))
        labels.append("All groups")
        if any(d.disagreed for d in result.dimensions):
            handles.append(Line2D([], [], color=INK, linewidth=1.5))
            labels.append(f"Range where groups differ by over {result.threshold}")
        _legend(fig, handles, labels)
        return fig

    return _render(draw, key=("dimensions", repr(result)), id_prefix=id_prefix,
                   title="Position on each dimension, by group",
                   desc=_dimension_desc(result))


def _dimension_desc(result: scoring.RoundResult) -> str:
    parts = [f"From 0, wholly community-targeted, to 100, wholly community-focussed. "
             f"Overall position {whole(result.overall)}."]
    for dimension in result.dimensions:
        groups = ", ".join(f"{g.label} {whole(g.cells[dimension.key].score)}"
                           for g in result.groups if dimension.key in g.cells)
        flag = "; groups disagree" if dimension.disagreed else ""
        parts.append(f"{dimension.name}: all groups {whole(dimension.overall)}"
                     f"{'; ' + groups if groups else ''}{flag}.")
    return " ".join(parts)


def _day(value) -> date:
    if isinstance(value, datetime):
        return (timezone.localtime(value) if timezone.is_aware(value) else value).date()
    return value


def _stagger(positions: list[float], gap: float, rows: int = 3) -> list[int]:
    """A label row for each position (0 to 1, in date order) so that close labels do not
    meet; past three rows they may."""
    last = [-1.0] * rows
    chosen = []
    for position in positions:
        row = next((r for r in range(rows) if position - last[r] >= gap), 0)
        last[row] = position
        chosen.append(row)
    return chosen


def _line(ax, series: list[tuple[date, float]], **style) -> Line2D:
    return ax.plot([day for day, _ in series], [value for _, value in series], **style)[0]


def history_chart(history: list[HistoryPoint], events: list, *,
                  id_prefix: str) -> SafeString:
    """The overall position of each round over time, one line per group, with the context
    events as numbered dashed lines."""
    points = [(_day(p.round.ends_at), p.result) for p in history]
    labels = {g.key: g.label for _, result in points for g in result.groups}
    event_days = [_day(event.happened_on) for event in events]

    def draw():
        fig = _figure(3.4 + 0.25 * len(labels))
        ax = fig.subplots()
        handles, names = [], []
        for key, label in labels.items():
            series = [(day, g.position) for day, result in points for g in result.groups
                      if g.key == key and g.position is not None]
            if series:
                handles.append(_line(ax, series, **_marker(key), linewidth=1.5))
                names.append(label)
        overall = [(day, result.overall) for day, result in points if result.overall is not None]
        if overall:
            handles.append(_line(ax, overall, **{**OVERALL, "linestyle": "-"}, linewidth=2.5))
            names.append("All groups")
        days = [day for day, _ in points] + event_days
        low, high = min(days), max(days)
        pad = max(timedelta(days=60), (high - low) * 0.06)
        ax.set_xlim(low - pad, high + pad)
        top = blended_transform_factory(ax.transData, ax.transAxes)
        span = (high - low + 2 * pad).days
        rows = _stagger([(day - low + pad).days / span for day in event_days], gap=0.07)
        for number, (day, row) in enumerate(zip(event_days, rows, strict=True), start=1):
            ax.axvline(day, color=MUTED, linestyle="--", linewidth=1)
            ax.text(day, 1.02 + 0.1 * row, str(number), transform=top, ha="center",
                    va="bottom", fontsize=11,
                    bbox=dict(boxstyle="circle,pad=0.2", facecolor="white", edgecolor=MUTED))
        if event_days:
            handles.append(Line2D([], [], color=MUTED, linestyle="--", linewidth=1))
            names.append("Context event (numbered as in the table)")
        locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        _continuum_axis(ax, axis="y")
        if handles:
            _legend(fig, handles, names)
        return fig

    key = ("history",
           tuple((p.round.pk, p.round.title, p.round.ends_at, repr(p.result)) for p in history),
           tuple((e.pk, e.happened_on, e.kind, e.title, e.description) for e in events))
    return _render(draw if points or events else _empty, key=key, id_prefix=id_prefix,
                   title="Overall position over time, with context events",
                   desc=_history_desc(points, events))


def _history_desc(points, events) -> str:
    parts = ["From 0, wholly community-targeted, to 100, wholly community-focussed."]
    for day, result in points:
        groups = "; ".join(f"{g.label} {whole(g.position)}" for g in result.groups)
        parts.append(f"Round ending {day:%-d %B %Y}: overall {whole(result.overall)}"
                     f"{'; ' + groups if groups else ''}.")
    for number, event in enumerate(events, start=1):
        parts.append(f"Event {number}, {_day(event.happened_on):%-d %B %Y}: "
                     f"{event.title} ({event.get_kind_display()}).")
    return " ".join(parts)


def _empty() -> Figure:
    fig = _figure(1.2)
    fig.text(0.5, 0.5, "No results yet", ha="center", va="center")
    return fig


def spread_chart(rows: list[tuple[str, float]], *, id_prefix: str) -> SafeString:
    """Where a programme's initiatives sit: a labelled dot per initiative when there are few,
    a box plot with unlabelled dots when there are many."""
    rows = [(name, value) for name, value in rows if value is not None]
    if not rows:
        return _render(_empty, id_prefix=id_prefix, title="Initiatives on the continuum",
                       desc="No initiative has an overall position yet.")
    values = [value for _, value in rows]
    summary = scoring.spread_of(values)

    def draw():
        labelled = len(rows) <= 25
        fig = _figure(1.6 + 0.38 * len(rows) if labelled else 2.6)
        ax = fig.subplots()
        if labelled:
            label_at = blended_transform_factory(ax.transAxes, ax.transData)
            for row, (name, value) in enumerate(rows):
                y = len(rows) - 1 - row
                short = name if len(name) <= 40 else name[:39] + "…"
                ax.text(0, y + 0.18, short, transform=label_at, va="bottom", ha="left")
                ax.plot([value], [y], **_marker("police"), linestyle="none")
            ax.set_ylim(-0.5, len(rows) - 0.1)
        else:
            ax.boxplot(values, orientation="horizontal", widths=0.5, showfliers=False,
                       medianprops=dict(color=INK, linewidth=2),
                       boxprops=dict(color=INK), whiskerprops=dict(color=INK),
                       capprops=dict(color=INK))
            jitter = [1 + ((index * 0.618034) % 1 - 0.5) * 0.4 for index in range(len(values))]
            ax.scatter(values, jitter, s=22, facecolors="none", edgecolors="#0072B2",
                       linewidths=1)
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        _continuum_axis(ax)
        return fig

    return _render(draw, key=("spread", tuple(rows)), id_prefix=id_prefix,
                   title="Initiatives on the continuum",
                   desc=_spread_desc(rows, summary))


def _spread_desc(rows, summary: scoring.Spread) -> str:
    text = (f"{summary.count} initiatives, from 0, wholly community-targeted, to 100, wholly "
            f"community-focussed. Lowest {whole(summary.lowest)}, median "
            f"{whole(summary.median)}, highest {whole(summary.highest)}")
    if summary.quartiles:
        text += (f"; half lie between {whole(summary.quartiles[0])} and "
                 f"{whole(summary.quartiles[1])}")
    text += "."
    if len(rows) <= 25:
        text += " " + "; ".join(f"{name} {whole(value)}" for name, value in rows) + "."
    return text
