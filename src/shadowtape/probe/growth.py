"""How latency grows with size: the slope of log(latency) on log(size), with its interval.

Ordinary least squares on every measured point (each repetition its own point, so the
spread between repetitions is part of the error), a 95% t-interval on the slope, and the
comparison of two independent slopes (Welch's standard error, the smaller of the two
degrees of freedom). A slope of 1 is linear growth, 2 quadratic, 0 none.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: Two-sided 95% quantiles of Student's t, for 1 to 30 degrees of freedom.
_T95 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
#: Latencies are floored at this many seconds before the log (a 0 has none).
FLOOR = 1e-5


def t95(df: int) -> float:
    """The two-sided 95% quantile of t with ``df`` degrees of freedom (a bound above 30)."""
    if df < 1:
        return math.inf
    if df <= len(_T95):
        return _T95[df - 1]
    return 2.021 if df <= 40 else 2.000 if df <= 60 else 1.980 if df <= 120 else 1.960


@dataclass(frozen=True, slots=True)
class Fit:
    """latency ~ size^slope: the slope, its standard error and degrees of freedom."""

    slope: float
    se: float
    df: int
    points: int

    @property
    def low(self) -> float:
        return self.slope - t95(self.df) * self.se

    @property
    def high(self) -> float:
        return self.slope + t95(self.df) * self.se

    def to_json(self) -> dict[str, object]:
        return {
            "slope": round(self.slope, 3),
            "low": round(self.low, 3) if math.isfinite(self.low) else None,
            "high": round(self.high, 3) if math.isfinite(self.high) else None,
            "points": self.points,
        }


def fit(points: Sequence[tuple[int, float]]) -> Fit | None:
    """The log-log fit of (size, latency in seconds) points; None without two sizes."""
    xs = [math.log(size) for size, _ in points]
    ys = [math.log(max(latency, FLOOR)) for _, latency in points]
    n = len(xs)
    if n < 3:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx <= 0:
        return None
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    residual = sum((y - my - slope * (x - mx)) ** 2 for x, y in zip(xs, ys, strict=True))
    se = math.sqrt(residual / (n - 2) / sxx)
    return Fit(slope, se, n - 2, n)


def steeper_by(candidate: Fit, baseline: Fit) -> float:
    """At least how much steeper the candidate grows: the 95% lower bound of the
    difference of the slopes."""
    se = math.hypot(candidate.se, baseline.se)
    return candidate.slope - baseline.slope - t95(min(candidate.df, baseline.df)) * se
