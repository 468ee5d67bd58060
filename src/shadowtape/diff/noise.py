"""The NoiseModel: what varies on its own, measured by comparing a baseline with itself.

Diffy's idea: replay each request to two instances of the baseline (A and A') as well as
the candidate (B). Where A and A' disagree about as often as A and B, the difference is
noise. Diffy compares the two rates against a relative and an absolute threshold; on small
samples that mistakes chance for regressions, so here a location is a regression only
when the candidate's rate clears both thresholds *and* is significantly higher (a one-sided
Fisher exact test, or a two-proportion z-test on large counts). A location that A and A'
never disagreed on is not noise, whatever the thresholds say.

The A/A pairs come from a live secondary, from the candidate called twice ("repeat"), and
from repeated identical requests within a tape (one pair per request: its baseline and
candidate answers each compared with the earlier ones). They are counted per endpoint and
per (location pattern, noise group). Pairs of two candidate responses never excuse on
their own: a candidate that serves a stale value now and then, or fails now and then, is
the regression itself. So the "status" group learns from baseline pairs only, and a
location the baseline pairs measured as steady (enough of them, none disagreeing there)
is not noise however often the candidate disagrees with itself; candidate pairs only
excuse where the baselines vary too, or where too few baseline pairs say otherwise (then
the report lists the location as noise, a caveat).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from shadowtape.diff.model import Difference, noise_group, pattern_of


@dataclass(frozen=True, slots=True)
class NoiseSettings:
    #: The candidate must disagree this much more often, relative to the A/A rate ...
    relative: float = 0.2
    #: ... and by at least this much in absolute rate (0.03 = 3 percentage points) ...
    absolute: float = 0.03
    #: ... and the excess must be significant at this level.
    alpha: float = 0.01
    #: Fewer A/A pairs than this for an endpoint: noise is reported as poorly measured.
    min_pairs: int = 5


@dataclass(slots=True)
class NoiseModel:
    """A/A disagreement counts for one endpoint."""

    settings: NoiseSettings = field(default_factory=NoiseSettings)
    pairs: int = 0
    #: Pairs of two baseline responses (secondary, identical requests): the status group's.
    baseline_pairs: int = 0
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: What the baseline pairs alone disagreed on.
    baseline_counts: Counter[tuple[str, str]] = field(default_factory=Counter)

    def observe(self, differences: Iterable[Difference], *, candidate: bool = False) -> None:
        """Count one A/A pair; each (pattern, group) at most once per pair. `candidate`:
        both responses came from the candidate."""
        if candidate:
            self.observe_both(None, differences)
        else:
            self.observe_both(differences, None)

    def observe_both(
        self, baseline: Iterable[Difference] | None, candidate: Iterable[Difference] | None
    ) -> None:
        """Count one A/A pair measured on the baseline (`baseline`: two baseline answers'
        differences), the candidate (`candidate`: two candidate answers'), or both, as
        for one repeated request of the tape; None: not measured on that side."""
        base = _keys(baseline or ())
        cand = {key for key in _keys(candidate or ()) if key[1] != _STATUS}
        self.pairs += 1
        if baseline is not None:
            self.baseline_pairs += 1
        self.baseline_counts.update(base)
        self.counts.update(base | cand)

    def pairs_for(self, group: str) -> int:
        return self.baseline_pairs if group == _STATUS else self.pairs

    def rate(self, pattern: str, kind: str) -> float:
        group = noise_group(kind)
        pairs = self.pairs_for(group)
        return self.counts[(pattern, group)] / pairs if pairs else 0.0

    def is_noise(self, pattern: str, kind: str, count: int, compared: int) -> bool:
        """Whether `count` candidate disagreements in `compared` pairs are explained by noise."""
        group = noise_group(kind)
        key = (pattern, group)
        if not self.baseline_counts[key] and self.baseline_pairs >= self.settings.min_pairs:
            return False  # the baselines are steady here: the candidate's variation is its own
        return is_noise(count, compared, self.counts[key], self.pairs_for(group), self.settings)

    def locations(self) -> list[tuple[str, str, int, int]]:
        """Every (pattern, group, count, pairs) A and A' disagreed on, most frequent first."""
        found = [(p, g, n, self.pairs_for(g)) for (p, g), n in self.counts.items()]
        return sorted(found, key=lambda t: (-t[2] / max(t[3], 1), t[0]))


_STATUS = "status"


def _keys(differences: Iterable[Difference]) -> set[tuple[str, str]]:
    return {(pattern_of(d.location), noise_group(d.kind)) for d in differences}


def is_noise(d_ab: int, n_ab: int, d_aa: int, n_aa: int, settings: NoiseSettings) -> bool:
    if d_aa == 0 or n_aa == 0 or n_ab == 0:
        return False
    r_ab, r_aa = d_ab / n_ab, d_aa / n_aa
    if r_ab - r_aa <= settings.absolute:
        return True
    if r_ab <= r_aa * (1 + settings.relative):
        return True
    return excess_p_value(d_ab, n_ab, d_aa, n_aa) > settings.alpha


def excess_p_value(d_ab: int, n_ab: int, d_aa: int, n_aa: int) -> float:
    """One-sided p-value for "the candidate disagrees more often than A and A' do"."""
    if n_ab + n_aa <= 2_000:
        return _fisher_greater(d_ab, n_ab, d_aa, n_aa)
    p1, p2 = d_ab / n_ab, d_aa / n_aa
    pooled = (d_ab + d_aa) / (n_ab + n_aa)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_ab + 1 / n_aa))
    if se == 0:
        return 0.0 if p1 > p2 else 1.0
    z = (p1 - p2) / se
    return 0.5 * math.erfc(z / math.sqrt(2))


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def _fisher_greater(d_ab: int, n_ab: int, d_aa: int, n_aa: int) -> float:
    total, hits = n_ab + n_aa, d_ab + d_aa
    denominator = _log_comb(total, hits)
    upper = min(hits, n_ab)
    p = 0.0
    for x in range(d_ab, upper + 1):
        if hits - x > n_aa:
            continue
        p += math.exp(_log_comb(n_ab, x) + _log_comb(n_aa, hits - x) - denominator)
    return min(1.0, p)
