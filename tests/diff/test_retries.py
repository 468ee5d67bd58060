"""Retries of an Idempotency-Key: compared with how the baseline answered them."""

from __future__ import annotations

import orjson

from shadowtape.diff.compare import Side
from shadowtape.diff.retries import Retries, idempotency_key, resource_id


def payment(id_: int, *, replayed: bool = False) -> Side:
    headers = [("Content-Type", "application/json")]
    if replayed:
        headers.append(("Idempotent-Replayed", "true"))
    return Side(201, headers, orjson.dumps({"id": id_}))


def test_the_key_and_the_resource() -> None:
    assert idempotency_key([("idempotency-KEY", "k1")]) == "k1"
    assert idempotency_key([("X-Other", "k1")]) is None
    assert resource_id(payment(7)) == "7"
    assert resource_id(Side(201, [("Location", "/p/9")], b"")) == "/p/9"


def test_a_candidate_that_charges_twice_differs_and_one_that_replays_does_not() -> None:
    retries = Retries()
    assert retries.check("POST /p", "k1", payment(1), payment(50)) is None  # first of its key
    twice = retries.check("POST /p", "k1", payment(1, replayed=True), payment(51))
    assert twice is not None and twice.kind == "duplicate_delivery"
    assert twice.baseline == {
        "status": 201,
        "same_resource": True,
        "replay_marker": "idempotent-replayed: true",
    }
    assert twice.candidate == {"status": 201, "same_resource": False, "replay_marker": None}
    retries.check("POST /p", "k2", payment(2), payment(60))
    assert (
        retries.check("POST /p", "k2", payment(2, replayed=True), payment(60, replayed=True))
        is None
    )
