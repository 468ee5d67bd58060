"""An endpoint's latency in the report: findings, and latency_lag when sends waited."""

from __future__ import annotations

import random

from shadowtape.diff.analyze import AnalysisSettings, EndpointStats
from shadowtape.diff.latency import LatencySample
from shadowtape.diff.noise import NoiseModel
from shadowtape.report._latency import endpoint_latency
from shadowtape.report.build import _endpoint as build_endpoint

SETTINGS = AnalysisSettings()


def stats(*, lagged: int, slower_ms: float = 0.0) -> EndpointStats:
    rng = random.Random(1)
    ep = EndpointStats(method="GET", route="/x", noise=NoiseModel(), latency=LatencySample())
    for _ in range(100):
        base = rng.uniform(4, 6)
        ep.latency.add(round(base * 1000), round((base + slower_ms + rng.uniform(-1, 1)) * 1000))
    ep.compared = ep.live = ep.replayed = ep.requests = 100
    ep.lagged, ep.max_lag_us = lagged, 480_000
    return ep


def test_latency_of_requests_sent_late_is_not_verified_not_ok() -> None:
    latency, findings, notes, checked = endpoint_latency(stats(lagged=90), SETTINGS)
    assert latency is not None and findings == [] and checked is False
    (note,) = notes
    assert (note.reason, note.location, note.count) == ("latency_lag", "latency", 90)
    assert "90 of 100 requests were sent at least 10 ms late (up to 480 ms)" in note.detail


def test_a_slowdown_is_still_a_finding_when_sends_waited() -> None:
    _, findings, notes, checked = endpoint_latency(stats(lagged=90, slower_ms=30), SETTINGS)
    assert [f.location for f in findings][:1] == ["latency:p50"] and notes == [] and checked
    assert findings[0].message.startswith("p50 latency rose by +30.")


def test_a_few_late_sends_leave_latency_checked() -> None:
    _, findings, notes, checked = endpoint_latency(stats(lagged=5), SETTINGS)
    assert findings == [] and notes == [] and checked is True


def test_an_endpoint_whose_latency_was_not_verified_is_not_ok() -> None:
    endpoint = build_endpoint(stats(lagged=90), SETTINGS)
    assert endpoint.verdict == "unverified" and "latency" not in endpoint.checked
