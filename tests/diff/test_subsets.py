"""The slow subset: found and named when planted, never found in clean noise."""

from __future__ import annotations

import random

import pytest

from shadowtape.diff.latency import LatencySample, LatencySettings, analyze_latency
from shadowtape.diff.subsets import features, holm, mann_whitney_greater, slow_subsets

S = LatencySettings()
LIMITS = (10, 20, 20, 50)


def endpoint(seed: int, *, planted_ms: float = 0.0, n: int = 105, slow: int = 8) -> LatencySample:
    """Searches with jitter on both sides and a wait both targets shared (queueing for an
    earlier request): `slow` of them, spread over the run (every 13th), ask for limit=500
    and, if planted, are slower."""
    rng = random.Random(seed)
    sample = LatencySample(seed=seed)
    for i in range(n):
        limit = 500 if i % 13 == 0 and i < 13 * slow else rng.choice(LIMITS)
        service = rng.lognormvariate(2.3, 0.4) * (1.5 if limit == 500 else 1.0)  # ~10 ms
        shared_wait = rng.uniform(0, 500) if rng.random() < 0.8 else 0.0
        base = shared_wait + service + rng.expovariate(1 / 1.5)
        cand = shared_wait + service + rng.expovariate(1 / 1.5)
        if limit == 500:
            cand += planted_ms
        sample.add(
            round(base * 1000),
            round(cand * 1000),
            service_us=round((base - shared_wait) * 1000),
            features=features(f"q=term{rng.randrange(40)}&limit={limit}", 0),
            exchange_id=f"ex{i:03d}",
        )
    return sample


def test_a_planted_slowdown_on_a_subset_is_found_and_named() -> None:
    found = slow_subsets(endpoint(1, planted_ms=24), S)
    assert [s.name for s in found] == ["limit=500"]
    subset = found[0]
    assert (subset.size, subset.of) == (8, 105)
    assert 20 <= subset.shift_ms <= 28
    assert subset.describe().startswith("limit=500: +2")
    assert subset.describe().endswith("ms at p50, 8 of 105 requests")
    # Its examples are its own slowest pairs: every 13th, the limit=500 ones.
    assert len(subset.examples) == 5
    assert all(int(x.removeprefix("ex")) % 13 == 0 for x in subset.examples)
    # Shared waits of up to half a second do not hide it, nor make the endpoint slower.
    result = analyze_latency(endpoint(1, planted_ms=24), S)
    assert result is not None and result.regressions == []


@pytest.mark.parametrize("chunk", range(4))
def test_clean_noise_is_never_flagged(chunk: int) -> None:
    """Random jitter on both sides and shared waits, 200 endpoints: no false alarm."""
    for seed in range(chunk * 50, chunk * 50 + 50):
        sample = endpoint(seed)
        assert slow_subsets(sample, S) == [], seed
        result = analyze_latency(sample, S)
        assert result is not None and result.regressions == [], seed


def test_a_slowdown_on_every_request_survives_shared_waits() -> None:
    rng = random.Random(5)
    sample = LatencySample()
    for _ in range(200):
        wait = rng.uniform(0, 500)
        service = rng.lognormvariate(2.3, 0.3)
        sample.add(
            round((wait + service) * 1000),
            round((wait + service + 30 + rng.gauss(0, 1)) * 1000),
            service_us=round(service * 1000),
        )
    result = analyze_latency(sample, S)
    assert result is not None and "p50" in result.regressions
    assert 28 < result.shift["p50"].value < 32


def test_numeric_parameters_with_many_values_are_binned() -> None:
    rng = random.Random(7)
    sample = LatencySample()
    for _ in range(200):
        size = rng.randrange(1, 1000)
        base = rng.uniform(5, 7)
        cand = base + (25 if size > 750 else 0) + rng.uniform(-1, 1)
        sample.add(round(base * 1000), round(cand * 1000), features=features(f"size={size}", 0))
    names = [s.name for s in slow_subsets(sample, S)]
    assert len(names) == 1 and names[0].startswith("size in ")


def test_body_size_classes_are_features() -> None:
    assert features("", 0) == (("body", "empty"),)
    assert features("a=1&a=2&b=", 5000) == (("q:a", "1"), ("q:b", ""), ("body", "1-16 KB"))


def test_holm_and_the_rank_test() -> None:
    tested = [("a", [0], 0.001), ("b", [1], 0.02), ("c", [2], 0.06)]
    assert [name for name, _, _ in holm(tested, 0.05)] == ["a", "b"]  # adjusted: 0.003, 0.04, 0.06
    assert mann_whitney_greater([10, 11, 12, 13, 14], [1, 2, 3, 4, 5, 6]) < 0.01
    assert mann_whitney_greater([1, 2, 3], [10, 11, 12]) > 0.9


def test_a_candidate_pause_on_one_burst_is_not_a_slow_subset() -> None:
    """A cron client's 20 requests, sent together, meet a 30-request candidate pause (GC):
    no subset is slower in general, and the endpoint is not either."""
    rng = random.Random(3)
    sample = LatencySample(seed=1)
    for i in range(400):
        cron = 200 <= i < 220
        query = "source=cron&limit=50" if cron else f"source=web&limit={rng.choice(LIMITS)}"
        base = rng.lognormvariate(0, 0.3) * 20_000
        cand = rng.lognormvariate(0, 0.3) * 20_000 + (60_000 if 195 <= i < 225 else 0)
        sample.add(int(base), int(cand), features=features(query, 0), exchange_id=f"e{i}")
    assert slow_subsets(sample, S) == []
    result = analyze_latency(sample, S)
    assert result is not None and result.regressions == []
