"""Build the typed ``Report`` from the differ's streamed aggregates (``diff.analyze``).

This is where the noise model decides: each (location, kind) the candidate disagreed on
becomes a finding, or an "unverified" entry (noise, volatile value, redacted), and every
location the baselines disagreed on is listed as noise with its measured rate. The
finding messages, the verdicts and the order of endpoints live here; an endpoint's
latency is ``_latency``'s and the other "could not verify" entries are ``_unverified``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from shadowtape.diff.analyze import Analysis, AnalysisSettings, EndpointStats, LocStats
from shadowtape.diff.json import dumps
from shadowtape.diff.model import Kind, noise_group
from shadowtape.diff.volatile import shape
from shadowtape.report._latency import endpoint_latency
from shadowtape.report._unverified import noise_entries, other_unverified, shape_word
from shadowtape.report.gate import evaluate
from shadowtape.report.load import load_example
from shadowtape.report.model import (
    Endpoint,
    Example,
    Finding,
    Report,
    ReportedLatency,
    ReportedNoise,
    ReportedTolerance,
    RunInfo,
    Settings,
    Totals,
    Unverified,
)

REPORT_VERSION = "1.0"
_ORDER = {"regression": 0, "unverified": 1, "ok": 2}
_VALUE_CAP = 2_000
_NOT_REGRESSIONS = frozenset({Kind.FIXED_ERROR})


def build_report(analysis: Analysis, settings: AnalysisSettings, fail_on: Sequence[str]) -> Report:
    """The report of `analysis`, its gate evaluated with the words of `fail_on`."""
    endpoints = [_endpoint(ep, settings) for ep in analysis.endpoints.values()]
    endpoints.extend(_not_exercised(analysis))
    endpoints.sort(key=lambda e: (_ORDER[e.verdict], e.route, e.method))
    verdicts = [e.verdict for e in endpoints]
    skipped = sum(analysis.skipped.values())
    policy = settings.diff.headers
    return Report(
        report_version=REPORT_VERSION,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        runs=tuple(RunInfo(run) for run in analysis.runs),
        incomplete=tuple(analysis.incomplete),
        totals=Totals(
            exchanges=analysis.rows,
            replayed=analysis.rows - skipped,
            skipped=skipped,
            endpoints=len(endpoints),
            regression=verdicts.count("regression"),
            ok=verdicts.count("ok"),
            unverified=verdicts.count("unverified"),
            findings=sum(len(e.findings) for e in endpoints),
        ),
        gate=evaluate(endpoints, fail_on, compared=sum(e.compared or 0 for e in endpoints)),
        skipped=dict(analysis.skipped),
        settings=Settings(
            ignored_headers=tuple(sorted(policy.ignore - policy.compare)),
            ignored_header_parts=tuple(policy.ignore_parts),
            compared_headers=tuple(sorted(policy.compare)),
            tolerance=ReportedTolerance(
                absolute=settings.diff.tolerance.absolute,
                relative=settings.diff.tolerance.relative,
            ),
            noise=ReportedNoise(
                relative=settings.noise.relative,
                absolute=settings.noise.absolute,
                alpha=settings.noise.alpha,
                min_pairs=settings.noise.min_pairs,
            ),
            latency=ReportedLatency(
                ratio=settings.latency.ratio,
                min_ms=settings.latency.min_ms,
                confidence=settings.latency.confidence,
                min_pairs=settings.latency.min_pairs,
            ),
        ),
        endpoints=tuple(endpoints),
    )


def _value(value: object) -> object:
    """An example value, cut when large so one finding cannot bloat the report."""
    try:
        text = dumps(value)
    except TypeError:
        return str(value)[:_VALUE_CAP]
    if len(text) <= _VALUE_CAP:
        return value
    return text[:_VALUE_CAP].decode("utf-8", errors="replace") + "… (cut)"


def _short(value: object) -> str:
    if value is None:
        return "absent"
    text = dumps(value).decode() if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _message(stats: LocStats, location: str, compared: int) -> str:
    b, c = stats.baseline, stats.candidate
    share = f"in {stats.count} of {compared} requests"
    kind = stats.kind
    if kind == Kind.STATUS:
        return f"status changed from {b} to {c} {share}"
    if kind == Kind.NEW_ERROR:
        return f"the candidate failed ({c}) where the baseline succeeded ({b}) {share}"
    if kind == Kind.SWALLOWED_ERROR:
        return (
            f"the baseline failed ({b}) but the candidate answered {c}: an error swallowed "
            f"into a success {share}"
        )
    if kind == Kind.FIXED_ERROR:
        return f"the baseline failed ({b}) where the candidate succeeded ({c}) {share}"
    if kind == Kind.HEADER:
        name = location.removeprefix("header:")
        if b is None:
            return f"header {name} is new in the candidate ({_short(c)}) {share}"
        if c is None:
            return f"header {name} is missing from the candidate (was {_short(b)}) {share}"
        return f"header {name} changed from {_short(b)} to {_short(c)} {share}"
    if kind == Kind.BODY_MISSING:
        return f"{location} is missing from the candidate (was {_short(b)}) {share}"
    if kind == Kind.BODY_EXTRA:
        return f"{location} is new in the candidate ({_short(c)}) {share}"
    if kind == Kind.BODY_TYPE:
        return f"{location} changed type from {_short(b)} to {_short(c)} {share}"
    if kind == Kind.BODY_VALUE:
        return f"{location} changed from {_short(b)} to {_short(c)} {share}"
    if kind == Kind.ARRAY_LENGTH:
        return f"array {location} changed length from {b} to {c} {share}"
    if kind == Kind.ARRAY_ORDER:
        return f"array {location} has its elements in a different order {share}"
    if kind == Kind.TEXT:
        return f"text at {location} changed {share}"
    if kind == Kind.DIGEST:
        return f"the body changed (was {b}, now {c}) {share}"
    return f"{location}: {kind} {share}"


def _stable(
    ep: EndpointStats, pattern: str, kind: str, stats: LocStats, settings: AnalysisSettings
) -> bool:
    """Whether enough A/A pairs show this location does not vary on its own.

    A value shaped like a token or a timestamp is only presumed volatile while nothing was
    measured: when two baselines agree there and the candidate does not, the shape proves
    nothing and the difference is a regression (a new payment id on a retried request).
    """
    if shape(stats.volatile_example) in _TIME_SHAPES and not ep.live:
        # Time moves between the recording and the replay, but not between the candidate's
        # two calls of one moment: only a live baseline measures time-shaped values.
        return False
    pairs = ep.noise.pairs_for(noise_group(kind))
    if pairs < settings.noise.min_pairs:
        return False
    return not ep.noise.is_noise(pattern, kind, stats.volatile, ep.compared)


_TIME_SHAPES = frozenset({"epoch", "timestamp", "ulid"})


def _promote_volatile(stats: LocStats) -> None:
    """Count shape-alike differences as ordinary ones (see _stable)."""
    if not stats.has_example:
        stats.baseline, stats.candidate = stats.volatile_example, stats.volatile_candidate
        stats.has_example = True
    for location in stats.volatile_locations:
        if location not in stats.locations and len(stats.locations) < 3:
            stats.locations.append(location)
    stats.exchange_ids = (stats.exchange_ids + stats.volatile_ids)[:5]
    stats.count += stats.volatile
    stats.volatile = 0


def _endpoint(ep: EndpointStats, settings: AnalysisSettings) -> Endpoint:
    compared = ep.compared
    findings: list[Finding] = []
    unverified: list[Unverified] = []
    finding_keys: set[tuple[str, str]] = set()
    noise_hidden: dict[tuple[str, str], int] = {}
    for (pattern, kind), stats in sorted(ep.ab.items()):
        if stats.volatile and _stable(ep, pattern, kind, stats, settings):
            _promote_volatile(stats)
        total = stats.count + stats.volatile
        if total and ep.noise.is_noise(pattern, kind, total, compared):
            group_key = (pattern, noise_group(kind))
            noise_hidden[group_key] = noise_hidden.get(group_key, 0) + total
        elif stats.count:
            location = stats.locations[0] if len(stats.locations) == 1 else pattern
            findings.append(
                Finding(
                    kind=stats.kind,
                    location=location,
                    message=_message(stats, location, compared),
                    baseline=_value(stats.baseline),
                    candidate=_value(stats.candidate),
                    count=stats.count,
                    rate=round(stats.count / compared, 4) if compared else None,
                    exchange_ids=tuple(stats.exchange_ids),
                )
            )
            finding_keys.add((pattern, kind))
        if stats.volatile and (pattern, noise_group(kind)) not in noise_hidden:
            unverified.append(
                Unverified(
                    reason="volatile_value",
                    location=pattern,
                    count=stats.volatile,
                    rate=round(stats.volatile / compared, 4) if compared else None,
                    detail="values differ but both sides look like a "
                    f"{shape_word(stats.volatile_example)}, which may be regenerated on "
                    "every response",
                )
            )
        if stats.redacted:
            unverified.append(
                Unverified(
                    reason="redacted",
                    location=pattern,
                    count=stats.redacted,
                    rate=round(stats.redacted / compared, 4) if compared else None,
                    detail="the recorded value was replaced by a pseudonym when the tape "
                    "was sanitized",
                )
            )
    unverified[:0] = noise_entries(ep, noise_hidden)
    unverified.extend(other_unverified(ep, settings))
    latency, latency_findings, latency_notes, latency_checked = endpoint_latency(ep, settings)
    findings.extend(latency_findings)
    unverified.extend(latency_notes)
    findings.sort(key=lambda f: (f.kind == Kind.LATENCY, -(f.count or 0), f.location))
    regressions = [f for f in findings if f.kind not in _NOT_REGRESSIONS]
    if regressions:
        verdict = "regression"
    elif compared == 0:
        verdict = "unverified"
    else:
        verdict = "ok"
    checked = ["status", "headers", "body"] if compared else []
    if latency_checked:
        checked.append("latency")
    shown = _examples(ep, finding_keys, settings.examples)
    return Endpoint(
        endpoint=f"{ep.method} {ep.route}",
        method=ep.method,
        route=ep.route,
        requests=ep.requests,
        replayed=ep.replayed,
        compared=compared,
        verdict=verdict,
        checked=tuple(checked),
        findings=tuple(findings),
        unverified=tuple(unverified),
        latency=latency,
        examples=shown,
    )


def _examples(ep: EndpointStats, keys: set[tuple[str, str]], limit: int) -> tuple[Example, ...]:
    chosen: list[Example] = []
    covered: set[tuple[str, str]] = set()
    for shows, data in ep.examples.values():
        relevant = (shows & keys) - covered
        if relevant and len(chosen) < limit:
            chosen.append(load_example(data))
            covered |= relevant
    return tuple(chosen)


def _not_exercised(analysis: Analysis) -> list[Endpoint]:
    out: list[Endpoint] = []
    seen = {(e.method, e.route) for e in analysis.endpoints.values()}
    for route in analysis.routes:
        if route in analysis.exercised:
            continue
        method = route.method or "ANY"
        if (method, route.template) in seen:
            continue
        seen.add((method, route.template))
        out.append(
            Endpoint(
                endpoint=f"{method} {route.template}",
                method=method,
                route=route.template,
                requests=0,
                replayed=0,
                compared=0,
                verdict="unverified",
                checked=(),
                findings=(),
                unverified=(
                    Unverified(
                        reason="not_exercised",
                        location="endpoint",
                        count=0,
                        rate=None,
                        detail="the API description lists this operation but the tape "
                        "never exercised it",
                    ),
                ),
                latency=None,
                examples=(),
            )
        )
    return out
