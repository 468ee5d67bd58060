"""Build the typed ``Report`` from the differ's streamed aggregates (``diff.analyze``).

This is where the noise model decides: each (location, kind) the candidate disagreed on
becomes a finding, or an "unverified" entry (noise, volatile value, redacted), and every
location the baselines disagreed on is listed as noise with its measured rate. The
finding messages, the verdicts and the order of endpoints live here; an endpoint's
latency is ``_latency``'s, the other caveats are ``_unverified``'s, the ledger ``_ledger``'s and
the findings shared by most endpoints are gathered by ``_service``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from shadowtape.diff.analyze import Analysis, AnalysisSettings, EndpointStats, LocStats
from shadowtape.diff.json import dumps
from shadowtape.diff.model import Kind, noise_group
from shadowtape.diff.volatile import shape
from shadowtape.report._describe import plural
from shadowtape.report._latency import RunLatency, endpoint_latency, judge_run
from shadowtape.report._ledger import endpoint_ledger, request_redactions, total_ledger
from shadowtape.report._service import service_wide
from shadowtape.report._sidefx import side_effects
from shadowtape.report._unverified import entry, noise_entries, other_unverified, shape_word
from shadowtape.report.gate import evaluate
from shadowtape.report.load import load_example
from shadowtape.report.model import (
    Endpoint,
    Example,
    Finding,
    Ledger,
    Report,
    RunInfo,
    Settings,
    Totals,
    Unverified,
)

REPORT_VERSION = "1.3"
_ORDER = {"regression": 0, "unverified": 1, "ok": 2}
_VALUE_CAP = 2_000
_NOT_REGRESSIONS = frozenset({Kind.FIXED_ERROR})
_NOT_EXERCISED = "the API description lists this operation but the tape never exercised it"


def build_report(
    analysis: Analysis,
    settings: AnalysisSettings,
    fail_on: Sequence[str],
    *,
    max_unverified: float | None = None,
) -> Report:
    """The report of `analysis`, its gate evaluated with the words of `fail_on` and the
    largest share of not verified exchanges that passes (`max_unverified`)."""
    run_latency = judge_run(analysis.endpoints.values(), settings)
    endpoints = [_endpoint(ep, settings, run_latency) for ep in analysis.endpoints.values()]
    endpoints.extend(_not_exercised(analysis))
    endpoints.sort(key=lambda e: (_ORDER[e.verdict], e.route, e.method))
    endpoints, services = service_wide(endpoints)
    verdicts = [e.verdict for e in endpoints]
    skipped = sum(analysis.skipped.values())
    policy = settings.diff.headers
    ledger = total_ledger(e.ledger for e in endpoints)
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
            findings=sum(len(e.findings) for e in endpoints) + len(services),
        ),
        ledger=ledger,
        gate=evaluate(
            endpoints,
            fail_on,
            compared=sum(e.compared or 0 for e in endpoints),
            service=services,
            ledger=ledger,
            max_unverified=max_unverified,
        ),
        skipped=dict(analysis.skipped),
        redactions=request_redactions(analysis),
        settings=Settings(
            ignored_headers=tuple(sorted(policy.ignore - policy.compare)),
            ignored_header_parts=tuple(policy.ignore_parts),
            compared_headers=tuple(sorted(policy.compare)),
            tolerance=settings.diff.tolerance,
            noise=settings.noise,
            latency=settings.latency,
        ),
        service_findings=tuple(services),
        endpoints=tuple(endpoints),
        side_effects=side_effects(analysis),
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


#: A finding's sentence per kind, before "in N of M requests". {b} and {c} are the example
#: values as they are, {short_b} and {short_c} as short JSON ("absent" for None).
_SENTENCES: dict[str, str] = {
    Kind.STATUS: "status changed from {b} to {c}",
    Kind.NEW_ERROR: "the candidate failed ({c}) where the baseline succeeded ({b})",
    Kind.SWALLOWED_ERROR: "the baseline failed ({b}) but the candidate answered {c}: an error "
    "swallowed into a success",
    Kind.FIXED_ERROR: "the baseline failed ({b}) where the candidate succeeded ({c})",
    Kind.BODY_MISSING: "{location} is missing from the candidate (was {short_b})",
    Kind.BODY_EXTRA: "{location} is new in the candidate ({short_c})",
    Kind.BODY_TYPE: "{location} changed type from {short_b} to {short_c}",
    Kind.BODY_VALUE: "{location} changed from {short_b} to {short_c}",
    Kind.ARRAY_LENGTH: "array {location} changed length from {b} to {c}",
    Kind.ARRAY_ORDER: "array {location} has its elements in a different order",
    Kind.TEXT: "text at {location} changed",
    Kind.DIGEST: "the body changed (was {b}, now {c})",
    Kind.DUPLICATE_DELIVERY: "a retried request (same Idempotency-Key) was answered unlike "
    "production answered it: production {b}, the candidate {c}",
}


def _message(stats: LocStats, location: str, compared: int) -> str:
    b, c = stats.baseline, stats.candidate
    share = f"in {stats.count} of {plural(compared, 'request')}"
    if stats.kind == Kind.SIDE_EFFECT:  # "POST pay.internal/charges: 1 call on the baseline, …"
        calls = plural(b, "call") if isinstance(b, int) else str(b)
        return f"{location}: {calls} on the baseline, {c} on the candidate, {share}"
    if stats.kind == Kind.DUPLICATE_DELIVERY:
        return f"{_SENTENCES[stats.kind].format(b=_retry(b), c=_retry(c))} {share}"
    if stats.kind in _HEADER_KINDS:
        name = location.removeprefix("header:")
        if b is None:
            return f"header {name} is new in the candidate ({_short(c)}) {share}"
        if c is None:
            return f"header {name} is missing from the candidate (was {_short(b)}) {share}"
        return f"header {name} changed from {_short(b)} to {_short(c)} {share}"
    sentence = _SENTENCES.get(stats.kind)
    if sentence is None:
        return f"{location}: {stats.kind} {share}"
    values: dict[str, object] = {"b": b, "c": c, "location": location}
    if "{short_" in sentence:  # only these values are JSON: a status may not dump
        values |= {"short_b": _short(b), "short_c": _short(c)}
    return f"{sentence.format_map(values)} {share}"


_HEADER_KINDS = frozenset({Kind.HEADER, Kind.HEADER_MISSING, Kind.HEADER_EXTRA})


def _retry(answer: object) -> str:
    """How a side answered a retry, in words: "201, the same resource, marked ..."."""
    if not isinstance(answer, dict):
        return _short(answer)
    bits = [str(answer.get("status"))]
    same = answer.get("same_resource")
    if same is not None:
        bits.append("the same resource" if same else "a new resource")
    marker = answer.get("replay_marker")
    bits.append(f"marked {marker!r}" if marker else "no replay marker")
    return "(" + ", ".join(bits) + ")"


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


def _endpoint(
    ep: EndpointStats, settings: AnalysisSettings, run_latency: RunLatency | None = None
) -> Endpoint:
    compared = ep.compared
    findings: list[Finding] = []
    unverified: list[Unverified] = []
    finding_keys: set[tuple[str, str]] = set()
    noise_hidden: dict[tuple[str, str], int] = {}
    promoted: set[tuple[str, str]] = set()
    for (pattern, kind), stats in sorted(ep.ab.items()):
        if stats.volatile and _stable(ep, pattern, kind, stats, settings):
            _promote_volatile(stats)
            promoted.add((pattern, kind))
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
            detail = (
                f"values differ but both sides look like a {shape_word(stats.volatile_example)}"
                ", which may be regenerated on every response"
            )
            unverified.append(entry("volatile_value", pattern, stats.volatile, detail, of=compared))
        if stats.redacted:
            detail = "the recorded value was replaced by a pseudonym when the tape was sanitized"
            unverified.append(entry("redacted", pattern, stats.redacted, detail, of=compared))
    unverified[:0] = noise_entries(ep, noise_hidden)
    unverified.extend(other_unverified(ep, settings))
    latency, latency_findings, latency_notes, latency_checked = endpoint_latency(
        ep, settings, run_latency
    )
    findings.extend(latency_findings)
    unverified.extend(latency_notes)
    findings.sort(key=lambda f: (f.kind == Kind.LATENCY, -(f.count or 0), f.location))
    regressions = [f for f in findings if f.kind not in _NOT_REGRESSIONS]
    ledger = endpoint_ledger(ep, finding_keys, promoted, has_findings=bool(findings))
    if regressions:
        verdict = "regression"
    elif compared == 0 or any(u.reason == "latency_lag" for u in latency_notes):
        verdict = "unverified"  # latency sent late: "ok" would claim what was not measured
    else:
        verdict = "ok"
    checked = ["status", "headers", "body"] if compared else []
    if ep.side_effects_compared:
        checked.append("side_effects")
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
        ledger=ledger,
        candidate_time_ms=round(ep.candidate_us / 1000, 3),
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
                ledger=Ledger(),
                candidate_time_ms=0.0,
                verdict="unverified",
                checked=(),
                findings=(),
                unverified=(entry("not_exercised", "endpoint", 0, _NOT_EXERCISED),),
                latency=None,
                examples=(),
            )
        )
    return out
