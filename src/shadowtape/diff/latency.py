"""Paired latency comparison per endpoint: percentiles, paired shifts, bootstrap confidence.

Each replayed request gives a (baseline, candidate) pair sent at the same moment, so the
comparison is made on the pairs: the p50 shift is the median of the per-request
differences (candidate minus baseline), so that a wait both targets shared cancels out,
and the p95 shift is the difference of the two sides' p95 over the same requests. Memory
stays bounded: a seeded reservoir keeps a uniform sample of the pairs (with each request's
features, for ``diff.subsets``), and a fixed log-spaced histogram counts every pair.
A shift is flagged only when it is large (at least ``min_ms`` and ``ratio - 1`` of the
baseline's own service time) and significant by an exact paired test: p50 by a sign test
on the differences, p95 by a sign test on the pairs where one side only lies above the
pooled p95 (judged only with ``_TAIL_SAMPLES`` pairs above it). Within a pair the two sides
are exchangeable when the builds are identical, which makes both tests exact. A pause of
the candidate (GC) slows a burst of consecutive requests only, so the test is repeated
without each few neighbouring blocks of time (``bursts``) and the largest p counts. The
p-values are corrected with Holm over the endpoint here, and over the whole run by
``report._latency``; the bootstrap only describes the intervals shown. With a secondary,
the baseline-vs-secondary shift is measured the same way and the candidate must exceed
the thresholds by that much more: latency noise, measured. The ratio of the percentiles
is still reported, with its paired bootstrap interval.
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
#: A percentile is judged only with at least this many samples above it (p95: 200 pairs).
_TAIL_SAMPLES = 10
#: Family-wise error rate of one endpoint's percentile tests (Holm); a run uses its own.
ALPHA = 0.01
#: Blocks of consecutive requests (replay order) at most, each of at least BLOCK_SIZE.
BLOCKS = 8
BLOCK_SIZE = 10
#: Neighbouring blocks a burst may span (at most half of them).
BURST_BLOCKS = 2
BOOTSTRAP = 200
PERCENTILES = (("p50", 0.50), ("p95", 0.95), ("p99", 0.99))
#: Histogram edges in ms: 0.1 ms to ~100 s, four bins per doubling.
EDGES_MS = [round(0.1 * 2 ** (i / 4), 4) for i in range(0, 81)]
#: A request's features (``diff.subsets``): ("q:limit", "500") or ("body", "1-16 KB").
Features = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class LatencySettings:
    ratio: float = 1.2
    min_ms: float = 5.0
    confidence: float = 0.95
    min_pairs: int = 10


@dataclass(slots=True)
class LatencySample:
    """Baseline and candidate latencies of one endpoint's requests, in microseconds.

    ``pairs[i]`` has the baseline's service time in ``service[i]`` (None when unknown),
    the request's features in ``features[i]`` and its exchange id in ``ids[i]``."""

    seed: int = 0
    seen: int = 0
    pairs: list[tuple[int, int]] = field(default_factory=list)
    service: list[int | None] = field(default_factory=list)
    features: list[Features] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    #: The arrival rank of each kept pair (replay order), for blocks of time.
    order: list[int] = field(default_factory=list)
    hist_baseline: list[int] = field(default_factory=lambda: [0] * (len(EDGES_MS) + 1))
    hist_candidate: list[int] = field(default_factory=lambda: [0] * (len(EDGES_MS) + 1))
    _rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self._rng.seed(self.seed)

    def add(
        self,
        baseline_us: int,
        candidate_us: int,
        *,
        service_us: int | None = None,
        features: Features = (),
        exchange_id: str = "",
    ) -> None:
        rank = self.seen
        self.seen += 1
        if len(self.pairs) < RESERVOIR:
            self.order.append(rank)
            self.pairs.append((baseline_us, candidate_us))
            self.service.append(service_us)
            self.features.append(features)
            self.ids.append(exchange_id)
        else:
            j = self._rng.randrange(self.seen)
            if j < RESERVOIR:
                self.pairs[j] = (baseline_us, candidate_us)
                self.order[j] = rank
                self.service[j] = service_us
                self.features[j] = features
                self.ids[j] = exchange_id
        self.hist_baseline[bisect.bisect_right(EDGES_MS, baseline_us / 1000)] += 1
        self.hist_candidate[bisect.bisect_right(EDGES_MS, candidate_us / 1000)] += 1

    def add_candidate_only(self, candidate_us: int) -> None:
        self.hist_candidate[bisect.bisect_right(EDGES_MS, candidate_us / 1000)] += 1

    def differences_ms(self) -> list[float]:
        """Candidate minus baseline per kept pair, in ms."""
        return [(c - b) / 1000 for b, c in self.pairs]

    def reference_ms(self, q: float, indices: Sequence[int] | None = None) -> float:
        """The baseline's own time at quantile `q`: its service time where known (a wait
        before sending is not the baseline's), else its latency."""
        chosen = range(len(self.pairs)) if indices is None else indices
        values = []
        for i in chosen:
            service = self.service[i] if i < len(self.service) else None
            values.append((service if service is not None else self.pairs[i][0]) / 1000)
        return percentile(sorted(values), q)


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
class Shift:
    """How much slower the candidate is at a percentile, in ms, with its interval."""

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
    #: The paired shift per judged percentile (p50: median of the differences).
    shift: dict[str, Shift] = field(default_factory=dict)
    #: One-sided p-value of every judged percentile (exact paired sign test), uncorrected.
    p_values: dict[str, float] = field(default_factory=dict)
    #: Judged percentiles whose shift is large, significant or not.
    large: list[str] = field(default_factory=list)


