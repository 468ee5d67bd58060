"""The reasons every probe gives for an endpoint it could not verify."""

from __future__ import annotations

from shadowtape.probe.sample import EndpointSample
from shadowtape.probe.unverified import mutating_not_allowed, not_sent, stopped_early


def test_not_sent_says_why_the_replay_skipped_the_requests() -> None:
    entry = EndpointSample("GET /a", skipped={"unsafe": 2, "filtered": 1})
    assert not_sent(entry) == {
        "reason": "not_sent",
        "location": "GET /a",
        "count": None,
        "detail": "the replay sent none of its requests (1 filtered, 2 unsafe)",
    }


def test_mutating_not_allowed_names_the_flag_and_counts() -> None:
    found = mutating_not_allowed(EndpointSample("POST /a"), 3)
    assert found["reason"] == "mutating_not_allowed" and found["count"] == 3
    assert "--allow-mutating" in str(found["detail"])


def test_stopped_early_is_a_failing_target() -> None:
    assert stopped_early("GET /a")["reason"] == "target_failing"
