"""Words for the report: how every renderer names gates, findings and unverified reasons.

The renderers read the typed report (``report.model``) and must say the same thing in
every format, so the labels and the short value forms live here, once.
"""

from __future__ import annotations

from collections.abc import Iterable

from shadowtape.diff.json import dumps
from shadowtape.report.model import (
    Endpoint,
    Finding,
    Ledger,
    Ratio,
    Report,
    ServiceFinding,
    Unverified,
)

KIND_LABELS: dict[str, str] = {
    "status": "status changed",
    "header": "header changed",
    "header_missing": "header missing",
    "header_extra": "header added",
    "body_missing": "field missing",
    "body_extra": "field added",
    "body_type": "type changed",
    "body_value": "value changed",
    "array_length": "array length changed",
    "array_order": "array order changed",
    "text": "text changed",
    "digest": "body bytes changed",
    "new_error": "new error",
    "swallowed_error": "error swallowed",
    "fixed_error": "error fixed",
    "latency": "slower",
    "duplicate_delivery": "retry answered differently",
}

REASON_LABELS: dict[str, str] = {
    "noise": "noise",
    "redacted": "redacted",
    "skipped_mutating": "mutating requests not sent",
    "truncated_body": "body truncated",
    "binary_body": "binary body",
    "too_few_samples": "too few samples",
    "latency_not_comparable": "latency not comparable",
    "volatile_value": "volatile value",
    "not_exercised": "not exercised",
    "secondary_failed": "secondary failed",
    "baseline_failed": "baseline failed",
    "latency_lag": "latency sent late",
    "missing_response": "response missing",
    "mutating": "mutating",
}

VERDICTS = ("regression", "unverified", "ok")
DASH, TIMES = "\u2013", "\u00d7"  # typographic, spelled out for linters


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind.replace("_", " "))


def reason_label(reason: str) -> str:
    return REASON_LABELS.get(reason, reason.replace("_", " "))


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def value_text(value: object, limit: int = 80) -> str:
    """A JSON value as one short line: strings keep their quotes so "1" differs from 1.
    How a side answered a retry (a ``duplicate_delivery`` value) is put in words."""
    if isinstance(value, dict) and value.keys() == _RETRY_KEYS:
        return shorten(retry_text(value), limit)
    if value is None:
        text = "null"
    else:
        try:
            text = dumps(value).decode()
        except TypeError:
            text = repr(value)
    return shorten(text, limit)


_RETRY_KEYS = {"status", "same_resource", "replay_marker"}


def retry_text(answer: dict[str, object]) -> str:
    """In words: 201, same id, idempotent-replayed: true (or: new id, no replay marker)."""
    bits = [str(answer.get("status"))]
    same = answer.get("same_resource")
    if same is not None:
        bits.append("same id" if same else "new id")
    bits.append(str(answer.get("replay_marker") or "no replay marker"))
    return ", ".join(bits)


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split()) if ("\n" in text or "\r" in text) else text
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def percent(rate: object) -> str:
    if not isinstance(rate, int | float):
        return ""
    if 0 < rate < 0.001:
        return "<0.1%"
    return f"{rate * 100:.1f}%".replace(".0%", "%")


def ms(value: object) -> str:
    if not isinstance(value, int | float):
        return DASH
    if value >= 100:
        return f"{value:,.0f} ms"
    if value >= 10:
        return f"{value:.1f} ms"
    return f"{value:.2f} ms"


def ratio_text(ratio: Ratio | None) -> str:
    """'1.32x (1.20-1.45)': the ratio with its confidence interval when there is one."""
    if ratio is None or ratio.value is None:
        return DASH
    text = f"{ratio.value:.2f}{TIMES}"
    if ratio.low is not None and ratio.high is not None:
        text += f" ({ratio.low:.2f}{DASH}{ratio.high:.2f})"
    return text


#: The ledger's buckets in the order every format shows them: (field, words).
LEDGER_BUCKETS = (
    ("regressed", "regressed"),
    ("equal", "equal"),
    ("noise", "noise only"),
    ("unverified", "unverified"),
    ("skipped", "skipped"),
)


def ledger_counts(ledger: Ledger) -> list[tuple[str, int, str]]:
    """(bucket, count, reasons) per bucket; reasons as "baseline failed 3" or ""."""
    out = []
    for name, words in LEDGER_BUCKETS:
        value = getattr(ledger, name)
        if isinstance(value, int):
            out.append((words, value, ""))
        else:
            reasons = ", ".join(f"{reason_label(k)} {n:,}" for k, n in value.items() if n)
            out.append((words, sum(value.values()), reasons))
    return out


def ledger_text(ledger: Ledger) -> str:
    """'307 exchanges: 117 regressed, 5 equal, 185 noise only, 2 unverified (baseline
    failed 2), 0 skipped': every bucket, always, so the counts visibly add up."""
    bits = [
        f"{n:,} {words}" + (f" ({why})" if why else "") for words, n, why in ledger_counts(ledger)
    ]
    return f"{plural(ledger.selected, 'exchange')}: {', '.join(bits)}"


