"""When answers at once are a race: they differ from the answer alone at a location
significantly more often than answers sent one at a time do."""

from __future__ import annotations

import random
from collections.abc import Callable

import orjson
import pytest

from shadowtape.diff.compare import Side
from shadowtape.probe.verdict import (
    ALPHA,
    Tally,
    fisher_greater,
    races,
    shared,
    suspects,
    tally,
)

JSON = (("Content-Type", "application/json"),)
K = 16

Answer = Callable[[int, str], object]


def _side(body: object, status: int = 200) -> Side:
    return Side(status=status, headers=JSON, body=orjson.dumps(body))


def _rounds(answer: Callable[[int, str], Side], seeds: int = 4, k: int = K) -> Tally:
    """The probe's rounds, simulated: references alone, k at once, the same k in a row."""
    alone = [answer(i, "alone") for i in range(seeds)]
    order = [i % seeds for i in range(max(seeds, k))]
    at_once = [(alone[i], answer(i, "concurrent")) for i in order]
    again = [(alone[i], answer(i, "again")) for i in order]
    return tally(again, at_once)


def _found(t: Tally) -> list[str]:
    return [pattern for _, pattern in races(t, len(suspects(t)))]


def test_fisher_one_sided_matches_the_hypergeometric_tail() -> None:
    assert fisher_greater(0, 16, 0, 16) == 1.0
    assert fisher_greater(16, 16, 0, 16) == pytest.approx(1 / 601_080_390)
    assert fisher_greater(2, 16, 0, 16) == pytest.approx(120 / 496)
    assert fisher_greater(3, 16, 3, 16) > 0.5


def test_a_location_that_varies_alone_as_often_is_not_a_race() -> None:
    clock = iter(range(10_000))

    def answer(i: int, stage: str) -> Side:
        return _side({"id": i, "token": random.random(), "at": next(clock)})

    t = _rounds(answer)
    assert {pattern for _, pattern in t.at} == {"$.token", "$.at"}
    assert _found(t) == []


def test_a_stable_location_that_changes_at_once_is_a_race() -> None:
    def answer(i: int, stage: str) -> Side:
        return _side({"id": i + 1 if stage == "concurrent" else i, "items": [1]})

    assert _found(_rounds(answer)) == ["$.id"]


def test_a_crash_at_once_is_a_race_only_if_more_frequent_than_alone() -> None:
    def crashes_at_once(i: int, stage: str) -> Side:
        return _side({}, 500) if stage == "concurrent" else _side({"ok": True})

    (where,) = races(t := _rounds(crashes_at_once), len(suspects(t)))
    assert t.at[where].example is not None and t.at[where].example[1].kind == "new_error"

    def crashes_now_and_then(i: int, stage: str) -> Side:
        return _side({}, 500) if rng.random() < 0.2 else _side({"ok": True})

    for seed in range(30):
        rng = random.Random(seed)
        assert _found(_rounds(crashes_now_and_then)) == [], seed


@pytest.mark.parametrize(
    "shed",
    [_side({"error": "busy"}, 503), _side({}, 429), Side(status=None, error_kind="reset")],
    ids=["503", "429", "reset"],
)
def test_overload_at_once_is_counted_as_overload_not_a_race(shed: Side) -> None:
    def answer(i: int, stage: str) -> Side:
        return shed if stage == "concurrent" and i % 2 else _side({"id": i})

    t = _rounds(answer)
    assert _found(t) == []
    assert (t.overloaded, t.concurrent, t.sequential) == (8, 8, 16)


def test_one_differing_answer_is_never_a_race() -> None:
    def answer(i: int, stage: str) -> Side:
        return _side({"v": 1 if stage == "concurrent" and i == 0 else 0})

    t = _rounds(answer, seeds=4, k=4)
    assert suspects(t) == [] and races(t, 1, alpha=1.0) == []


def test_array_positions_fold_into_one_location() -> None:
    def answer(i: int, stage: str) -> Side:
        return _side({"xs": [{"t": random.random()}] * 3})

    t = _rounds(answer)
    assert {pattern for _, pattern in t.at} == {"$.xs[*].t"}
    assert _found(t) == []


def _replica(rng: random.Random) -> Callable[[int, str], Side]:
    return lambda i, stage: _side({"id": i, "served_by": "b" if rng.random() < 0.1 else "a"})


def _two_tags(rng: random.Random) -> Callable[[int, str], Side]:
    return lambda i, stage: _side({"id": i, "tags": rng.sample(["x", "y"], 2)})


@pytest.mark.parametrize("make", [_replica, _two_tags], ids=["replica-10pc", "two-tag-order"])
@pytest.mark.parametrize("seeds", [2, 5, 20])
def test_noise_that_shows_only_sometimes_is_not_a_race(
    make: Callable[[random.Random], Callable[[int, str], Side]], seeds: int
) -> None:
    # The test's false-alarm rate is at most ALPHA (1%) per run: at most 2% of 200 runs.
    alarms = sum(bool(_found(_rounds(make(random.Random(run)), seeds=seeds))) for run in range(200))
    assert alarms <= 4


def test_a_race_at_another_location_than_the_baselines_is_the_candidates() -> None:
    def base(i: int, stage: str) -> Side:
        return _side({"balance": 100, "served_by": "b" if stage == "concurrent" else "a"})

    def cand(i: int, stage: str) -> Side:
        return _side({"balance": 90 if stage == "concurrent" else 100, "served_by": "a"})

    candidate, baseline = _rounds(cand), _rounds(base)
    (where,) = races(candidate, len(suspects(candidate)))
    assert where[1] == "$.balance"
    assert not shared(candidate, baseline, where)


def test_a_race_the_baseline_shows_as_often_is_shared() -> None:
    def racy(i: int, stage: str) -> Side:
        return _side({"balance": 90 if stage == "concurrent" and i % 4 else 100})

    candidate, baseline = _rounds(racy), _rounds(racy)
    (where,) = races(candidate, 1)
    assert shared(candidate, baseline, where)


def test_a_race_the_baseline_shows_far_less_often_is_the_candidates() -> None:
    def always(i: int, stage: str) -> Side:
        return _side({"balance": 90 if stage == "concurrent" else 100})

    def rarely(i: int, stage: str) -> Side:
        return _side({"balance": 90 if stage == "concurrent" and i < 2 else 100})

    candidate = _rounds(always, seeds=32, k=32)
    baseline = _rounds(rarely, seeds=32, k=32)
    (where,) = races(candidate, 1)
    assert baseline.at[where].concurrent == 2
    assert not shared(candidate, baseline, where, alpha=ALPHA)
