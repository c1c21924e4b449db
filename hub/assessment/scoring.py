"""From answers to a position on the continuum: 0 is wholly community-targeted, 100 wholly
community-focussed.

Everything here works from a round's *tally*, the submitted answers summed by perspective and
indicator, never from single responses: a report costs the same however many people answered,
and nothing in it can be traced to one person.

The rules, in the order they apply:

1. A point on the 5-point scale is worth 0, 25, 50, 75 or 100. "Don't know" is left out of the
   score and counted apart.
2. Within a perspective, an indicator's score is the mean of its answers; a dimension's score
   is the mean of its indicators' scores, so each indicator counts the same.
3. A perspective's position is the mean of its dimension scores, weighted by the instrument
   (governance and consent, the defining characteristic, may count more).
4. A perspective with fewer respondents than the round's minimum is not shown on its own. Such
   perspectives are pooled into one group if together they reach the minimum; otherwise their
   answers are left out, and the report says how many.
5. The overall position weighs each shown group by a weight the reader can change, equal by
   default, so the most numerous perspective never drowns the others.
6. Where groups differ on a dimension by more than the round's threshold, the dimension is
   flagged as disagreed.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import NamedTuple

POOLED = "pooled"
POOLED_LABEL = "Smaller groups combined"


def point_score(value: float) -> float:
    return (value - 1) * 25


def weighted_mean(pairs) -> float | None:
    pairs = [(value, weight) for value, weight in pairs if value is not None and weight > 0]
    total = sum(weight for _, weight in pairs)
    if not total:
        return None
    return sum(value * weight for value, weight in pairs) / total


def _mean(values) -> float | None:
    values = [value for value in values if value is not None]
    return sum(values) / len(values) if values else None


class Cell(NamedTuple):
    """One group's result on one dimension."""

    score: float | None
    answers: int = 0
    dont_know: int = 0


@dataclass
class Group:
    key: str
    label: str
    respondents: int
    cells: dict[str, Cell]
    position: float | None
    weight: float = 1.0
    members: list[str] = field(default_factory=list)


@dataclass
class DimensionResult:
    key: str
    name: str
    weight: float
    defining: bool
    overall: float | None
    spread: float | None
    disagreed: bool


@dataclass
class RoundResult:
    groups: list[Group]
    dimensions: list[DimensionResult]
    overall: float | None
    spread: float | None
    disagreed: bool
    respondents: int
    left_out: int
    min_group: int
    threshold: int

    @property
    def weights_equal(self) -> bool:
        return len({group.weight for group in self.groups}) <= 1

    def group(self, key: str) -> Group | None:
        return next((group for group in self.groups if group.key == key), None)


def _sum(items_list: list[dict]) -> dict[str, list[float]]:
    """Add up several perspectives' tallies indicator by indicator."""
    combined: dict[str, list[float]] = {}
    for items in items_list:
        for indicator, (total, count, dont_know) in items.items():
            entry = combined.setdefault(indicator, [0, 0, 0])
            entry[0] += total
            entry[1] += count
            entry[2] += dont_know
    return combined


def _group(key, label, respondents, items, instrument_data, weight=1.0, members=()) -> Group:
    cells = {}
    for dimension in instrument_data["dimensions"]:
        scores, answers, dont_know = [], 0, 0
        for indicator in dimension["indicators"]:
            total, count, unknown = items.get(indicator["key"], (0, 0, 0))
            if count:
                scores.append(point_score(total / count))
            answers += count
            dont_know += unknown
        cells[dimension["key"]] = Cell(_mean(scores), answers, dont_know)
    position = weighted_mean((cells[d["key"]].score, d.get("weight", 1))
                             for d in instrument_data["dimensions"])
    return Group(key, label, respondents, cells, position, weight, list(members))


def _spread(values) -> float | None:
    values = [value for value in values if value is not None]
    return max(values) - min(values) if len(values) >= 2 else None


