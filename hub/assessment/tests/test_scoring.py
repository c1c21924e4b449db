"""Scoring, checked against cases worked out by hand."""

import pytest

from hub.assessment import scoring
from hub.assessment.selectors import PERSPECTIVES, weights_from

# A small instrument: two dimensions, the first counting twice.
INSTRUMENT = {"dimensions": [
    {"key": "governance", "name": "Governance", "weight": 2, "defining": True,
     "indicators": [{"key": "g1"}, {"key": "g2"}]},
    {"key": "trust", "name": "Trust", "indicators": [{"key": "t1"}, {"key": "t2"}]},
]}


def answers(n, values: dict[str, int], dont_know: dict[str, int] | None = None) -> dict:
    """A perspective's tally where each of ``n`` respondents gave the same answers."""
    dont_know = dont_know or {}
    items = {key: [value * n, n, 0] for key, value in values.items()}
    for key, count in dont_know.items():
        items.setdefault(key, [0, 0, 0])[2] += count
    return {"n": n, "items": items}


def score(tally, **options):
    return scoring.score_round(tally, INSTRUMENT, labels=PERSPECTIVES, **options)


ALL_FOCUSSED = {"g1": 5, "g2": 5, "t1": 5, "t2": 5}
ALL_TARGETED = {"g1": 1, "g2": 1, "t1": 1, "t2": 1}


def test_every_answer_at_the_focussed_pole_gives_100():
    result = score({"police": answers(3, ALL_FOCUSSED),
                    "community_member": answers(4, ALL_FOCUSSED)})
    assert result.overall == 100
    assert all(group.position == 100 for group in result.groups)
    assert all(dimension.overall == 100 for dimension in result.dimensions)


def test_every_answer_at_the_targeted_pole_gives_0():
    assert score({"police": answers(3, ALL_TARGETED)}).overall == 0


def test_points_are_worth_quarters_and_indicators_count_equally():
    # Governance: g1 mean 4 (75), g2 mean 2 (25) → 50. Trust: t1 3 (50), t2 5 (100) → 75.
    # Position = (50 × 2 + 75 × 1) / 3 = 58.33…
    result = score({"police": answers(3, {"g1": 4, "g2": 2, "t1": 3, "t2": 5})})
    police = result.group("police")
    assert police.cells["governance"].score == 50
    assert police.cells["trust"].score == 75
    assert police.position == pytest.approx(175 / 3)


def test_a_perspective_ten_times_larger_does_not_outweigh_another():
    result = score({"police": answers(30, ALL_FOCUSSED),
                    "young_person": answers(3, ALL_TARGETED)})
    assert result.overall == 50
    assert result.group("police").respondents == 30


def test_weights_shown_and_adjustable():
    tally = {"police": answers(30, ALL_FOCUSSED), "young_person": answers(3, ALL_TARGETED)}
    result = score(tally, weights={"young_person": 3})
    # (100 × 1 + 0 × 3) / 4
    assert result.overall == 25
    assert not result.weights_equal
    assert result.group("young_person").weight == 3


def test_dont_know_is_left_out_of_the_score_and_counted_apart():
    tally = {"police": {"n": 3, "items": {
        "g1": [15, 3, 0],   # three answers of 5
        "g2": [0, 0, 3],    # three "don't know": no score for g2
        "t1": [3, 3, 0], "t2": [3, 3, 0]}}}
    police = score(tally).group("police")
    assert police.cells["governance"].score == 100
    assert police.cells["governance"].dont_know == 3
    assert police.cells["governance"].answers == 3
    assert police.cells["trust"].score == 0
    # (100 × 2 + 0) / 3
    assert police.position == pytest.approx(200 / 3)


def test_only_dont_know_gives_no_score_rather_than_zero():
    tally = {"police": {"n": 3, "items": {"g1": [0, 0, 3], "g2": [0, 0, 3],
                                          "t1": [12, 3, 0], "t2": [12, 3, 0]}}}
    police = score(tally).group("police")
    assert police.cells["governance"].score is None
    assert police.position == 75


def test_disagreement_is_flagged_above_the_threshold():
    tally = {"police": answers(3, {"g1": 5, "g2": 5, "t1": 3, "t2": 3}),
             "community_member": answers(3, {"g1": 2, "g2": 2, "t1": 3, "t2": 4})}
    result = score(tally, threshold=25)
    governance, trust = result.dimensions
    assert governance.spread == 75 and governance.disagreed
    assert trust.spread == 12.5 and not trust.disagreed
    assert result.disagreed


def test_a_spread_at_the_threshold_is_not_flagged():
    tally = {"police": answers(3, {"g1": 3, "g2": 3, "t1": 3, "t2": 3}),
             "community_member": answers(3, {"g1": 4, "g2": 4, "t1": 3, "t2": 3})}
    governance = score(tally, threshold=25).dimensions[0]
    assert governance.spread == 25 and not governance.disagreed


def test_small_perspectives_are_pooled_when_together_large_enough():
    tally = {"police": answers(5, ALL_FOCUSSED),
             "young_person": answers(2, ALL_TARGETED),
             "researcher": answers(1, ALL_TARGETED)}
    result = score(tally, min_group=3)
    assert [group.key for group in result.groups] == ["police", scoring.POOLED]
    pooled = result.group(scoring.POOLED)
    assert pooled.respondents == 3 and pooled.position == 0
    assert set(pooled.members) == {"young_person", "researcher"}
    assert result.group("young_person") is None
    assert result.left_out == 0
    assert result.overall == 50


def test_small_perspectives_too_small_to_pool_are_left_out_and_counted():
    tally = {"police": answers(5, ALL_FOCUSSED), "young_person": answers(2, ALL_TARGETED)}
    result = score(tally, min_group=3)
    assert [group.key for group in result.groups] == ["police"]
    assert result.left_out == 2
    assert result.respondents == 7
    # The two young people's answers are not in the overall: it cannot be worked back.
    assert result.overall == 100


def test_no_answers_gives_no_position():
    result = score({})
    assert result.overall is None and result.groups == [] and result.respondents == 0


def test_a_programme_position_follows_from_its_initiatives():
    spread = scoring.spread_of([20, 40, 60, 80, None])
    assert spread.count == 4
    assert spread.mean == 50
    assert (spread.lowest, spread.highest, spread.median) == (20, 80, 50)
    assert spread.quartiles == (35, 65)


def test_weights_from_a_form_are_clamped_and_never_all_zero():
    assert weights_from({"w-police": "3", "w-young_person": "99", "w-researcher": "x"}) == {
        "police": 3, "young_person": 10}
    assert weights_from({"w-police": "-2"}) == {"police": 0}
    assert weights_from({key_: "0" for key_ in [f"w-{k}" for k in
                                                  [*PERSPECTIVES, scoring.POOLED]]}) == {}
    assert weights_from({"w-police": "nan"}) == {}