def gate_line(report: Report, *, ledger: bool = True) -> str:
    """The one line CI readers look at first; with the run's ledger unless `ledger` is
    False (the terminal prints the ledger on a line of its own)."""
    totals = report.totals
    n_endpoints = totals.endpoints or len(report.endpoints)
    regressions = totals.regression or len(report.by_verdict("regression"))
    passed = report.gate.passed
    head = "Gate passed" if passed else "Gate failed"
    text = f"{head}: {regressions:,} of {plural(n_endpoints, 'endpoint')} with regressions"
    if ledger and report.ledger is not None:
        text += f"; {ledger_text(report.ledger)}"
    reasons = report.gate.reasons
    if not passed and reasons and regressions == 0:
        text += f" ({plural(len(reasons), 'reason')}: {reasons[0]})"
    return text


def checked_text(endpoint: Endpoint) -> str:
    return ", ".join(endpoint.checked) if endpoint.checked else "nothing"


def finding_text(finding: Finding, limit: int = 60) -> str:
    """'value changed at $.price: 10 → "10" (3x, 25%)'."""
    location = finding_location(finding)
    text = kind_label(finding.kind) + (f" at {location}" if location else "")
    b, c = (
        finding_value(finding, finding.baseline, limit),
        finding_value(finding, finding.candidate, limit),
    )
    return text + f": {b} → {c}" + count_suffix(finding)


def finding_value(finding: Finding, value: object, limit: int = 60) -> str:
    """One side's value of a finding: milliseconds carry their unit."""
    return ms(value) if finding.kind == "latency" else value_text(value, limit)


def service_text(item: ServiceFinding, limit: int = 60) -> str:
    """'header missing at header:x-powered-by: "Express" → null (240 times, 100%) on 12
    endpoints'."""
    text = kind_label(item.kind) + f" at {item.location}"
    text += f": {value_text(item.baseline, limit)} → {value_text(item.candidate, limit)}"
    return text + count_suffix(item) + f" on {plural(len(item.endpoints), 'endpoint')}"


def service_refs(report: Report, endpoint: Endpoint) -> list[str]:
    """What an endpoint's service-wide findings say, one line each, with their id."""
    out = []
    for id_ in endpoint.service_findings:
        shared = report.service_finding(id_)
        label = f"{kind_label(shared.kind)} at {shared.location}" if shared else ""
        out.append(f"service-wide ({id_}){': ' + label if label else ''}")
    return out


def unverified_text(item: Unverified) -> str:
    """'noise at $.request_id (varies in 36% of A/A pairs, 12 differences set aside)'."""
    location = shown_location(item)
    text = reason_label(item.reason)
    text += f" at {location}" if location else ""
    if item.reason == "noise":
        bits = []
        rate = percent(item.rate)
        if rate:
            bits.append(f"varies in {rate} of A/A pairs")
        if item.count:
            bits.append(f"{plural(item.count, 'candidate difference')} set aside")
        return text + (f" ({', '.join(bits)})" if bits else "")
    return text + count_suffix(item)


def finding_location(finding: Finding) -> str:
    """The location, unless it only repeats the kind ('status changed at status')."""
    return "" if finding.location in finding.kind.split("_") else finding.location


_GENERIC_LOCATIONS = {"skipped_mutating": {"request"}, "not_exercised": {"endpoint"}}


def shown_location(item: Unverified) -> str:
    """The location, unless it only repeats the reason ('latency not comparable at latency')."""
    location, reason = item.location, item.reason
    if location in reason.split("_") or location in _GENERIC_LOCATIONS.get(reason, ()):
        return ""
    return location


def count_suffix(item: Finding | ServiceFinding | Unverified) -> str:
    bits = []
    if item.count is not None:
        bits.append(f"{item.count:,} pairs" if _is_latency(item) else f"{item.count:,}{TIMES}")
    rate = rate_text(item)
    if rate:
        bits.append(rate)
    return f" ({', '.join(bits)})" if bits else ""


def rate_text(item: Finding | ServiceFinding | Unverified) -> str:
    """How often, as a percentage; for a latency finding the rate is the ratio (x1.60)."""
    if _is_latency(item):
        return f"{TIMES}{item.rate:.2f}" if item.rate is not None else ""
    return percent(item.rate)


def _is_latency(item: Finding | ServiceFinding | Unverified) -> bool:
    return isinstance(item, Finding) and item.kind == "latency"


def run_targets(report: Report) -> list[tuple[str, str]]:
    """(label, value) pairs describing what was compared, merged over shards."""
    out: list[tuple[str, str]] = []
    for label, values in (
        ("candidate", [r.candidate for r in report.runs]),
        ("baseline", [r.baseline for r in report.runs]),
        ("secondary", [r.secondary for r in report.runs]),
    ):
        unique = _unique(v for v in values if v)
        if unique:
            out.append((label, ", ".join(unique)))
    return out


def run_warnings(report: Report) -> list[str]:
    """Things about the run itself that weaken the verdicts: say them out loud."""
    warnings = [f"Partial results: {problem}." for problem in report.incomplete or ()]
    for run in report.runs:
        name = run.run_id or "run"
        if run.shard:
            name += f" (shard {run.shard})"
        if run.interrupted and report.incomplete is None:  # newer reports say it there
            warnings.append(f"{name} was interrupted: not every selected exchange was replayed.")
        schedule = run.schedule
        if schedule.get("fell_behind"):
            warnings.append(
                f"{name} fell behind its schedule (max lag {ms(schedule.get('max_lag_ms'))}): "
                "latency figures include that lag."
            )
    return warnings


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
