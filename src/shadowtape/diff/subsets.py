"""The slow subset: requests of one endpoint that share a feature and got slower together.

A regression that touches only some requests (the searches with ``limit=500``, the
uploads over a megabyte) hides in an endpoint's p50. Each request is described by its
features: every query parameter's value, the range of a numeric parameter with many
values (quartile bins of the sample), and its body-size class. Every feature value held
by enough requests is a subset, tested against the endpoint's other requests on the
paired differences (candidate minus baseline). Requests recorded together replay together,
so a short pause of the candidate (GC, compaction) can land on one parameter value's
burst: the test is blocked in time (van Elteren: a one-sided rank-sum test within each
block of consecutive requests, combined), repeated without each burst of neighbouring
blocks (``latency.bursts``, the largest p counts), and the subset must be slower than the
rest in at least two blocks that are not neighbours. Holm's correction covers the subsets tried
(``ALPHA`` here; ``report._latency`` puts them in the run's family). A subset is flagged
when significant and its median difference is large (``latency.large``).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from urllib.parse import parse_qsl

from shadowtape.diff.latency import (
    Features,
    LatencySample,
    LatencySettings,
    bursts,
    holm_adjust,
    large,
    percentile,
    time_blocks,
)

#: Family-wise error rate of one endpoint's subset search alone (Holm); a run corrects
#: every endpoint's tests together (``report._latency``).
ALPHA = 0.01
#: A subset, and the rest, need at least this many requests to be tested.
MIN_SUBSET = 5
#: Distinct values above which a numeric parameter is cut into quartile bins instead.
MAX_VALUES = 12
#: Example exchanges named per slow subset.
EXAMPLES = 5
#: Subsets tried per endpoint at most (the most common first).
MAX_SUBSETS = 40
_BODY_CLASSES = (
    (0, "empty"),
    (1024, "under 1 KB"),
    (16 * 1024, "1-16 KB"),
    (256 * 1024, "16-256 KB"),
)


def features(query: str | None, body_size: int | None) -> Features:
    """A request's features: ("q:<name>", value) per query parameter, ("body", class)."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name, value in parse_qsl(query or "", keep_blank_values=True):
        if name not in seen:  # a repeated parameter: its first value
            seen.add(name)
            out.append((f"q:{name}", value[:64]))
    if body_size is not None:
        out.append(("body", body_class(body_size)))
    return tuple(out)


def body_class(size: int) -> str:
    for limit, name in _BODY_CLASSES:
        if size <= limit:
            return name
    return "over 256 KB"


@dataclass(frozen=True, slots=True)
class SlowSubset:
    """``limit=500: +24 ms at p50, 8 of 105 requests``."""

    name: str
    size: int
    of: int
    shift_ms: float
    #: Holm-adjusted one-sided p-value.
    p_value: float
    #: The subset's p50 on each side.
    baseline_ms: float = 0.0
    candidate_ms: float = 0.0
    #: Exchange ids of its slowest pairs (candidate minus baseline), slowest first.
    examples: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"{self.name}: +{self.shift_ms:.0f} ms at p50, {self.size} of {self.of} requests"


def slow_subsets(
    sample: LatencySample, settings: LatencySettings, *, noise_ms: float = 0.0
) -> list[SlowSubset]:
    """Subsets of `sample` slower than the rest by a large and significant amount."""
    candidates, p_values = subset_tests(sample, settings, noise_ms=noise_ms)
    by_p: dict[float, float] = {}
    for p, adjusted in zip(p_values, holm_adjust(p_values), strict=True):
        by_p[p] = max(by_p.get(p, 0.0), adjusted)  # equal p-values: the largest adjustment
    return flag(candidates, by_p, ALPHA)


def flag(
    candidates: Sequence[SlowSubset], adjusted: dict[float, float], alpha: float
) -> list[SlowSubset]:
    """The candidates whose adjusted p-value (by raw p-value) is at most `alpha`."""
    found = [
        replace(s, p_value=adjusted[s.p_value]) for s in candidates if adjusted[s.p_value] <= alpha
    ]
    found.sort(key=lambda s: (-s.shift_ms, s.name))
    return found


def subset_tests(
    sample: LatencySample, settings: LatencySettings, *, noise_ms: float = 0.0
) -> tuple[list[SlowSubset], list[float]]:
    """(candidates, p-values): the subsets whose excess is large and holds in two blocks
    apart, with their raw p-value; and the raw p-value of every subset tested."""
    n = len(sample.pairs)
    if n < 2 * MIN_SUBSET:
        return [], []
    diffs = sample.differences_ms()
    blocks = time_blocks(sample)
    candidates: list[SlowSubset] = []
    p_values: list[float] = []
    for name, members in _subsets(sample.features):
        if not MIN_SUBSET <= len(members) <= n - MIN_SUBSET:
            continue
        inside = set(members)
        p = max(van_elteren_greater(diffs, inside, kept) for kept in bursts(blocks))
        p_values.append(p)
        shift = percentile(sorted(diffs[i] for i in members), 0.5)
        if not large(shift - noise_ms, sample.reference_ms(0.5, members), settings):
            continue
        if not _apart(diffs, inside, blocks):
            continue
        base = percentile(sorted(sample.pairs[i][0] / 1000 for i in members), 0.5)
        cand = percentile(sorted(sample.pairs[i][1] / 1000 for i in members), 0.5)
        slowest = sorted(members, key=lambda i: -diffs[i])[:EXAMPLES]
        ids = tuple(sample.ids[i] for i in slowest if i < len(sample.ids) and sample.ids[i])
        candidates.append(
            SlowSubset(name, len(members), n, round(shift, 3), p, base, cand, examples=ids)
        )
    return candidates, p_values


