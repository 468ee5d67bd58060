"""Paired latency comparison per endpoint: percentiles, ratio, bootstrap confidence.

Each replayed request gives a (baseline, candidate) pair measured under the same load, so
the pairs are resampled together (a paired bootstrap), which cancels much of the shared
jitter. Memory stays bounded: a seeded reservoir keeps a uniform sample of the pairs for
the percentiles and the bootstrap, and a fixed log-spaced histogram counts every pair.
A change is flagged only when it is large (ratio and milliseconds, at p50 or p95) and
significant (the confidence interval of the ratio lies above 1). With a secondary, the
baseline-vs-secondary difference at the same percentile is measured too, and the
candidate must exceed the thresholds by that much more: latency noise, measured.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

RESERVOIR = 2_000
#: The bootstrap resamples at most this many of the kept pairs, this many times.
BOOTSTRAP_PAIRS = 1_000
#: A percentile is judged only with at least this many samples above it (p95: 40 pairs).
_TAIL_SAMPLES = 2
BOOTSTRAP = 200
PERCENTILES = (("p50", 0.50), ("p95", 0.95), ("p99", 0.99))
#: Histogram edges in ms: 0.1 ms to ~100 s, four bins per doubling.
EDGES_MS = [round(0.1 * 2 ** (i / 4), 4) for i in range(0, 81)]


@dataclass(frozen=True, slots=True)
class LatencySettings:
    ratio: float = 1.2
    min_ms: float = 5.0
    confidence: float = 0.95
    min_pairs: int = 10


@dataclass(slots=True)
class LatencySample:
    """Baseline and candidate latencies of one endpoint's requests, in microseconds."""

    seed: int = 0
    seen: int = 0
    pairs: list[tuple[int, int]] = field(default_factory=list)
    hist_baseline: list[int] = field(default_factory=lambda: [0] * (len(EDGES_MS) + 1))
    hist_candidate: list[int] = field(default_factory=lambda: [0] * (len(EDGES_MS) + 1))
    _rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self._rng.seed(self.seed)

    def add(self, baseline_us: int, candidate_us: int) -> None:
        self.seen += 1
        if len(self.pairs) < RESERVOIR:
            self.pairs.append((baseline_us, candidate_us))
        else:
            j = self._rng.randrange(self.seen)
            if j < RESERVOIR:
                self.pairs[j] = (baseline_us, candidate_us)
        self.hist_baseline[bisect.bisect_right(EDGES_MS, baseline_us / 1000)] += 1
        self.hist_candidate[bisect.bisect_right(EDGES_MS, candidate_us / 1000)] += 1

    def add_candidate_only(self, candidate_us: int) -> None:
        self.hist_candidate[bisect.bisect_right(EDGES_MS, candidate_us / 1000)] += 1


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile of sorted values."""
    if not sorted_values:
        return math.nan
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


@dataclass(frozen=True, slots=True)
class Ratio:
    value: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class LatencyResult:
    pairs: int
    baseline_ms: dict[str, float]
    candidate_ms: dict[str, float]
    ratio: dict[str, Ratio]
    #: Percentile names ("p50", "p95") where the change is large and significant.
    regressions: list[str]
    #: The secondary's percentiles (A/A), when measured on enough pairs.
    secondary_ms: dict[str, float] | None = None


def analyze_latency(
    sample: LatencySample,
    settings: LatencySettings,
    *,
    compare: bool = True,
    noise: LatencySample | None = None,
) -> LatencyResult | None:
    """Percentiles of both sides and their ratio; None with no pairs at all.

    With `compare` False (a recorded baseline) only the percentiles are computed.
    """
    n = len(sample.pairs)
    if n == 0:
        return None
    base = sorted(p[0] for p in sample.pairs)
    cand = sorted(p[1] for p in sample.pairs)
    base_ms = {name: percentile(base, q) / 1000 for name, q in PERCENTILES}
    cand_ms = {name: percentile(cand, q) / 1000 for name, q in PERCENTILES}
    if not compare:
        return LatencyResult(n, base_ms, cand_ms, {}, [])
    boot = _bootstrap(sample.pairs, settings.confidence, random.Random(sample.seed + 1))
    ratios: dict[str, Ratio] = {}
    for name, _ in PERCENTILES:
        value = _ratio(cand_ms[name], base_ms[name])
        low, high = boot.get(name, (value, value))
        ratios[name] = Ratio(value, low, high)
    sec_ms: dict[str, float] | None = None
    aa_ratio = {name: 1.0 for name, _ in PERCENTILES}
    aa_ms = {name: 0.0 for name, _ in PERCENTILES}
    if noise is not None and len(noise.pairs) >= settings.min_pairs:
        nb = sorted(p[0] for p in noise.pairs)
        ns = sorted(p[1] for p in noise.pairs)
        sec_ms = {name: percentile(ns, q) / 1000 for name, q in PERCENTILES}
        for name, q in PERCENTILES:
            base_q = percentile(nb, q) / 1000
            aa_ratio[name] = max(1.0, _ratio(sec_ms[name], base_q))
            aa_ms[name] = max(0.0, sec_ms[name] - base_q)
    flagged: list[str] = []
    if n >= settings.min_pairs:
        for name, q in PERCENTILES[:2]:
            if n * (1 - q) < _TAIL_SAMPLES:
                continue  # too few samples above this percentile to estimate it
            r = ratios[name]
            if (
                r.value >= settings.ratio * aa_ratio[name]
                and cand_ms[name] - base_ms[name] >= settings.min_ms + aa_ms[name]
                and r.low > 1.0
            ):
                flagged.append(name)
    return LatencyResult(n, base_ms, cand_ms, ratios, flagged, sec_ms)


def _ratio(candidate: float, baseline: float) -> float:
    if baseline <= 0:
        return math.inf if candidate > 0 else 1.0
    return candidate / baseline


def _bootstrap(
    pairs: list[tuple[int, int]], confidence: float, rng: random.Random
) -> dict[str, tuple[float, float]]:
    if len(pairs) > BOOTSTRAP_PAIRS:
        pairs = rng.sample(pairs, BOOTSTRAP_PAIRS)
    n = len(pairs)
    if n < 2:
        return {}
    draws: dict[str, list[float]] = {name: [] for name, _ in PERCENTILES}
    indices = range(n)
    for _ in range(BOOTSTRAP):
        chosen = rng.choices(indices, k=n)
        base = sorted(pairs[i][0] for i in chosen)
        cand = sorted(pairs[i][1] for i in chosen)
        for name, q in PERCENTILES:
            draws[name].append(_ratio(percentile(cand, q), percentile(base, q)))
    tail = (1 - confidence) / 2
    out: dict[str, tuple[float, float]] = {}
    for name, values in draws.items():
        values.sort()
        out[name] = (percentile(values, tail), percentile(values, 1 - tail))
    return out
