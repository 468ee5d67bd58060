"""An endpoint's latency in the report: percentiles, ratios, the histogram, and a finding
when the candidate's paired requests are slower beyond both thresholds and the noise
(``diff.latency`` tests), or a subset of them is (``diff.subsets``). One run compares many
endpoints, so every test of the run (each endpoint's p50 and p95, each subset tried) is one
family under Holm's correction at ``RUN_ALPHA`` (``judge_run``): identical builds must not
fail a run by chance, however many endpoints it has. When many sends
started late (waiting for an earlier request, or a replayer behind schedule), latency is
listed as not verified instead of passing.

Milliseconds are rounded to 3 decimals and ratios to 4 (infinite or NaN become null), as
report.json has always held them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from shadowtape.diff.analyze import LAG_US, AnalysisSettings, EndpointStats
from shadowtape.diff.latency import (
    EDGES_MS,
    PERCENTILES,
    LatencyResult,
    analyze_latency,
    holm_adjust,
)
from shadowtape.diff.model import Kind
from shadowtape.diff.subsets import SlowSubset, flag, subset_tests
from shadowtape.report._unverified import entry
from shadowtape.report.model import Finding, Histogram, Latency, Ratio, Unverified

#: Family-wise error rate of all the latency tests of one run (Holm).
RUN_ALPHA = 0.01


@dataclass(slots=True)
class RunLatency:
    """Each compared endpoint's latency result and slow subsets, as the run's Holm step
    judged them, by (method, route)."""

    judged: dict[tuple[str, str], tuple[LatencyResult, list[SlowSubset]]] = field(
        default_factory=dict
    )


def judge_run(endpoints: Iterable[EndpointStats], settings: AnalysisSettings) -> RunLatency:
    """Test every comparable endpoint, then correct all their p-values together."""
    tested: list[tuple[tuple[str, str], LatencyResult, list[SlowSubset], list[float]]] = []
    family: list[float] = []
    for ep in endpoints:
        if ep.recorded != 0:
            continue
        result = analyze_latency(ep.latency, settings.latency, noise=ep.latency_noise)
        if result is None or result.pairs < settings.latency.min_pairs:
            continue
        noise_ms = max(0.0, _median_shift(ep)) if result.secondary_ms is not None else 0.0
        subsets, subset_p = subset_tests(ep.latency, settings.latency, noise_ms=noise_ms)
        tested.append(((ep.method, ep.route), result, subsets, subset_p))
        family.extend(result.p_values.values())
        family.extend(subset_p)
    adjusted = iter(holm_adjust(family))
    run = RunLatency()
    for key, result, subsets, subset_p in tested:
        by_name = {name: next(adjusted) for name in result.p_values}
        by_p: dict[float, float] = {}
        for p in subset_p:  # equal p-values: the largest adjustment, to stay conservative
            by_p[p] = max(by_p.get(p, 0.0), next(adjusted))
        regressions = [name for name in result.large if by_name[name] <= RUN_ALPHA]
        run.judged[key] = (
            replace(result, regressions=regressions),
            flag(subsets, by_p, RUN_ALPHA),
        )
    return run


def _ms(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 3)


def endpoint_latency(
    ep: EndpointStats, settings: AnalysisSettings, run: RunLatency | None = None
) -> tuple[Latency | None, list[Finding], list[Unverified], bool]:
    """(latency, findings, notes, checked); None when no request had both latencies.
    `checked` says whether latency was compared, which puts it in the endpoint's list.
    `run` holds the run's judgement (``judge_run``); without it the endpoint is its own."""
    comparable = ep.recorded == 0
    if run is None:
        run = judge_run([ep], settings)
    judged = run.judged.get((ep.method, ep.route))
    subsets: list[SlowSubset] = []
    if judged is not None:
        result: LatencyResult | None = judged[0]
        subsets = judged[1]
    else:
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
    findings = _findings(result, settings, _slowest(ep)) + _subset_findings(subsets)
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
        message = (
            f"{name} latency rose by {shift.value:+.1f} ms {how} (paired: "
            f"candidate minus baseline on the same requests, "
            f"{settings.latency.confidence:.0%} CI {shift.low:+.1f} to {shift.high:+.1f} "
            f"ms), from {b:.1f} ms to {c:.1f} ms (x{r.value:.2f}) over {result.pairs} "
            "paired requests"
        )
        findings.append(_finding(name, message, b, c, result.pairs, _finite(r.value), slowest))
    return findings


def _subset_findings(subsets: list[SlowSubset]) -> list[Finding]:
    """One finding per slow subset, named by its feature: ``limit=500: +24 ms at p50``."""
    out = []
    for subset in subsets:
        message = (
            f"{subset.describe()} (paired: candidate minus baseline on the same "
            f"requests; slower than the endpoint's other requests, p={subset.p_value:.2g} "
            "after Holm's correction over the run's latency tests)"
        )
        b, c = subset.baseline_ms, subset.candidate_ms
        rate = _finite(c / b) if b > 0 else None
        where = f"p50 {subset.name}"
        out.append(_finding(where, message, b, c, subset.size, rate, subset.examples))
    return out


def _finding(
    where: str,
    message: str,
    baseline_ms: float,
    candidate_ms: float,
    count: int,
    rate: float | None,
    exchange_ids: tuple[str, ...],
) -> Finding:
    """A latency finding at ``latency:WHERE``, both builds' milliseconds to the microsecond."""
    return Finding(
        kind=Kind.LATENCY.value,
        location=f"latency:{where}",
        message=message,
        baseline=round(baseline_ms, 3),
        candidate=round(candidate_ms, 3),
        count=count,
        rate=rate,
        exchange_ids=exchange_ids,
    )


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
