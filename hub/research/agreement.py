"""Agreement between coders, measured character by character over the sources they share.

Each character of a shared source is a unit; for each code, a coder either applied the code
to it or did not. For every code, and for all codes pooled, the hub reports:

- **percentage agreement**: the share of units on which all the coders compared agree;
- **Cohen's kappa** (two coders): agreement corrected for what their own rates of applying
  the code would give by chance;
- **Krippendorff's alpha** (two or more coders, nominal): 1 - observed / expected
  disagreement, from the coincidence matrix.

A source is shared when every coder compared has coded something in it. Long transcripts make
millions of units, so the figures are computed from counts (a binary unit is fully described
by how many coders applied the code), not one unit at a time; the test suite checks them
against hand-worked examples and against the ``krippendorff`` library on random data.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from hub.research.models import Code, Coding, Source


@dataclass(frozen=True)
class Figures:
    units: int
    percent: float | None
    kappa: float | None
    alpha: float | None


@dataclass
class Report:
    coders: list  # users, in the order given
    sources: list[Source]
    overall: Figures | None
    by_code: list[tuple[Code, Figures]] = field(default_factory=list)


@dataclass(frozen=True)
class Disagreement:
    source: Source
    start: int
    end: int
    applied_by: tuple[int, ...]  # ids of the coders who applied the code here
    text: str


def figures(matrix: np.ndarray) -> Figures:
    """Figures for a coders × units matrix of 0/1 values (no missing values)."""
    coders, units = matrix.shape
    if units == 0 or coders < 2:
        return Figures(units, None, None, None)
    applied = matrix.sum(axis=0)  # how many coders applied the code to each unit
    agree = np.count_nonzero((applied == 0) | (applied == coders))
    percent = agree / units
    kappa = _kappa(matrix[0], matrix[1]) if coders == 2 else None
    return Figures(units, percent, kappa, alpha_from_counts(np.bincount(applied,
                                                                         minlength=coders + 1)))


def _kappa(a: np.ndarray, b: np.ndarray) -> float | None:
    n = a.size
    observed = np.count_nonzero(a == b) / n
    pa, pb = np.count_nonzero(a) / n, np.count_nonzero(b) / n
    chance = pa * pb + (1 - pa) * (1 - pb)
    if chance >= 1:
        return None  # both coders gave one value throughout: kappa is undefined
    return (observed - chance) / (1 - chance)


def alpha_from_counts(rows: np.ndarray) -> float | None:
    """Krippendorff's alpha (nominal, binary values, m coders, no missing values).

    ``rows[k]`` is the number of units to which exactly ``k`` of the ``m = len(rows) - 1``
    coders applied the code. Each such unit adds ``k(k-1)/(m-1)`` to the coincidence of 1 with
    1, ``(m-k)(m-k-1)/(m-1)`` to 0 with 0 and ``k(m-k)/(m-1)`` to each of 0-1 and 1-0.
    """
    m = len(rows) - 1
    k = np.arange(m + 1, dtype=float)
    weights = np.asarray(rows, dtype=float)
    o01 = float((weights * k * (m - k)).sum()) / (m - 1)
    n1 = float((weights * k).sum())
    n0 = float((weights * (m - k)).sum())
    n = n0 + n1
    if n0 == 0 or n1 == 0:
        return None  # no variation at all: alpha is undefined
    return 1 - (n - 1) * o01 / (n0 * n1)


def _masks(length: int, spans: list[tuple[int, int]]) -> np.ndarray:
    """A 0/1 array over ``length`` characters, 1 inside any of ``spans``."""
    edges = np.zeros(length + 1, dtype=np.int32)
    for start, end in spans:
        start, end = max(0, min(start, length)), max(0, min(end, length))
        if end > start:
            edges[start] += 1
            edges[end] -= 1
    return (np.cumsum(edges[:-1]) > 0).astype(np.int8)


def shared_sources(study, coder_ids: list[int]) -> list[Source]:
    """Sources in which every one of the coders has coded something."""
    coded = defaultdict(set)
    for source_id, coder_id in Coding.objects.filter(
            source__study=study, coder_id__in=coder_ids).values_list(
            "source_id", "coder_id").distinct():
        coded[source_id].add(coder_id)
    ids = [sid for sid, who in coded.items() if who >= set(coder_ids)]
    return list(Source.objects.filter(pk__in=ids).order_by("created", "id"))


def _spans(study, coder_ids, sources, code_ids=None):
    """{code id: {source id: {coder id: [(start, end), ...]}}}"""
    spans = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    codings = Coding.objects.filter(source__in=sources, coder_id__in=coder_ids,
                                    code__study=study)
    if code_ids is not None:
        codings = codings.filter(code_id__in=code_ids)
    for code_id, source_id, coder_id, start, end in codings.values_list(
            "code_id", "source_id", "coder_id", "start", "end"):
        spans[code_id][source_id][coder_id].append((start, end))
    return spans


def _matrix(spans_for_code, coder_ids, sources) -> np.ndarray:
    rows = []
    for coder_id in coder_ids:
        parts = [_masks(len(source.text), spans_for_code.get(source.pk, {}).get(coder_id, []))
                 for source in sources]
        rows.append(np.concatenate(parts) if parts else np.zeros(0, dtype=np.int8))
    return np.vstack(rows)


def report(study, coders) -> Report:
    """Agreement of ``coders`` (two or more users) on every code of the study they used."""
    coder_ids = [coder.pk for coder in coders]
    sources = shared_sources(study, coder_ids)
    spans = _spans(study, coder_ids, sources)
    codes = {code.pk: code for code in Code.objects.filter(study=study, pk__in=spans.keys())}
    result = Report(coders=list(coders), sources=sources, overall=None)
    pooled = []
    for code_id in sorted(spans, key=lambda pk: (codes[pk].position, codes[pk].name, pk)):
        matrix = _matrix(spans[code_id], coder_ids, sources)
        pooled.append(matrix)
        result.by_code.append((codes[code_id], figures(matrix)))
    if pooled:
        result.overall = figures(np.hstack(pooled))
    return result


def disagreements(study, coders, code, limit: int = 500) -> list[Disagreement]:
    """Stretches of text where the coders did not all agree about ``code``."""
    coder_ids = [coder.pk for coder in coders]
    sources = shared_sources(study, coder_ids)
    spans = _spans(study, coder_ids, sources, code_ids=[code.pk]).get(code.pk, {})
    found: list[Disagreement] = []
    for source in sources:
        per_coder = [_masks(len(source.text), spans.get(source.pk, {}).get(cid, []))
                     for cid in coder_ids]
        if not per_coder or not len(source.text):
            continue
        matrix = np.vstack(per_coder)
        # A new stretch starts wherever the pattern of who applied the code changes.
        pattern = np.zeros(matrix.shape[1], dtype=np.int64)
        for row in matrix:
            pattern = pattern * 2 + row
        applied = matrix.sum(axis=0)
        split = np.flatnonzero(np.diff(pattern)) + 1
        starts = np.concatenate(([0], split))
        ends = np.concatenate((split, [matrix.shape[1]]))
        for start, end in zip(starts, ends, strict=True):
            if 0 < applied[start] < len(coder_ids):
                who = tuple(cid for cid, row in zip(coder_ids, matrix, strict=True)
                            if row[start])
                found.append(Disagreement(source, int(start), int(end), who,
                                          source.text[start:end]))
                if len(found) >= limit:
                    return found
    return found
