"""An endpoint's latency in the report: percentiles, ratios, the histogram, and a finding
when the candidate's paired requests are slower beyond both thresholds and the noise
(``diff.latency`` decides), or a subset of them is (``diff.subsets``). When many sends
started late (waiting for an earlier request, or a replayer behind schedule), latency is
listed as not verified instead of passing.

Milliseconds are rounded to 3 decimals and ratios to 4 (infinite or NaN become null), as
report.json has always held them.
"""

from __future__ import annotations

import math

from shadowtape.diff.analyze import LAG_US, AnalysisSettings, EndpointStats
from shadowtape.diff.latency import EDGES_MS, PERCENTILES, LatencyResult, analyze_latency
from shadowtape.diff.model import Kind
from shadowtape.diff.subsets import slow_subsets
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
    findings = _findings(result, settings, _slowest(ep)) + _subset_findings(ep, result, settings)
    if not findings and ep.compared and ep.lagged / ep.compared >= LAG_SHARE:
        return latency, [], [_lagged(ep)], False
    return latency, findings, [], True


#: At least this share of an endpoint's requests sent late makes its latency unverified.
LAG_SHARE = 0.25


def _slowest(ep: EndpointStats) -> tuple[str, ...]:
    """The exchanges of the slowest pairs (candidate minus baseline), slowest first."""
    return tuple(exchange_id for _, exchange_id in ep.slowest)


def _findings(
    result: LatencyResult, settings: AnalysisSettings, slowest: tuple[str, ...]
) -> list[Finding]:
    findings = []
    for name in result.regressions:
        r = result.ratio[name]
        shift = result.shift[name]
        b, c = result.baseline_ms[name], result.candidate_ms[name]
        how = "per request" if name == "p50" else "at the tail"
        findings.append(
            Finding(
                kind=Kind.LATENCY.value,
                location=f"latency:{name}",
                message=f"{name} latency rose by {shift.value:+.1f} ms {how} (paired: "
                f"candidate minus baseline on the same requests, "
                f"{settings.latency.confidence:.0%} CI {shift.low:+.1f} to {shift.high:+.1f} "
                f"ms), from {b:.1f} ms to {c:.1f} ms (x{r.value:.2f}) over {result.pairs} "
                "paired requests",
                baseline=round(b, 3),
                candidate=round(c, 3),
                count=result.pairs,
                rate=_finite(r.value),
                exchange_ids=slowest,
            )
        )
    return findings


def _subset_findings(
    ep: EndpointStats, result: LatencyResult, settings: AnalysisSettings
) -> list[Finding]:
    """One finding per slow subset, named by its feature: ``limit=500: +24 ms at p50``."""
    noise_ms = 0.0
    if result.secondary_ms is not None:
        noise_ms = max(0.0, _median_shift(ep))
    out = []
    for subset in slow_subsets(ep.latency, settings.latency, noise_ms=noise_ms):
        out.append(
            Finding(
                kind=Kind.LATENCY.value,
                location=f"latency:p50 {subset.name}",
                message=f"{subset.describe()} (paired: candidate minus baseline on the same "
                f"requests; slower than the endpoint's other requests, p={subset.p_value:.2g} "
                "after Holm's correction for the subsets tried)",
                baseline=round(subset.baseline_ms, 3),
                candidate=round(subset.candidate_ms, 3),
                count=subset.size,
                rate=_finite(subset.candidate_ms / subset.baseline_ms)
                if subset.baseline_ms > 0
                else None,
                exchange_ids=subset.examples,
            )
        )
    return out


def _median_shift(ep: EndpointStats) -> float:
    diffs = sorted(ep.latency_noise.differences_ms())
    return diffs[len(diffs) // 2] if diffs else 0.0


def _lagged(ep: EndpointStats) -> Unverified:
    detail = (
        f"{ep.lagged} of {ep.compared} requests were sent at least {LAG_US // 1000} ms late "
        f"(up to {ep.max_lag_us / 1000:.0f} ms), waiting for an earlier request that shares "
        "state or for a replayer behind its schedule (run.json: schedule.order_waits, "
        "schedule.fell_behind): the targets did not see production's concurrency, so a "
        "slowdown under load may not show"
    )
    return entry("latency_lag", "latency", ep.lagged, detail, of=ep.compared)


def _finite(value: float) -> float | None:
    return round(value, 4) if math.isfinite(value) else None
