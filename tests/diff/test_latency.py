"""Latency: flagged only when large and significant, with a bounded sample."""

from __future__ import annotations

import random

from shadowtape.diff.latency import (
    RESERVOIR,
    LatencySample,
    LatencySettings,
    analyze_latency,
    holm_adjust,
    paired_p,
    sign_test,
)

S = LatencySettings()


def sample(pairs: list[tuple[int, int]]) -> LatencySample:
    s = LatencySample()
    for b, c in pairs:
        s.add(b, c)
    return s


def test_a_large_consistent_slowdown_is_flagged_with_a_confidence_interval() -> None:
    rng = random.Random(1)
    pairs = [(b, b + 30_000) for b in (rng.randint(2_000, 4_000) for _ in range(200))]
    result = analyze_latency(sample(pairs), S)
    assert result is not None and result.regressions == ["p50", "p95"]
    assert 1.0 < result.ratio["p50"].low <= result.ratio["p50"].value <= result.ratio["p50"].high


def test_small_or_insignificant_changes_are_not_flagged() -> None:
    rng = random.Random(2)
    # +50% but only +1 ms: not large in milliseconds.
    small = [(2_000, 3_000) for _ in range(100)]
    assert analyze_latency(sample(small), S).regressions == []  # type: ignore[union-attr]
    # Same distribution on both sides, one wild outlier in the candidate.
    same = [(rng.randint(1_000, 3_000), rng.randint(1_000, 3_000)) for _ in range(12)]
    same[3] = (same[3][0], 900_000)
    assert analyze_latency(sample(same), S).regressions == []  # type: ignore[union-attr]


def test_memory_is_bounded() -> None:
    s = sample([(i, i) for i in range(RESERVOIR * 3)])
    assert len(s.pairs) == RESERVOIR and s.seen == RESERVOIR * 3
    assert sum(s.hist_baseline) == RESERVOIR * 3


def test_a_slowdown_the_secondary_shows_too_is_noise() -> None:
    rng = random.Random(3)
    base = [rng.randint(2_000, 4_000) for _ in range(200)]
    slow = sample([(b, b + 10_000) for b in base])
    assert analyze_latency(slow, S).regressions == ["p50", "p95"]  # type: ignore[union-attr]
    secondary = sample([(b, b + 9_000) for b in base])
    result = analyze_latency(slow, S, noise=secondary)
    assert result is not None and result.regressions == []
    assert result.secondary_ms is not None and result.secondary_ms["p50"] > 10


def test_a_tail_is_judged_only_with_ten_samples_above_it() -> None:
    rng = random.Random(4)
    pairs = [(b, b + 30_000) for b in (rng.randint(2_000, 4_000) for _ in range(199))]
    result = analyze_latency(sample(pairs), S)
    assert result is not None and result.regressions == ["p50"]
    assert set(result.p_values) == {"p50"}  # p95: not judged on 199 pairs


def test_the_paired_tests_are_exact() -> None:
    assert sign_test(0, 10) == 1.0
    assert sign_test(10, 10) == 2**-10
    assert sign_test(9, 10) == 11 / 1024
    assert holm_adjust([0.04, 0.001, 0.02]) == [0.04, 0.003, 0.04]
    same = [(1_000 + i, 1_000 + i) for i in range(300)]
    assert paired_p(same, 0.5) == 1.0 and paired_p(same, 0.95) == 1.0