def group_round(tally: dict, instrument_data: dict, *, min_group: int,
                labels: dict[str, str]) -> dict:
    """Everything about a round's result that does not depend on the reader's weights: the
    groups shown (rules 1 to 4), how many answered and how many were left out. Kept with the
    round whenever its tally changes, so reports read a small summary, not the tally.

    ``tally`` maps a perspective to ``{"n": respondents, "items": {indicator: [sum of points,
    answers, don't knows]}}``; ``labels`` names the perspectives, in the order to show them.
    """
    groups, small = [], []
    for key, label in labels.items():
        entry = tally.get(key)
        if not entry or not entry["n"]:
            continue
        if entry["n"] >= min_group:
            groups.append(_group(key, label, entry["n"], entry["items"], instrument_data))
        else:
            small.append((key, entry))
    pooled_n = sum(entry["n"] for _, entry in small)
    left_out = 0
    if small and pooled_n >= min_group:
        groups.append(_group(POOLED, POOLED_LABEL, pooled_n,
                             _sum([entry["items"] for _, entry in small]), instrument_data,
                             members=[key for key, _ in small]))
    else:
        left_out = pooled_n
    return {
        "groups": [{"key": g.key, "label": g.label, "n": g.respondents, "members": g.members,
                    "position": g.position,
                    "cells": {k: [c.score, c.answers, c.dont_know] for k, c in g.cells.items()}}
                   for g in groups],
        "respondents": sum(entry["n"] for entry in tally.values()),
        "left_out": left_out,
    }


def combine(summary: dict, instrument_data: dict, *, min_group: int, threshold: int,
            weights: dict[str, float] | None = None) -> RoundResult:
    """The round's result from its summary, with the reader's weights (rules 5 and 6)."""
    weights = weights or {}
    groups = [Group(g["key"], g["label"], g["n"],
                    {k: Cell(*cell) for k, cell in g["cells"].items()}, g["position"],
                    weights.get(g["key"], 1.0), list(g["members"]))
              for g in summary.get("groups", [])]
    dimensions = []
    for dimension in instrument_data["dimensions"]:
        key = dimension["key"]
        spread = _spread(group.cells[key].score for group in groups)
        dimensions.append(DimensionResult(
            key=key, name=dimension["name"], weight=dimension.get("weight", 1),
            defining=dimension.get("defining", False),
            overall=weighted_mean((group.cells[key].score, group.weight) for group in groups),
            spread=spread, disagreed=spread is not None and spread > threshold))
    spread = _spread(group.position for group in groups)
    return RoundResult(
        groups=groups, dimensions=dimensions,
        overall=weighted_mean((group.position, group.weight) for group in groups),
        spread=spread, disagreed=spread is not None and spread > threshold,
        respondents=summary.get("respondents", 0), left_out=summary.get("left_out", 0),
        min_group=min_group, threshold=threshold)


def score_round(tally: dict, instrument_data: dict, *, min_group: int = 3, threshold: int = 25,
                weights: dict[str, float] | None = None, labels: dict[str, str]) -> RoundResult:
    """The result of one round from its tally: ``group_round`` then ``combine``."""
    summary = group_round(tally, instrument_data, min_group=min_group, labels=labels)
    return combine(summary, instrument_data, min_group=min_group, threshold=threshold,
                   weights=weights)


@dataclass
class Spread:
    """How a programme's initiatives are spread along the continuum."""

    count: int
    mean: float | None
    lowest: float | None
    highest: float | None
    median: float | None
    quartiles: tuple[float, float] | None


def spread_of(values) -> Spread:
    values = sorted(value for value in values if value is not None)
    if not values:
        return Spread(0, None, None, None, None, None)
    quartiles = None
    if len(values) >= 2:
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
        quartiles = (q1, q3)
    return Spread(len(values), sum(values) / len(values), values[0], values[-1],
                  statistics.median(values), quartiles)
