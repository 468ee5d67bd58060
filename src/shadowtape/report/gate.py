"""The gate: which findings fail the run (exit 1), from ``--fail-on``.

Categories name groups of finding kinds; a kind's own name works too. The default fails on
any new error, any status, header or body regression the noise model did not explain, any
latency regression, any retry answered unlike production answered it and any outbound
call that changes something made a different number of times (``side_effect``). A service-wide
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
    Ledger,
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
    "shape": frozenset({"shape"}),
    "superlinear": frozenset({"superlinear"}),
    "side_effect": frozenset({"side_effect"}),
}
DEFAULT_FAIL_ON: tuple[str, ...] = (
    "new_error",
    "status",
    "headers",
    "body",
    "latency",
    "duplicate_delivery",
    "side_effect",
)
#: Added to the default when a probe ran (a run without probes has no such findings).
PROBE_FAIL_ON: tuple[str, ...] = ("race", "shape", "superlinear")
_KINDS = frozenset().union(*CATEGORIES.values())
#: word -> (one, many)
_LABELS = {
    "new_error": ("new error", "new errors"),
    "status": ("status regression", "status regressions"),
    # A probe's (faults) swallowed error is named for what it is, not by its word.
    "swallowed_error": (
        "swallowed error (a success where the baseline reported a failing dependency)",
        "swallowed errors (a success where the baseline reported a failing dependency)",
    ),
    "headers": ("header difference", "header differences"),
    "body": ("body difference", "body differences"),
    "latency": ("latency regression", "latency regressions"),
    "duplicate_delivery": (
        "retry answered unlike production",
        "retries answered unlike production",
    ),
    "fixed_error": ("fixed error", "fixed errors"),
    "race": (
        "race (answered differently under concurrency than alone)",
        "races (answered differently under concurrency than alone)",
    ),
    "shape": (
        "shape finding (a mutated request answered unlike the baseline answered it)",
        "shape findings (a mutated request answered unlike the baseline answered it)",
    ),
    "side_effect": (
        "request whose side effects differ",
        "requests whose side effects differ",
    ),
    "superlinear": (
        "superlinear growth (latency grows faster with size than the baseline's)",
        "superlinear growths (latency grows faster with size than the baseline's)",
    ),
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
    ledger: Ledger | None = None,
    max_unverified: float | None = None,
) -> GateOutcome:
    """The report's gate: passed, the words used, and one reason per failure.

    ``compared``: how many exchanges were compared in all. A gate that checked nothing
    (a dead baseline, every request skipped, a run killed before its first row) fails,
    unless it is told never to (``none``): passing would claim what was not verified.
    ``max_unverified``: the largest share of the ``ledger``'s selection that may be
    unverified or skipped; more fails the gate, so a run that checked little cannot pass.
    """
    selected = _kinds(fail_on)
    reasons: list[str] = []
    if compared == 0 and fail_on:
        reasons.append(
            "nothing was compared: no replayed exchange had both a baseline and a "
            "candidate answer, so nothing was verified (see the ledger's unverified and skipped)"
        )
    if max_unverified is not None and ledger is not None and ledger.selected:
        share = ledger.not_verified / ledger.selected
        if share > max_unverified:
            reasons.append(
                f"{ledger.not_verified:,} of {ledger.selected:,} exchanges ({share:.0%}) were "
                f"not verified (unverified or skipped), more than --max-unverified "
                f"{max_unverified:.0%}"
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
    return GateOutcome(
        passed=not reasons,
        fail_on=tuple(fail_on),
        reasons=tuple(reasons),
        max_unverified=max_unverified,
    )


def parse_share(value: str | float | None, flag: str = "--max-unverified") -> float | None:
    """A share as ``20%``, ``0.2`` or ``20`` (percent when above 1); None stays None."""
    if value is None:
        return None
    text = str(value).strip()
    percent = text.endswith("%")
    try:
        number = float(text.rstrip("%").strip())
    except ValueError:
        raise ConfigError(f"{flag}: {value!r} is not a share such as 20% or 0.2") from None
    if percent or number > 1:
        number /= 100
    if not 0 <= number <= 1:
        raise ConfigError(f"{flag} must be between 0% and 100% (got {value!r})")
    return number


def probe_reasons(probes: Iterable[ProbeRun], fail_on: Sequence[str]) -> list[str]:
    """The gate's reasons from probe findings: the candidate's own only (a race the live
    baseline shows too is not the candidate's to answer for)."""
    selected = _kinds(fail_on)
    per: dict[tuple[str, str], list[str]] = {}
    for probe in probes:
        for finding in probe.findings:
            word = selected.get(finding.kind)
            if word is not None and finding.gated:
                label = finding.kind if finding.kind in _LABELS else word
                per.setdefault((finding.endpoint, label), []).append(finding.location)
    return [
        f"{endpoint}: {_counted(word, len(where), where)}"
        for (endpoint, word), where in per.items()
    ]


def _counted(word: str, total: int, where: Iterable[str]) -> str:
    """``3 body differences ($.a, $.b)``: the count, its label in the right number, and the
    first three places."""
    one, many = _LABELS.get(word, (f"{word} finding", f"{word} findings"))
    return f"{total} {one if total == 1 else many} ({', '.join(sorted(set(where))[:3])})"


def _describe(word: str, found: Sequence[Finding | ServiceFinding]) -> str:
    if word == "latency":
        where = ", ".join(f.location.removeprefix("latency:") for f in found)
        return f"latency regression at {where}"
    return _counted(word, sum(f.count or 0 for f in found), (f.location for f in found))
