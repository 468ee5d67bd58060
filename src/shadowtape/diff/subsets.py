"""The slow subset: requests of one endpoint that share a feature and got slower together.

A regression that touches only some requests (the searches with ``limit=500``, the
uploads over a megabyte) hides in an endpoint's p50. Each request is described by its
features: every query parameter's value, the range of a numeric parameter with many
values (quartile bins of the sample), and its body-size class. Every feature value held
by enough requests is a subset, tested against the endpoint's other requests on the
paired differences (candidate minus baseline): a one-sided Mann-Whitney test, with Holm's
correction for the number of subsets tried, at ``ALPHA``: stricter than the endpoint's own
test, because every endpoint of a service is searched and a gate must not fail on chance.
A subset is flagged when that test is significant and its median difference is large
(``latency.large``).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

from shadowtape.diff.latency import Features, LatencySample, LatencySettings, large, percentile

#: Family-wise error rate of one endpoint's subset search (Holm).
ALPHA = 0.001
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
    n = len(sample.pairs)
    if n < 2 * MIN_SUBSET:
        return []
    diffs = sample.differences_ms()
    groups = _subsets(sample.features)
    tested: list[tuple[str, list[int], float]] = []
    for name, members in groups:
        if not MIN_SUBSET <= len(members) <= n - MIN_SUBSET:
            continue
        inside = set(members)
        rest = [diffs[i] for i in range(n) if i not in inside]
        tested.append((name, members, mann_whitney_greater([diffs[i] for i in members], rest)))
    found: list[SlowSubset] = []
    for name, members, p in holm(tested, ALPHA):
        shift = percentile(sorted(diffs[i] for i in members), 0.5)
        if large(shift - noise_ms, sample.reference_ms(0.5, members), settings):
            base = percentile(sorted(sample.pairs[i][0] / 1000 for i in members), 0.5)
            cand = percentile(sorted(sample.pairs[i][1] / 1000 for i in members), 0.5)
            slowest = sorted(members, key=lambda i: -diffs[i])[:EXAMPLES]
            ids = tuple(sample.ids[i] for i in slowest if i < len(sample.ids) and sample.ids[i])
            found.append(
                SlowSubset(name, len(members), n, round(shift, 3), p, base, cand, examples=ids)
            )
    found.sort(key=lambda s: (-s.shift_ms, s.name))
    return found


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
    n1, n2 = len(x), len(y)
    if not n1 or not n2:
        return 1.0
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
    var = n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1)))
    if var <= 0:
        return 1.0
    z = (u - n1 * n2 / 2 - 0.5) / math.sqrt(var)
    return 0.5 * math.erfc(z / math.sqrt(2))
