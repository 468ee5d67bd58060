"""An endpoint's latency in the report: percentiles, ratios, the histogram, and a finding
when the candidate is slower beyond both thresholds and the noise (``diff.latency`` decides).

Milliseconds are rounded to 3 decimals and ratios to 4 (infinite or NaN become null), as
report.json has always held them.
"""

from __future__ import annotations

import math

from shadowtape.diff.analyze import AnalysisSettings, EndpointStats
from shadowtape.diff.latency import EDGES_MS, PERCENTILES, analyze_latency
from shadowtape.diff.model import Kind
from shadowtape.report._unverified import entry
from shadowtape.report.model import Finding, Histogram, Latency, Ratio, Unverified


def _ms(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 3)


def endpoint_latency(
    ep: EndpointStats, settings: AnalysisSettings
) -> tuple[Latency | None, list[Finding], list[Unverified], bool]:
    """(latency, findings, notes, checked); None when no request had both latencies.
    `checked` says whether latency was compared, which puts it in the endpoint's list."""
    comparable = ep.recorded == 0
    result = analyze_latency(
        ep.latency, settings.latency, compare=comparable, noise=ep.latency_noise
    )
    if result is None:
        return None, [], [], False
    secondary_ms = result.secondary_ms
    latency = Latency(
        comparable=comparable,
        pairs=result.pairs,
        baseline={name: _ms(result.baseline_ms[name]) for name, _ in PERCENTILES},
        candidate={name: _ms(result.candidate_ms[name]) for name, _ in PERCENTILES},
        ratio={
            name: Ratio(value=_finite(r.value), low=_finite(r.low), high=_finite(r.high))
            for name, r in result.ratio.items()
        }
        if comparable
        else None,
        secondary=None
        if secondary_ms is None
        else {name: _ms(secondary_ms[name]) for name, _ in PERCENTILES},
        histogram=Histogram(
            edges_ms=tuple(EDGES_MS),
            baseline=tuple(ep.latency.hist_baseline),
            candidate=tuple(ep.latency.hist_candidate),
        ),
    )
    if not comparable:
        detail = (
            "the baseline is a recording from production, measured on other machines under "
            "other load, so latency is shown but not compared"
        )
        return (
            latency,
            [],
            [entry("latency_not_comparable", "latency", result.pairs, detail)],
            False,
        )
    if result.pairs < settings.latency.min_pairs:
        detail = f"only {result.pairs} latency pairs (want {settings.latency.min_pairs})"
        note = entry("too_few_samples", "latency", result.pairs, detail)
        return latency, [], [note], False
    findings = []
    for name in result.regressions:
        r = result.ratio[name]
        b, c = result.baseline_ms[name], result.candidate_ms[name]
        findings.append(
            Finding(
                kind=Kind.LATENCY.value,
                location=f"latency:{name}",
                message=f"{name} latency rose from {b:.1f} ms to {c:.1f} ms (x{r.value:.2f}, "
                f"{settings.latency.confidence:.0%} CI x{r.low:.2f} to x{r.high:.2f}) over "
                f"{result.pairs} paired requests",
                baseline=round(b, 3),
                candidate=round(c, 3),
                count=result.pairs,
                rate=_finite(r.value),
                exchange_ids=(),
            )
        )
    return latency, findings, [], True


def _finite(value: float) -> float | None:
    return round(value, 4) if math.isfinite(value) else None
