"""The gate: which findings fail the run (exit 1), from ``--fail-on``.

Categories name groups of finding kinds; a kind's own name works too. The default fails on
any new error, any status, header or body regression the noise model did not explain, any
latency regression and any retry answered unlike production answered it. A service-wide
finding (one change on most endpoints) is counted once, not once per endpoint. ``none``
never fails (report only). ``evaluate`` reads the typed endpoints and gives the report's
``GateOutcome``; ``probe_reasons`` adds the probes' findings (``race``), which the default
includes when a probe ran.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from shadowtape.errors import ConfigError
from shadowtape.report.model import (
    Endpoint,
    Finding,
    GateOutcome,
    ProbeRun,
    ServiceFinding,
)

CATEGORIES: Mapping[str, frozenset[str]] = {
    "new_error": frozenset({"new_error"}),
    "status": frozenset({"status", "swallowed_error"}),
    "headers": frozenset({"header", "header_missing", "header_extra"}),
    "body": frozenset(
        {
            "body_missing",
            "body_extra",
            "body_type",
            "body_value",
            "array_length",
            "array_order",
            "text",
            "digest",
        }
    ),
    "latency": frozenset({"latency"}),
    "duplicate_delivery": frozenset({"duplicate_delivery"}),
    "fixed_error": frozenset({"fixed_error"}),
    "race": frozenset({"race"}),
    "superlinear": frozenset({"superlinear"}),
}
DEFAULT_FAIL_ON: tuple[str, ...] = (
    "new_error",
    "status",
    "headers",
    "body",
    "latency",
    "duplicate_delivery",
)
#: Added to the default when a probe ran (a run without probes has no such findings).
PROBE_FAIL_ON: tuple[str, ...] = ("race", "superlinear")
_KINDS = frozenset().union(*CATEGORIES.values())
_LABELS = {
    "new_error": "new errors",
    "status": "status regressions",
    "headers": "header differences",
    "body": "body differences",
    "latency": "latency regressions",
    "duplicate_delivery": "retries answered unlike production",
    "fixed_error": "fixed errors",
    "race": "races (answered differently under concurrency than alone)",
    "superlinear": "superlinear growth (latency grows faster with size than the baseline's)",
}


def parse_fail_on(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """Words from ``--fail-on`` ("status,body" or a list), checked; None -> the default."""
    if value is None:
        return DEFAULT_FAIL_ON
    words = value.split(",") if isinstance(value, str) else list(value)
    chosen: list[str] = []
    for word in (w.strip().lower() for w in words):
        if not word:
            continue
        if word == "none":
            return ()
        if word == "all":
            chosen.extend(c for c in CATEGORIES if c != "fixed_error")
        elif word in CATEGORIES or word in _KINDS:
            chosen.append(word)
        else:
            valid = ", ".join([*CATEGORIES, *sorted(_KINDS - set(CATEGORIES)), "all", "none"])
            raise ConfigError(f"--fail-on: unknown kind {word!r}; valid: {valid}")
    if not chosen:  # "" or "," (an unset CI variable) must not switch the gate off quietly
        raise ConfigError(
            f"--fail-on is empty ({value!r}); name finding kinds, or 'none' for a gate that "
            "never fails"
        )
    return tuple(dict.fromkeys(chosen))


def _kinds(fail_on: Iterable[str]) -> dict[str, str]:
    """Finding kind -> the word of fail_on that selects it."""
    out: dict[str, str] = {}
    for word in fail_on:
        for kind in CATEGORIES.get(word, frozenset({word})):
            out.setdefault(kind, word)
    return out


def evaluate(
    endpoints: Iterable[Endpoint],
    fail_on: Sequence[str],
    *,
    compared: int | None = None,
    service: Iterable[ServiceFinding] = (),
) -> GateOutcome:
    """The report's gate: passed, the words used, and one reason per failure.

    ``compared``: how many exchanges were compared in all. A gate that checked nothing
    (a dead baseline, every request skipped, a run killed before its first row) fails,
    unless it is told never to (``none``): passing would claim what was not verified.
    """
    selected = _kinds(fail_on)
    reasons: list[str] = []
    if compared == 0 and fail_on:
        reasons.append(
            "nothing was compared: no replayed exchange had both a baseline and a "
            "candidate answer, so nothing was verified (see what the report could not verify)"
        )
    for shared in service:
        word = selected.get(shared.kind)
        if word is not None:
            reasons.append(
                f"service-wide on {len(shared.endpoints)} endpoints ({shared.id}): "
                f"{_describe(word, [shared])}"
            )
    for endpoint in endpoints:
        per_word: dict[str, list[Finding]] = {}
        for finding in endpoint.findings:
            word = selected.get(finding.kind)
            if word is not None:
                per_word.setdefault(word, []).append(finding)
        for word, found in per_word.items():
            reasons.append(f"{endpoint.endpoint}: {_describe(word, found)}")
    return GateOutcome(passed=not reasons, fail_on=tuple(fail_on), reasons=tuple(reasons))


def probe_reasons(probes: Iterable[ProbeRun], fail_on: Sequence[str]) -> list[str]:
    """The gate's reasons from probe findings: the candidate's own only (a race the live
    baseline shows too is not the candidate's to answer for)."""
    selected = _kinds(fail_on)
    per: dict[tuple[str, str], list[str]] = {}
    for probe in probes:
        for finding in probe.findings:
            word = selected.get(finding.kind)
            if word is not None and finding.gated:
                per.setdefault((finding.endpoint, word), []).append(finding.location)
    return [
        f"{endpoint}: {len(where)} {_LABELS.get(word, word)} ({', '.join(sorted(where)[:3])})"
        for (endpoint, word), where in per.items()
    ]


def _describe(word: str, found: Sequence[Finding | ServiceFinding]) -> str:
    if word == "latency":
        where = ", ".join(f.location.removeprefix("latency:") for f in found)
        return f"latency regression at {where}"
    total = sum(f.count or 0 for f in found)
    label = _LABELS.get(word, f"{word} findings")
    where = ", ".join(sorted({f.location for f in found})[:3])
    return f"{total} {label} ({where})"
