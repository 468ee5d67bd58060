"""The report as types: what report.json holds (docs/report-format.md), one class per object.

The builder makes a ``Report``, every renderer reads one, and ``to_json`` turns it into
the documented structure: each class's fields are its keys, declared in the documented
order (tuples become lists), so report.json is the model serialized. Example values (a
finding's ``baseline``, a run's ``run.json``) stay JSON values: they are data from
traffic and from the replayer, not the report's own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, ClassVar

from shadowtape.diff.json import Tolerance
from shadowtape.diff.latency import LatencySettings
from shadowtape.diff.noise import NoiseSettings

#: A JSON value as parsed: None, bool, int, float, str, list or dict.
JSON = object
#: Percentile name ("p50", "p95", "p99") -> milliseconds (null when not measured).
Percentiles = Mapping[str, float | None]


def _json(value: object) -> object:
    if isinstance(value, _Serialized):
        return value.to_json()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple):
        return [_json(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _json(v) for k, v in value.items()}
    return value


class _Serialized:
    """Serialized field by field, in declaration order."""

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, Any]]

    def to_json(self) -> Mapping[str, object]:
        return {f.name: _json(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class Finding(_Serialized):
    """A difference the noise model did not explain, at one location of one endpoint."""

    kind: str
    location: str
    message: str = ""
    baseline: JSON = None
    candidate: JSON = None
    count: int | None = None
    #: count / compared; for latency, the ratio candidate / baseline of the percentile.
    rate: float | None = None
    exchange_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ServiceFinding(_Serialized):
    """One change that showed on most endpoints, reported once: one cause, one finding.

    The endpoints it covers list its ``id`` in their ``service_findings`` instead of
    repeating it among their own findings."""

    id: str
    kind: str
    location: str
    message: str = ""
    baseline: JSON = None
    candidate: JSON = None
    #: Requests where it happened, over all the endpoints it covers.
    count: int | None = None
    #: count / the compared requests of those endpoints.
    rate: float | None = None
    endpoints: tuple[str, ...] = ()
    exchange_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Unverified(_Serialized):
    """A caveat: something set aside or only partly checked, and why (``reason``)."""

    reason: str
    location: str = ""
    count: int | None = None
    rate: float | None = None
    detail: str = ""
    #: Noise only: the noise group and the A/A pairs measured.
    kind: str | None = None
    pairs: int | None = None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "reason": self.reason,
            "location": self.location,
            "count": self.count,
            "rate": self.rate,
        }
        if self.kind is not None or self.pairs is not None:
            out["kind"] = self.kind
            out["pairs"] = self.pairs
        out["detail"] = self.detail
        return out


@dataclass(frozen=True, slots=True)
class Ratio(_Serialized):
    """A latency ratio candidate / baseline with its bootstrap interval."""

    value: float | None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True, slots=True)
class Histogram(_Serialized):
    """Latency counts: ``len(edges_ms) + 1`` bins per side."""

    edges_ms: tuple[float, ...] = ()
    baseline: tuple[int, ...] = ()
    candidate: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Latency(_Serialized):
    """An endpoint's latency: percentiles per side, ratios when comparable, a histogram."""

    comparable: bool
    pairs: int | None = None
    baseline: Percentiles = field(default_factory=dict)
    candidate: Percentiles = field(default_factory=dict)
    #: None when not comparable (a recorded baseline).
    ratio: Mapping[str, Ratio] | None = None
    #: The live secondary's percentiles, None without one.
    secondary: Percentiles | None = None
    histogram: Histogram | None = None


@dataclass(frozen=True, slots=True)
class ExampleRequest(_Serialized):
    """The replayed request; ``url`` is the path and query."""

    method: str = ""
    url: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None


@dataclass(frozen=True, slots=True)
class ExampleResponse(_Serialized):
    """One side's answer; ``error`` is ``"<kind>: <message>"`` when it failed."""

    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Example(_Serialized):
    """One exchange that shows findings: the request and both answers, bodies as text."""

    exchange_id: str
    request: ExampleRequest = field(default_factory=ExampleRequest)
    baseline: ExampleResponse = field(default_factory=ExampleResponse)
    candidate: ExampleResponse = field(default_factory=ExampleResponse)


