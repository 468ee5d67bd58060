"""Retries of an Idempotency-Key: compared with how the baseline answered them."""

from __future__ import annotations

import orjson
import pytest

from shadowtape.diff import retries as retries_module
from shadowtape.diff.compare import Side
from shadowtape.diff.model import Difference
from shadowtape.diff.retries import UNTRACKED, Retries, idempotency_key, resource_id


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
        "replay_marker": "replayed",
    }
    assert twice.candidate == {"status": 201, "same_resource": False, "replay_marker": None}
    retries.check("POST /p", "k2", payment(2), payment(60))
    assert (
        retries.check("POST /p", "k2", payment(2, replayed=True), payment(60, replayed=True))
        is None
    )


def test_the_replay_marker_is_one_flag_whatever_other_headers_come_with_it() -> None:
    def answer(*extra: tuple[str, str]) -> Side:
        return Side(201, [("Content-Type", "application/json"), *extra], b'{"id": 1}')

    retries = Retries()
    retries.check("POST /p", "k", answer(), answer())
    base = answer(("Idempotent-Replayed", "true"))
    cand = answer(("X-Idempotency-Cache", "hit"), ("Idempotent-Replayed", "true"))
    assert retries.check("POST /p", "k", base, cand) is None
    stamped = answer(("Idempotent-Replayed", "true"), ("Idempotency-Expires-At", "22:01:04Z"))
    assert retries.check("POST /p", "k", base, stamped) is None
    not_replayed = answer(("Idempotent-Replayed", "false"))
    assert retries.check("POST /p", "k", base, not_replayed) is not None


def test_memory_is_bounded_and_a_forgotten_retry_is_reported_unchecked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(retries_module, "MAX_KEYS", 3)
    retries = Retries()
    for k in range(3):
        retries.check("POST /p", f"k{k}", payment(k), payment(k))
    retries.check("POST /p", "late", payment(9), payment(9))  # evicts k0, the oldest
    assert len(retries.first) == 3
    assert all(isinstance(v[0], tuple) for v in retries.first.values())  # no whole answers
    twice = retries.check("POST /p", "late", payment(9, replayed=True), payment(10))
    assert isinstance(twice, Difference) and twice.kind == "duplicate_delivery"
    assert retries.check("POST /p", "k0", payment(0), payment(0)) == UNTRACKED
