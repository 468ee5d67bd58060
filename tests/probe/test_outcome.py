"""A probe's Outcome in probes.json's shape, a finding's example and quoted values."""

from __future__ import annotations

from typing import Any, cast

from shadowtape.probe.outcome import VALUE_CHARS, Outcome, example, short
from shadowtape.probe.sample import Seed
from shadowtape.replay.http.client import Reply


class _Sender:
    def __init__(self, role: str, stopped: str | None = None) -> None:
        self.role, self.stopped, self.sent = role, stopped, 0

    def check(self) -> str | None:
        return self.stopped


def test_an_outcome_carries_its_name_targets_and_settings() -> None:
    senders = cast(Any, [_Sender("candidate"), _Sender("baseline")])
    outcome = Outcome.start("scale", senders, sample=5, scale_max=100)
    assert outcome.to_json() == {
        "name": "scale",
        "targets": ["candidate", "baseline"],
        "settings": {"sample": 5, "scale_max": 100},
        "endpoints": 0,
        "sent": {},
        "findings": [],
        "unverified": [],
        "stopped": [],
        "exchanges": "probes/exchanges.jsonl",
    }


def test_a_stopped_target_is_noted_once() -> None:
    outcome = Outcome.start("concurrency", [], sample=5)
    failing = cast(Any, _Sender("candidate", "candidate: stopped early"))
    outcome.check(failing)
    outcome.check(failing)
    outcome.check(cast(Any, _Sender("baseline")))
    assert outcome.stopped == ["candidate: stopped early"]


def test_an_example_holds_the_request_and_both_answers() -> None:
    seed = Seed("s1", "POST", "h", "/a", "q=1", (("X-A", "1"),), b"")
    reply = Reply(0, 0, 200, "", (), b"{}", 2)
    shown = example(seed, reply, reply)
    assert list(shown) == ["request", "seed", "alone", "concurrent"]
    assert shown["seed"] == "s1"
    assert shown["request"] == {
        "method": "POST",
        "url": seed.url,
        "headers": [["X-A", "1"]],
        "body": None,
    }


def test_a_long_value_is_cut() -> None:
    assert short("abc") == "'abc'"
    cut = short("x" * 500)
    assert len(cut) == VALUE_CHARS and cut.endswith("…")