def _apart(diffs: Sequence[float], inside: set[int], blocks: list[list[int]]) -> bool:
    """Whether the subset's median difference exceeds the rest's in two blocks that are
    not neighbours: one burst of requests, however slow, is not enough."""
    slower: list[int] = []
    for b, block in enumerate(blocks):
        mine = sorted(diffs[i] for i in block if i in inside)
        rest = sorted(diffs[i] for i in block if i not in inside)
        if mine and rest and percentile(mine, 0.5) > percentile(rest, 0.5):
            slower.append(b)
    return len(slower) >= 2 and slower[-1] - slower[0] >= 2


def van_elteren_greater(diffs: Sequence[float], inside: set[int], blocks: list[list[int]]) -> float:
    """One-sided p-value that the members of `inside` have larger values than the rest,
    ranked within each block (van Elteren's weights, normal approximation)."""
    num = 0.0
    var = 0.0
    for block in blocks:
        x = [diffs[i] for i in block if i in inside]
        y = [diffs[i] for i in block if i not in inside]
        if not x or not y:
            continue
        excess, v = _rank_sum(x, y)
        weight = 1 / (len(block) + 1)
        num += excess * weight
        var += v * weight * weight
    if var <= 0:
        return 1.0
    z = num / math.sqrt(var)
    return 0.5 * math.erfc(z / math.sqrt(2))


def _subsets(all_features: Sequence[Features]) -> list[tuple[str, list[int]]]:
    """(name, member indices) for every feature value, numeric ranges binned."""
    values: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i, feats in enumerate(all_features):
        for key, value in feats:
            values[key][value].append(i)
    out: list[tuple[str, list[int]]] = []
    for key, by_value in values.items():
        label = key.removeprefix("q:") if key.startswith("q:") else "body"
        numbers = _numeric(by_value)
        if numbers is not None and len(by_value) > MAX_VALUES:
            out.extend(_bins(label, numbers, by_value))
            continue
        for value, members in by_value.items():
            out.append((f"{label}={value}" if label != "body" else f"body {value}", members))
    counts = Counter({name: len(m) for name, m in out})
    keep = {name for name, _ in counts.most_common(MAX_SUBSETS)}
    return [(name, m) for name, m in out if name in keep]


def _numeric(by_value: dict[str, list[int]]) -> dict[str, float] | None:
    out: dict[str, float] = {}
    for value in by_value:
        try:
            number = float(value)
        except ValueError:
            return None
        if not math.isfinite(number):
            return None
        out[value] = number
    return out


def _bins(
    label: str, numbers: dict[str, float], by_value: dict[str, list[int]]
) -> list[tuple[str, list[int]]]:
    """Quartile bins of a numeric parameter, named by the values they hold."""
    ordered = sorted((numbers[v], i) for v, members in by_value.items() for i in members)
    cuts = [percentile([x for x, _ in ordered], q) for q in (0.25, 0.5, 0.75)]
    bins: list[list[tuple[float, int]]] = [[], [], [], []]
    for x, i in ordered:
        bins[sum(1 for c in cuts if x > c)].append((x, i))
    out = []
    for members in bins:
        if members:
            lo, hi = members[0][0], members[-1][0]
            name = f"{label}={_num(lo)}" if lo == hi else f"{label} in {_num(lo)}-{_num(hi)}"
            out.append((name, [i for _, i in members]))
    return out


def _num(x: float) -> str:
    return str(int(x)) if x == int(x) else f"{x:g}"


def holm(
    tested: Sequence[tuple[str, list[int], float]], alpha: float
) -> list[tuple[str, list[int], float]]:
    """The hypotheses Holm's step-down procedure rejects, with adjusted p-values."""
    m = len(tested)
    ranked = sorted(tested, key=lambda t: t[2])
    out: list[tuple[str, list[int], float]] = []
    running = 0.0
    for k, (name, members, p) in enumerate(ranked):
        adjusted = min(1.0, max(running, p * (m - k)))
        running = adjusted
        if adjusted > alpha:
            break
        out.append((name, members, adjusted))
    return out


def mann_whitney_greater(x: Sequence[float], y: Sequence[float]) -> float:
    """One-sided p-value that `x` tends to be larger than `y` (normal approximation with
    tie and continuity corrections)."""
    if not x or not y:
        return 1.0
    excess, var = _rank_sum(x, y)
    if var <= 0:
        return 1.0
    z = (excess - 0.5) / math.sqrt(var)
    return 0.5 * math.erfc(z / math.sqrt(2))


def _rank_sum(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """(U minus its mean, its variance with ties) of `x` against `y`."""
    n1, n2 = len(x), len(y)
    combined = sorted([(v, 0) for v in x] + [(v, 1) for v in y])
    ranks_x = 0.0
    ties = 0.0
    i = 0
    while i < len(combined):
        j = i
        while j + 1 < len(combined) and combined[j + 1][0] == combined[i][0]:
            j += 1
        rank = (i + j) / 2 + 1
        t = j - i + 1
        ties += t**3 - t
        ranks_x += rank * sum(1 for k in range(i, j + 1) if combined[k][1] == 0)
        i = j + 1
    u = ranks_x - n1 * (n1 + 1) / 2
    n = n1 + n2
    var = n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1))) if n > 1 else 0.0
    return u - n1 * n2 / 2, var
