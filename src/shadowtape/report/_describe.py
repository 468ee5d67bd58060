"""Words for report.json: how every renderer names gates, findings and unverified reasons.

The renderers consume the report dict (docs/report-format.md) and must say the same
thing in every format, so the labels and the short value forms live here, once.
Reading is tolerant: optional keys may be missing or null in older or partial reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from shadowtape.diff.json import dumps

Report = Mapping[str, Any]
Endpoint = Mapping[str, Any]

KIND_LABELS: dict[str, str] = {
    "status": "status changed",
    "header": "header changed",
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
}

VERDICTS = ("regression", "unverified", "ok")
DASH, TIMES = "\u2013", "\u00d7"  # typographic, spelled out for linters


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind.replace("_", " "))


def reason_label(reason: str) -> str:
    return REASON_LABELS.get(reason, reason.replace("_", " "))


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def value_text(value: Any, limit: int = 80) -> str:
    """A JSON value as one short line: strings keep their quotes so "1" differs from 1."""
    if value is None:
        text = "null"
    else:
        try:
            text = dumps(value).decode()
        except TypeError:
            text = repr(value)
    return shorten(text, limit)


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split()) if ("\n" in text or "\r" in text) else text
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def percent(rate: Any) -> str:
    if not isinstance(rate, int | float):
        return ""
    if 0 < rate < 0.001:
        return "<0.1%"
    return f"{rate * 100:.1f}%".replace(".0%", "%")


def ms(value: Any) -> str:
    if not isinstance(value, int | float):
        return DASH
    if value >= 100:
        return f"{value:,.0f} ms"
    if value >= 10:
        return f"{value:.1f} ms"
    return f"{value:.2f} ms"


def ratio_text(ratio: Any) -> str:
    """'1.32x (1.20-1.45)': the ratio with its confidence interval when there is one."""
    if not isinstance(ratio, Mapping) or not isinstance(ratio.get("value"), int | float):
        return DASH
    text = f"{ratio['value']:.2f}{TIMES}"
    low, high = ratio.get("low"), ratio.get("high")
    if isinstance(low, int | float) and isinstance(high, int | float):
        text += f" ({low:.2f}{DASH}{high:.2f})"
    return text


def endpoints(report: Report) -> list[Endpoint]:
    return [e for e in report.get("endpoints") or () if isinstance(e, Mapping)]


def by_verdict(report: Report, verdict: str) -> list[Endpoint]:
    return [e for e in endpoints(report) if e.get("verdict") == verdict]


def findings(endpoint: Endpoint) -> list[Mapping[str, Any]]:
    return [f for f in endpoint.get("findings") or () if isinstance(f, Mapping)]


def unverified(endpoint: Endpoint) -> list[Mapping[str, Any]]:
    return [u for u in endpoint.get("unverified") or () if isinstance(u, Mapping)]


def gate_passed(report: Report) -> bool:
    return bool((report.get("gate") or {}).get("passed", False))


def gate_line(report: Report) -> str:
    """The one line CI readers look at first."""
    totals = report.get("totals") or {}
    gate = report.get("gate") or {}
    n_endpoints = int(totals.get("endpoints") or len(endpoints(report)))
    regressions = int(totals.get("regression") or len(by_verdict(report, "regression")))
    unverified_n = int(totals.get("unverified") or len(by_verdict(report, "unverified")))
    head = "Gate passed" if gate_passed(report) else "Gate failed"
    text = (
        f"{head}: {regressions:,} of {plural(n_endpoints, 'endpoint')} with regressions, "
        f"{unverified_n:,} unverified"
    )
    reasons = list(gate.get("reasons") or ())
    if not gate_passed(report) and reasons and regressions == 0:
        text += f" ({plural(len(reasons), 'reason')}: {reasons[0]})"
    return text


def checked_text(endpoint: Endpoint) -> str:
    checked = [str(c) for c in endpoint.get("checked") or ()]
    return ", ".join(checked) if checked else "nothing"


def finding_text(finding: Mapping[str, Any], limit: int = 60) -> str:
    """'value changed at $.price: 10 → "10" (3x, 25%)'."""
    kind = str(finding.get("kind", ""))
    location = finding_location(finding)
    text = kind_label(kind) + (f" at {location}" if location else "")
    if "baseline" in finding or "candidate" in finding:
        text += (
            f": {value_text(finding.get('baseline'), limit)}"
            f" → {value_text(finding.get('candidate'), limit)}"
        )
    return text + count_suffix(finding)


def unverified_text(item: Mapping[str, Any]) -> str:
    """'noise at $.request_id (varies in 36% of A/A pairs, 12 differences set aside)'."""
    location = shown_location(item)
    text = reason_label(str(item.get("reason", "")))
    text += f" at {location}" if location else ""
    if item.get("reason") == "noise":
        bits = []
        rate = percent(item.get("rate"))
        if rate:
            bits.append(f"varies in {rate} of A/A pairs")
        count = item.get("count")
        if isinstance(count, int) and count:
            bits.append(f"{plural(count, 'candidate difference')} set aside")
        return text + (f" ({', '.join(bits)})" if bits else "")
    return text + count_suffix(item)


def finding_location(finding: Mapping[str, Any]) -> str:
    """The location, unless it only repeats the kind ('status changed at status')."""
    location = str(finding.get("location") or "")
    return "" if location in str(finding.get("kind") or "").split("_") else location


_GENERIC_LOCATIONS = {"skipped_mutating": {"request"}, "not_exercised": {"endpoint"}}


def shown_location(item: Mapping[str, Any]) -> str:
    """The location, unless it only repeats the reason ('latency not comparable at latency')."""
    location = str(item.get("location") or "")
    reason = str(item.get("reason") or "")
    if location in reason.split("_") or location in _GENERIC_LOCATIONS.get(reason, ()):
        return ""
    return location


def count_suffix(item: Mapping[str, Any]) -> str:
    bits = []
    count = item.get("count")
    if isinstance(count, int):
        bits.append(f"{count:,} pairs" if _is_latency(item) else f"{count:,}{TIMES}")
    rate = rate_text(item)
    if rate:
        bits.append(rate)
    return f" ({', '.join(bits)})" if bits else ""


def rate_text(item: Mapping[str, Any]) -> str:
    """How often, as a percentage; for a latency finding the rate is the ratio (x1.60)."""
    rate = item.get("rate")
    if _is_latency(item):
        return f"{TIMES}{rate:.2f}" if isinstance(rate, int | float) else ""
    return percent(rate)


def _is_latency(item: Mapping[str, Any]) -> bool:
    return item.get("kind") == "latency" and "reason" not in item


def run_targets(report: Report) -> list[tuple[str, str]]:
    """(label, value) pairs describing what was compared, merged over shards."""
    runs = [r for r in report.get("runs") or () if isinstance(r, Mapping)]
    out: list[tuple[str, str]] = []
    for label, key in (("candidate", "candidate"), ("baseline", "baseline")):
        values = _unique(str(r[key]) for r in runs if r.get(key))
        if values:
            out.append((label, ", ".join(values)))
    secondary = _unique(str(r["secondary"]) for r in runs if r.get("secondary"))
    if secondary:
        out.append(("secondary", ", ".join(secondary)))
    return out


def run_warnings(report: Report) -> list[str]:
    """Things about the run itself that weaken the verdicts: say them out loud."""
    warnings = [f"Partial results: {problem}." for problem in report.get("incomplete") or ()]
    for run in report.get("runs") or ():
        if not isinstance(run, Mapping):
            continue
        name = str(run.get("run_id") or "run")
        if run.get("shard"):
            name += f" (shard {run['shard']})"
        if run.get("interrupted") and "incomplete" not in report:  # newer reports say it there
            warnings.append(f"{name} was interrupted: not every selected exchange was replayed.")
        schedule = run.get("schedule") or {}
        if schedule.get("fell_behind"):
            warnings.append(
                f"{name} fell behind its schedule (max lag {ms(schedule.get('max_lag_ms'))}): "
                "latency figures include that lag."
            )
    return warnings


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
