"""An endpoint's latency in the report: findings, and latency_lag when sends waited."""

from __future__ import annotations

import random

import pytest

import shadowtape.diff.latency as latency_module
from shadowtape.diff.analyze import AnalysisSettings, EndpointStats
from shadowtape.diff.latency import LatencySample
from shadowtape.diff.noise import NoiseModel
from shadowtape.diff.subsets import features
from shadowtape.report._latency import endpoint_latency, judge_run
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


def simulated_run(seed: int, endpoints: int = 12) -> list[EndpointStats]:
    """Identical builds: independent heavy-tailed jitter on both sides, waits both shared,
    and one candidate-only pause (GC) on a burst of one endpoint's requests that a cron
    client sent together."""
    rng = random.Random(seed)
    out = []
    paused = rng.randrange(endpoints)
    for e in range(endpoints):
        ep = EndpointStats(
            method="GET", route=f"/e{e}", noise=NoiseModel(), latency=LatencySample(seed=e)
        )
        n = rng.choice((150, 250, 400)) if e == paused else rng.choice((40, 80, 150, 250))
        median = rng.uniform(2, 40)
        sigma = rng.uniform(0.3, 0.8)
        burst = rng.randrange(n - 20)
        for i in range(n):
            cron = e == paused and burst <= i < burst + 20
            query = "source=cron&limit=50" if cron else f"source=web&limit={rng.choice(LIMITS)}"
            wait = rng.uniform(0, 300) if rng.random() < 0.3 else 0.0
            base = median * rng.lognormvariate(0, sigma)
            cand = median * rng.lognormvariate(0, sigma) + (60.0 if cron else 0.0)
            ep.latency.add(
                round((wait + base) * 1000),
                round((wait + cand) * 1000),
                service_us=round(base * 1000),
                features=features(query, 0),
            )
        ep.compared = ep.live = ep.replayed = ep.requests = n
        out.append(ep)
    return out


LIMITS = (10, 20, 50)


@pytest.mark.parametrize("chunk", range(4))
def test_identical_builds_raise_no_latency_finding_in_a_run(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """200 runs of 12 endpoints each: the run-wide correction keeps every run clean."""
    monkeypatch.setattr(latency_module, "BOOTSTRAP", 2)  # intervals only; not the verdict
    for seed in range(chunk * 50, chunk * 50 + 50):
        run = judge_run(simulated_run(seed), SETTINGS)
        found = {k: (r.regressions, s) for k, (r, s) in run.judged.items() if r.regressions or s}
        assert found == {}, seed