@dataclass(frozen=True, slots=True)
class Ledger(_Serialized):
    """Where every selected exchange went: exactly one bucket each, so the buckets sum
    to ``selected``. Caveats (a redacted credential in the request, measured noise) are
    listed beside the ledger, not in it."""

    selected: int = 0
    #: At least one difference that is a finding.
    regressed: int = 0
    #: Compared, no difference at all.
    equal: int = 0
    #: Compared, differences all explained: measured noise, volatile values, redacted.
    noise: int = 0
    #: Replayed but not compared, by reason (``missing_response``, ``baseline_failed``).
    unverified: Mapping[str, int] = field(default_factory=dict)
    #: Not replayed, by reason (``mutating``, ``unsafe_host``, ...).
    skipped: Mapping[str, int] = field(default_factory=dict)

    @property
    def unverified_total(self) -> int:
        return sum(self.unverified.values())

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    @property
    def not_verified(self) -> int:
        """Exchanges whose answers were not checked: unverified or skipped."""
        return self.unverified_total + self.skipped_total


@dataclass(frozen=True, slots=True)
class Endpoint(_Serialized):
    """One method and route: its verdict and the three lists (checked, findings, unverified)."""

    endpoint: str
    method: str = ""
    route: str = ""
    requests: int = 0
    replayed: int | None = None
    compared: int | None = None
    #: None in reports older than the ledger (1.2).
    ledger: Ledger | None = None
    #: The candidate's latencies summed over the replayed exchanges (junit's time).
    candidate_time_ms: float | None = None
    #: "regression", "unverified" or "ok".
    verdict: str = ""
    checked: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    unverified: tuple[Unverified, ...] = ()
    latency: Latency | None = None
    examples: tuple[Example, ...] = ()
    #: Ids of the service-wide findings that cover this endpoint (``Report.service_findings``).
    service_findings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GateOutcome(_Serialized):
    """Whether the run passes ``--fail-on``, and one reason per failing endpoint and word."""

    passed: bool
    fail_on: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    #: ``--max-unverified``: the largest share of not verified exchanges that passes.
    max_unverified: float | None = None


@dataclass(frozen=True, slots=True)
class Totals(_Serialized):
    """Counts over the whole run: rows, endpoints by verdict, findings."""

    exchanges: int = 0
    replayed: int = 0
    skipped: int = 0
    endpoints: int = 0
    regression: int = 0
    ok: int = 0
    unverified: int = 0
    findings: int = 0


@dataclass(frozen=True, slots=True)
class Settings(_Serialized):
    """What the analysis used: ignored and compared headers, tolerance, noise, latency."""

    ignored_headers: tuple[str, ...] = ()
    ignored_header_parts: tuple[str, ...] = ()
    compared_headers: tuple[str, ...] = ()
    #: The analysis's own settings, serialized field by field.
    tolerance: Tolerance = field(default_factory=Tolerance)
    noise: NoiseSettings = field(default_factory=NoiseSettings)
    latency: LatencySettings = field(default_factory=LatencySettings)


class _Text:
    """A ``run.json`` value, named as the attribute, as text; None when absent or empty."""

    __slots__ = ("key",)

    def __set_name__(self, owner: type, name: str) -> None:
        self.key = name

    def __get__(self, run: RunInfo, owner: type | None = None) -> str | None:
        value = run.raw.get(self.key)
        return str(value) if value else None