def analyze_latency(
    sample: LatencySample,
    settings: LatencySettings,
    *,
    compare: bool = True,
    noise: LatencySample | None = None,
) -> LatencyResult | None:
    """Percentiles of both sides, their ratio and paired shift; None with no pairs at all.

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
        low, high = boot.ratio.get(name, (value, value))
        ratios[name] = Ratio(value, low, high)
    shifts = {
        name: Shift(_shift(sample.pairs, q), *boot.shift.get(name, (0.0, 0.0)))
        for name, q in PERCENTILES[:2]
    }
    sec_ms: dict[str, float] | None = None
    aa_ms = {name: 0.0 for name, _ in PERCENTILES}
    if noise is not None and len(noise.pairs) >= settings.min_pairs:
        ns = sorted(p[1] for p in noise.pairs)
        sec_ms = {name: percentile(ns, q) / 1000 for name, q in PERCENTILES}
        for name, q in PERCENTILES[:2]:
            aa_ms[name] = max(0.0, _shift(noise.pairs, q))
    p_values: dict[str, float] = {}
    big: list[str] = []
    if n >= settings.min_pairs:
        for name, q in PERCENTILES[:2]:
            if q > 0.5 and n * (1 - q) < _TAIL_SAMPLES:
                continue  # too few samples above this percentile: not judged
            p_values[name] = without_a_burst(sample, q)
            if large(shifts[name].value - aa_ms[name], sample.reference_ms(q), settings):
                big.append(name)
    adjusted = holm_adjust(list(p_values.values()))
    significant = {name for name, p in zip(p_values, adjusted, strict=True) if p <= ALPHA}
    flagged = [name for name in big if name in significant]
    return LatencyResult(n, base_ms, cand_ms, ratios, flagged, sec_ms, shifts, p_values, big)


def time_blocks(sample: LatencySample) -> list[list[int]]:
    """Indices of the kept pairs cut into blocks of consecutive arrival, equal counts."""
    n = len(sample.pairs)
    order = sample.order if len(sample.order) == n else list(range(n))
    ranked = sorted(range(n), key=lambda i: order[i])
    count = max(1, min(BLOCKS, n // BLOCK_SIZE))
    return [ranked[b * n // count : (b + 1) * n // count] for b in range(count)]


def bursts(blocks: Sequence[list[int]]) -> list[list[list[int]]]:
    """The blocks left without each window of neighbouring blocks a burst may span; just
    the blocks when there are too few to leave any out."""
    width = min(BURST_BLOCKS, len(blocks) // 2)
    if len(blocks) < 4:
        return [list(blocks)]
    return [
        [block for k, block in enumerate(blocks) if not b <= k < b + width]
        for b in range(len(blocks) - width + 1)
    ]


def without_a_burst(sample: LatencySample, q: float) -> float:
    """The largest `paired_p` over the sample without any burst of neighbouring blocks:
    an excess confined to one burst of requests is not significant."""
    worst = 0.0
    for kept in bursts(time_blocks(sample)):
        worst = max(worst, paired_p([sample.pairs[i] for block in kept for i in block], q))
    return worst


def paired_p(pairs: Sequence[tuple[int, int]], q: float) -> float:
    """One-sided exact p-value that the candidate is slower at quantile `q`.

    p50: a sign test on the differences. A tail: the pairs with exactly one side above
    the pooled quantile, candidate above vs baseline above, by the same sign test.
    Swapping the sides of a pair changes neither the pooled quantile nor the count of such
    pairs, so under identical builds each is the candidate's with probability 1/2."""
    if q == 0.5:
        up = sum(1 for b, c in pairs if c > b)
        down = sum(1 for b, c in pairs if c < b)
    else:
        cut = percentile(sorted(v for pair in pairs for v in pair), q)
        up = sum(1 for b, c in pairs if c > cut >= b)
        down = sum(1 for b, c in pairs if b > cut >= c)
    return sign_test(up, up + down)


