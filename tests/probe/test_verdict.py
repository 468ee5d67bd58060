"""When an answer at once is a race: a difference at a location stable alone."""

from __future__ import annotations

import orjson

from shadowtape.diff.compare import Side
from shadowtape.probe.verdict import races, unstable

JSON = (("Content-Type", "application/json"),)


def _side(body: object, status: int = 200) -> Side:
    return Side(status=status, headers=JSON, body=orjson.dumps(body))


def test_a_location_that_varies_alone_is_not_a_race() -> None:
    varies = unstable(
        [
            (_side({"id": 1, "token": "a", "at": 1.0}), _side({"id": 1, "token": "b", "at": 2.0})),
            (_side({"id": 2, "token": "c", "at": 3.0}), _side({"id": 2, "token": "d", "at": 4.0})),
        ]
    )
    assert {loc for _, loc in varies} == {"$.token", "$.at"}
    alone = _side({"id": 1, "token": "a", "at": 1.0})
    assert races(alone, _side({"id": 1, "token": "z", "at": 9.0}), varies) == []


def test_a_stable_location_that_changes_at_once_is_a_race() -> None:
    varies = unstable([(_side({"id": 1, "items": [1]}), _side({"id": 1, "items": [1]}))])
    assert varies == set()
    found = races(_side({"id": 1, "items": [1]}), _side({"id": 2, "items": [1]}), varies)
    assert [
        (r.difference.location, r.difference.baseline, r.difference.candidate) for r in found
    ] == [("$.id", 1, 2)]


def test_an_error_at_once_where_alone_answered_is_a_race() -> None:
    alone = _side({"ok": True})
    (race,) = races(alone, Side(status=500, headers=JSON, body=b"{}"), set())
    assert race.difference.kind == "new_error"


def test_array_positions_fold_into_one_location() -> None:
    varies = unstable([(_side({"xs": [{"t": 1}, {"t": 2}]}), _side({"xs": [{"t": 3}, {"t": 4}]}))])
    assert races(_side({"xs": [{"t": 1}] * 3}), _side({"xs": [{"t": 5}] * 3}), varies) == []