@dataclass(frozen=True, slots=True)
class RunInfo(_Serialized):
    """One merged run folder's ``run.json``, kept whole (the report copies it as written),
    with typed access to the fields the renderers show."""

    raw: Mapping[str, object] = field(default_factory=dict)

    run_id = _Text()
    candidate = _Text()
    baseline = _Text()
    secondary = _Text()
    shard = _Text()

    @property
    def started_at(self) -> str | None:
        value = self.raw.get("started_at")
        return value if isinstance(value, str) else None

    @property
    def finished_at(self) -> str | None:
        value = self.raw.get("finished_at")
        return value if isinstance(value, str) else None

    @property
    def interrupted(self) -> bool:
        return bool(self.raw.get("interrupted"))

    @property
    def schedule(self) -> Mapping[str, object]:
        value = self.raw.get("schedule")
        return value if isinstance(value, Mapping) else {}

    def to_json(self) -> Mapping[str, object]:
        return self.raw


@dataclass(frozen=True, slots=True)
class ProbeFinding(_Serialized):
    """A gap a probe provoked on one target: ``race`` (concurrency), ``duplicate_delivery``
    (duplicates), ``shape`` (shapes), ``superlinear`` or ``new_error`` (scale), with its
    example; ``alone``/``concurrent`` hold the two answers shown (for scale: the answer at
    the reference size, and the candidate's at the largest size)."""

    probe: str
    kind: str
    #: "candidate" or "baseline": the target that answered so.
    target: str
    endpoint: str
    location: str = ""
    message: str = ""
    #: The value at ``location`` in the answer given alone, and given under the probe.
    alone_value: JSON = None
    concurrent_value: JSON = None
    count: int | None = None
    rate: float | None = None
    #: A candidate finding on an endpoint where the live baseline does the same: not gated.
    in_baseline: bool = False
    #: ``duplicate_delivery``: what the second delivery did on each target (None: no
    #: live baseline, then ``compared`` is False).
    baseline_value: JSON = None
    candidate_value: JSON = None
    compared: bool = True
    #: The probe exchanges (probes/exchanges.jsonl): the answer alone, the answer at once,
    #: or as ``exchange_labels`` names them.
    exchange_ids: tuple[str, ...] = ()
    exchange_labels: tuple[str, ...] = ()
    request: ExampleRequest = field(default_factory=ExampleRequest)
    #: The recorded exchange the probe request was made from.
    seed: str = ""
    alone: ExampleResponse = field(default_factory=ExampleResponse)
    concurrent: ExampleResponse = field(default_factory=ExampleResponse)

    @property
    def gated(self) -> bool:
        """Whether the gate may fail on it: the candidate's own, not the baseline's too."""
        return self.target == "candidate" and not self.in_baseline


@dataclass(frozen=True, slots=True)
class ProbeRound(_Serialized):
    """One round of a probe (the faults probe: one dependency of an endpoint failing one
    way on both builds): each build's answers in order, and the verdict."""

    endpoint: str
    dependency: str = ""
    #: The call the endpoint made to it (``GET /stock/1``).
    calls: str = ""
    fault: str = ""
    rule: str = ""
    sent: int = 0
    baseline: str = ""
    candidate: str = ""
    verdict: str = ""


@dataclass(frozen=True, slots=True)
class ProbeRun(_Serialized):
    """One probe of the run: what it sent, what it found, what it could not verify."""

    name: str
    targets: tuple[str, ...] = ()
    settings: Mapping[str, int] = field(default_factory=dict)
    #: Endpoints probed.
    endpoints: int = 0
    #: Probe requests sent, per target.
    sent: Mapping[str, int] = field(default_factory=dict)
    findings: tuple[ProbeFinding, ...] = ()
    unverified: tuple[Unverified, ...] = ()
    #: Why the probe stopped early on a target, if it did.
    stopped: tuple[str, ...] = ()
    #: The exchange log, relative to the run folder.
    exchanges: str = ""
    #: What it sent, round by round (the faults probe only).
    rounds: tuple[ProbeRound, ...] = ()