def sign_test(k: int, n: int) -> float:
    """P(X >= k) for X ~ Binomial(n, 1/2), exactly."""
    if k <= 0:
        return 1.0
    tail: int = sum(math.comb(n, i) for i in range(k, n + 1))
    return float(tail / 2**n)


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given."""
    m = len(p_values)
    out = [1.0] * m
    running = 0.0
    for k, i in enumerate(sorted(range(m), key=lambda j: p_values[j])):
        running = min(1.0, max(running, p_values[i] * (m - k)))
        out[i] = running
    return out


def large(shift_ms: float, reference_ms: float, settings: LatencySettings) -> bool:
    """At least ``min_ms``, and at least ``ratio - 1`` of the baseline's own time."""
    if math.isnan(reference_ms):
        reference_ms = 0.0
    return shift_ms >= max(settings.min_ms, (settings.ratio - 1) * reference_ms)


def _shift(pairs: Sequence[tuple[int, int]], q: float) -> float:
    """p50: the median of the paired differences; a tail: the difference of the tails."""
    if q == 0.5:
        return percentile(sorted((c - b) / 1000 for b, c in pairs), 0.5)
    base = sorted(p[0] for p in pairs)
    cand = sorted(p[1] for p in pairs)
    return (percentile(cand, q) - percentile(base, q)) / 1000


def _ratio(candidate: float, baseline: float) -> float:
    if baseline <= 0:
        return math.inf if candidate > 0 else 1.0
    return candidate / baseline


@dataclass(slots=True)
class _Intervals:
    ratio: dict[str, tuple[float, float]] = field(default_factory=dict)
    shift: dict[str, tuple[float, float]] = field(default_factory=dict)


def _bootstrap(pairs: list[tuple[int, int]], confidence: float, rng: random.Random) -> _Intervals:
    if len(pairs) > BOOTSTRAP_PAIRS:
        pairs = rng.sample(pairs, BOOTSTRAP_PAIRS)
    n = len(pairs)
    out = _Intervals()
    if n < 2:
        return out
    ratios: dict[str, list[float]] = {name: [] for name, _ in PERCENTILES}
    shifts: dict[str, list[float]] = {name: [] for name, _ in PERCENTILES[:2]}
    indices = range(n)
    for _ in range(BOOTSTRAP):
        chosen = [pairs[i] for i in rng.choices(indices, k=n)]
        base = sorted(p[0] for p in chosen)
        cand = sorted(p[1] for p in chosen)
        for name, q in PERCENTILES:
            ratios[name].append(_ratio(percentile(cand, q), percentile(base, q)))
        for name, q in PERCENTILES[:2]:
            shifts[name].append(_shift(chosen, q))
    tail = (1 - confidence) / 2
    for target, draws in ((out.ratio, ratios), (out.shift, shifts)):
        for name, values in draws.items():
            values.sort()
            target[name] = (percentile(values, tail), percentile(values, 1 - tail))
    return out