@dataclass(frozen=True, slots=True)
class DependencyCalls(_Serialized):
    """A line of the side-effect ledger: how many times each target's build made one call
    (``POST payments.internal/charges``) that got one status, for one endpoint's requests."""

    endpoint: str
    call: str
    #: The dependency's status; None when the call got no answer.
    status: int | None = None
    #: target -> calls.
    calls: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DependencyLog(_Serialized):
    """One launched build's calls log, and where its calls went."""

    role: str
    mode: str = ""
    #: The calls log, relative to the run folder.
    log: str = ""
    calls: int = 0
    #: Given to a request by the trace id they carried, or by time (one in flight).
    by_trace: int = 0
    by_time: int = 0
    unattributed: int = 0
    #: Before the target's first request or after its last answer.
    outside: int = 0


@dataclass(frozen=True, slots=True)
class SideEffects(_Serialized):
    """The side-effect ledger: the launched builds' outbound calls per endpoint, and what
    could not be verified (unattributed and unmatched calls). Its ``side_effect`` findings
    are the endpoints' own."""

    logs: tuple[DependencyLog, ...] = ()
    #: Requests whose baseline's and candidate's calls were compared.
    compared: int = 0
    ledger: tuple[DependencyCalls, ...] = ()
    unverified: tuple[Unverified, ...] = ()


@dataclass(frozen=True, slots=True)
class Report(_Serialized):
    """report.json: the runs, totals, the gate, the settings and one entry per endpoint."""

    report_version: str
    generated_at: str = ""
    runs: tuple[RunInfo, ...] = ()
    #: Why the runs are a partial picture; None in reports older than the field.
    incomplete: tuple[str, ...] | None = None
    totals: Totals = field(default_factory=Totals)
    #: The run's ledger, the endpoints' summed; None in reports older than 1.2.
    ledger: Ledger | None = None
    gate: GateOutcome = field(default_factory=lambda: GateOutcome(passed=False))
    skipped: Mapping[str, int] = field(default_factory=dict)
    #: Redacted request locations over the whole run, each once (reason ``redacted``).
    redactions: tuple[Unverified, ...] = ()
    settings: Settings | None = None
    #: Changes seen on most endpoints, each once (``ServiceFinding``).
    service_findings: tuple[ServiceFinding, ...] = ()
    #: Regressions first, then unverified, then ok.
    endpoints: tuple[Endpoint, ...] = ()
    #: The probes that ran (``--probe``); None when none ran.
    probes: tuple[ProbeRun, ...] | None = None
    #: The launched builds' outbound calls; None when no build had a deps proxy.
    side_effects: SideEffects | None = None

    def to_json(self) -> dict[str, object]:
        """The documented structure, keys in the documented order."""
        out: dict[str, object] = {
            "report_version": self.report_version,
            "generated_at": self.generated_at,
            "runs": [run.to_json() for run in self.runs],
        }
        if self.incomplete is not None:
            out["incomplete"] = list(self.incomplete)
        out["totals"] = self.totals.to_json()
        if self.ledger is not None:
            out["ledger"] = self.ledger.to_json()
        out["gate"] = self.gate.to_json()
        out["skipped"] = dict(self.skipped)
        out["redactions"] = [r.to_json() for r in self.redactions]
        if self.settings is not None:
            out["settings"] = self.settings.to_json()
        out["service_findings"] = [f.to_json() for f in self.service_findings]
        out["endpoints"] = [e.to_json() for e in self.endpoints]
        if self.probes is not None:
            out["probes"] = [p.to_json() for p in self.probes]
        if self.side_effects is not None:
            out["side_effects"] = self.side_effects.to_json()
        return out

    def by_verdict(self, verdict: str) -> list[Endpoint]:
        return [e for e in self.endpoints if e.verdict == verdict]

    def service_finding(self, id_: str) -> ServiceFinding | None:
        return next((f for f in self.service_findings if f.id == id_), None)

    def write(
        self,
        out_dir: str | os.PathLike[str],
        formats: Sequence[str] = ("json", "html", "junit", "markdown"),
    ) -> dict[str, Path]:
        """Write this report into ``out_dir`` as report.json, report.html, junit.xml and
        summary.md (``formats``: any of "json", "html", "junit", "markdown"/"summary");
        the path written per format."""
        from shadowtape.report import write_report

        return write_report(self, out_dir, formats)
