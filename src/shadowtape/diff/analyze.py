"""Stream the results of one or more run folders into per-endpoint aggregates.

Two passes over the results: the first reads only methods and paths and learns the
endpoint templates; the second compares every replayed pair (baseline vs candidate) and
every A/A pair (baseline vs secondary, candidate vs repeat, identical requests within the
tape with no write to their host between them) and keeps, per endpoint, counts per
location, a bounded latency sample and a few example exchanges. Each side's own origin is
masked first (``diff.origins``); retries of an Idempotency-Key are checked, not learned
(``diff.retries``). Nothing keeps all rows, so a million results fit in well under 1 GB.
``shadowtape.report.build`` turns the aggregates into the typed report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from shadowtape.diff import sidefx
from shadowtape.diff.attribution import Attribution, DependencyCall, attribute
from shadowtape.diff.compare import DEFAULT_SETTINGS, DiffSettings, Side, compare
from shadowtape.diff.latency import LatencySample, LatencySettings
from shadowtape.diff.model import Difference, Kind, pattern_of
from shadowtape.diff.noise import NoiseModel, NoiseSettings
from shadowtape.diff.origins import Origins, mask
from shadowtape.diff.retries import Retries, idempotency_key
from shadowtape.diff.state import MUTATING, Change, Writes
from shadowtape.diff.subsets import features
from shadowtape.diff.templating import Route, Templater
from shadowtape.diff.volatile import both_volatile, same_but_volatile_text
from shadowtape.errors import ConfigError
from shadowtape.results.completeness import incomplete as incomplete_runs
from shadowtape.results.reader import read_batches, read_paths, read_run

#: Full example exchanges kept per endpoint while streaming (the report shows fewer).
EXAMPLE_SLOTS = 6
#: Distinct (location, kind) keys kept per endpoint; more are counted under "$…".
MAX_LOCATIONS = 400
#: Identical requests remembered per endpoint to learn noise from repeats in the tape.
MEMO_SLOTS = 32
MEMO_BODY = 16 * 1024
#: Identical-request A/A pairs per endpoint waiting for the tape's writes to be known.
PENDING_SLOTS = 2_000
#: A send that started this late (waiting for an earlier request, or the replayer behind
#: its schedule) did not meet the load production saw: its latency is not verifiable.
LAG_US = 10_000
BODY_CAP = 16 * 1024
#: Distinct outcomes kept per endpoint for the ledger; rarer ones fold into OVERFLOW.
OUTCOME_SLOTS = 2_048
#: Slowest latency pairs (candidate minus baseline) kept per endpoint as examples.
SLOWEST_SLOTS = 5
_VALUE_KINDS = (Kind.BODY_VALUE, Kind.HEADER)


@dataclass(frozen=True, slots=True)
class AnalysisSettings:
    diff: DiffSettings = DEFAULT_SETTINGS
    noise: NoiseSettings = field(default_factory=NoiseSettings)
    latency: LatencySettings = field(default_factory=LatencySettings)
    #: Example exchanges shown per endpoint.
    examples: int = 3


@dataclass(slots=True)
class LocStats:
    """What the candidate did at one (location pattern, kind) of one endpoint."""

    kind: str
    #: Requests where it differed and could be a regression ...
    count: int = 0
    #: ... where both values had the same volatile shape ...
    volatile: int = 0
    #: ... and where the location was redacted on the tape.
    redacted: int = 0
    locations: list[str] = field(default_factory=list)
    baseline: object = None
    candidate: object = None
    has_example: bool = False
    exchange_ids: list[str] = field(default_factory=list)
    volatile_example: object = None
    volatile_candidate: object = None
    volatile_ids: list[str] = field(default_factory=list)
    volatile_locations: list[str] = field(default_factory=list)


@dataclass(slots=True)
class EndpointStats:
    method: str
    route: str
    noise: NoiseModel
    latency: LatencySample
    #: Baseline vs secondary latencies: how much two baselines differ on their own.
    latency_noise: LatencySample = field(default_factory=LatencySample)
    requests: int = 0
    replayed: int = 0
    compared: int = 0
    live: int = 0
    recorded: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    ab: dict[tuple[str, str], LocStats] = field(default_factory=dict)
    notes: Counter[str] = field(default_factory=Counter)
    request_redactions: Counter[str] = field(default_factory=Counter)
    #: exchange id -> (keys it shows, example dict)
    examples: dict[str, tuple[set[tuple[str, str]], dict[str, object]]] = field(
        default_factory=dict
    )
    memo: dict[tuple[object, ...], tuple[Side, Side, int]] = field(default_factory=dict)
    #: Identical-request pairs: (host, first and second recorded time, baseline and
    #: candidate differences), learned once the tape's writes are known (``diff.state``).
    pending: list[tuple[str, int, int, list[Difference], list[Difference]]] = field(
        default_factory=list
    )
    noise_sources: set[str] = field(default_factory=set)
    #: Compared requests sent at least LAG_US late, and the largest lag seen (µs).
    lagged: int = 0
    max_lag_us: int = 0
    #: The ledger: how many compared exchanges showed each outcome, a frozenset of the
    #: (location pattern, kind, how) keys they differed at ("count", "volatile" or
    #: "redacted"); the empty set is an exchange that compared equal.
    outcomes: Counter[frozenset[tuple[str, str, str]]] = field(default_factory=Counter)
    #: Replayed exchanges that could not be compared, by reason.
    not_compared: Counter[str] = field(default_factory=Counter)
    #: The candidate's latency over the replayed exchanges, in µs.
    candidate_us: int = 0
    #: The slowest pairs: (candidate minus baseline µs, exchange id), slowest first.
    slowest: list[tuple[int, str]] = field(default_factory=list)
    #: Outbound calls per (call, status, target) (``diff.sidefx``), and the compared
    #: exchanges whose baseline's and candidate's calls were compared.
    calls: sidefx.CallCounts = field(default_factory=Counter)
    side_effects_compared: int = 0


@dataclass(slots=True)
class Analysis:
    runs: list[dict[str, object]]
    endpoints: dict[str, EndpointStats]
    routes: list[Route]
    exercised: set[Route]
    rows: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    #: Why the runs are a partial picture (results.completeness), when allowed.
    incomplete: list[str] = field(default_factory=list)
    origins: Origins = field(default_factory=Origins)
    writes: Writes = field(default_factory=Writes)
    retries: Retries = field(default_factory=Retries)
    #: The launched builds' outbound calls, given to requests; None without a deps proxy.
    attribution: Attribution | None = None


def analyze(
    run_dirs: Sequence[Path],
    *,
    settings: AnalysisSettings | None = None,
    routes: Sequence[Route] = (),
    allow_partial: bool = False,
) -> Analysis:
    """Aggregate the results of `run_dirs` (shards of one run are merged). Runs that are
    a partial picture raise ConfigError unless `allow_partial`."""
    settings = settings or AnalysisSettings()
    runs = [read_run(d) for d in run_dirs]
    incomplete, keep = incomplete_runs(run_dirs, runs)
    run_dirs, runs = [run_dirs[i] for i in keep], [runs[i] for i in keep]
    if incomplete and not allow_partial:
        raise ConfigError(
            f"the results are partial: {'; '.join(incomplete)}. Replay what is missing, give "
            "each run (or shard) once, or report what there is with --allow-partial"
        )
    templater = Templater(routes)
    for methods, paths in read_paths(run_dirs):
        for method, path in zip(methods, paths, strict=True):
            templater.observe(method or "", path or "/")
    templater.freeze()
    out = Analysis(
        runs=runs,
        endpoints={},
        routes=list(routes),
        exercised=templater.exercised,
        incomplete=incomplete,
        origins=Origins.of_runs(runs),
        attribution=attribute(run_dirs, runs),
    )
    for batch in read_batches(run_dirs):
        _batch(out, batch, templater, settings)
    _learn_identical_requests(out)
    return out


def _learn_identical_requests(out: Analysis) -> None:
    """Identical requests with no recorded write to their host between them are A/A
    pairs. Across a write to their collection they read a changed state; across one
    elsewhere on the host they may have, and are kept only when they differ at most in
    the order of a list or in values shaped like ids and times (which are presumed
    volatile anyway): any other value changed there may be that write's doing."""
    for ep in out.endpoints.values():
        for host, first, second, base_diffs, cand_diffs in ep.pending:
            change = out.writes.between(host, ep.route, first, second)
            if change is Change.RELATED or (
                change is Change.ELSEWHERE
                and not all(_shape_only(d) for d in (*base_diffs, *cand_diffs))
            ):
                ep.notes["state_changed"] += 1
                continue
            ep.noise.observe_both(base_diffs, cand_diffs)
            ep.noise_sources.add("identical requests")
        ep.pending.clear()


def _shape_only(d: Difference) -> bool:
    """A reordered list, or a value both sides write in a volatile shape."""
    if d.kind == Kind.ARRAY_ORDER:
        return True
    if d.kind in _VALUE_KINDS:
        return both_volatile(d.baseline, d.candidate)
    return d.kind == Kind.TEXT and same_but_volatile_text(d.baseline, d.candidate)


def _side(batch: dict[str, list[object]], target: str, i: int, out: Analysis) -> Side:
    origins = out.origins.of(batch, target, i)
    return mask(_raw_side(batch, target, i), origins)


def _raw_side(batch: dict[str, list[object]], target: str, i: int) -> Side:
    return Side(
        status=batch[f"{target}_status"][i],  # type: ignore[arg-type]
        headers=batch[f"{target}_headers"][i] or (),  # type: ignore[arg-type]
        body=batch[f"{target}_body"][i] or b"",  # type: ignore[arg-type]
        truncated=bool(batch[f"{target}_body_truncated"][i]),
        error_kind=batch[f"{target}_error_kind"][i],  # type: ignore[arg-type]
        error_message=batch[f"{target}_error_message"][i],  # type: ignore[arg-type]
    )


def _batch(
    out: Analysis, batch: dict[str, list[object]], templater: Templater, settings: AnalysisSettings
) -> None:
    n = len(batch["exchange_id"])
    for i in range(n):
        out.rows += 1
        method = str(batch["method"][i] or "")
        path = str(batch["path"][i] or "/")
        route = templater.route(method, path)
        name = f"{method} {route}"
        ep = out.endpoints.get(name)
        if ep is None:
            ep = out.endpoints[name] = EndpointStats(
                method=method,
                route=route,
                noise=NoiseModel(settings.noise),
                latency=LatencySample(seed=len(out.endpoints)),
            )
        ep.requests += 1
        skip = batch["skip_reason"][i]
        if method.upper() in MUTATING and (not skip or batch["baseline_mode"][i] == "recorded"):
            host = str(batch["host"][i] or "")
            out.writes.add(host, route, _recorded_us(batch, i, out.rows))
        if skip:
            ep.skipped[str(skip)] += 1
            out.skipped[str(skip)] += 1
            continue
        ep.replayed += 1
        _row(ep, batch, i, settings, out)


def _recorded_us(batch: dict[str, list[object]], i: int, ordinal: int) -> int:
    """When the request was recorded, in µs; its position in the stream when unknown."""
    at = batch["recorded_at"][i]
    if isinstance(at, datetime):
        return int(at.timestamp() * 1_000_000)
    return ordinal


def _row(
    ep: EndpointStats,
    batch: dict[str, list[object]],
    i: int,
    settings: AnalysisSettings,
    out: Analysis,
) -> None:
    exchange_id = str(batch["exchange_id"][i])
    calls = _calls(ep, out.attribution, exchange_id)
    recorded = batch["baseline_mode"][i] == "recorded"
    if recorded:
        ep.recorded += 1
    else:
        ep.live += 1
    redacted = _redactions(ep, batch["redactions"][i])  # type: ignore[arg-type]
    base = _side(batch, "baseline", i, out)
    cand = _side(batch, "candidate", i, out)
    c_us = batch["candidate_latency_us"][i]
    if isinstance(c_us, int):
        ep.candidate_us += c_us
    if not base.present or not cand.present:
        ep.notes["missing_response"] += 1
        ep.not_compared["missing_response"] += 1
        return
    if not recorded and base.error_kind is not None:
        # A live baseline that did not answer is no measure of the candidate: compared,
        # a dead baseline would pass a dead candidate, and excuse every error as fixed.
        ep.notes["baseline_failed"] += 1
        ep.not_compared["baseline_failed"] += 1
        return
    ep.compared += 1
    comparison = compare(base, cand, settings.diff)
    for note in set(comparison.notes):
        ep.notes[note] += 1
    key = idempotency_key(batch["request_headers"][i])  # type: ignore[arg-type]
    if key is not None:
        retry = out.retries.check(f"{ep.method} {ep.route}", key, base, cand)
        if isinstance(retry, Difference):
            comparison.differences.append(retry)
        elif retry is not None:
            ep.notes[retry] += 1
    if "baseline" in calls and "candidate" in calls and not (base.error_kind or cand.error_kind):
        ep.side_effects_compared += 1
        comparison.differences += sidefx.differences(calls["baseline"], calls["candidate"])
    outcome: frozenset[tuple[str, str, str]] = frozenset()
    if comparison.differences:
        outcome = _count(ep, comparison.differences, redacted, exchange_id, batch, i)
    if outcome not in ep.outcomes and len(ep.outcomes) >= OUTCOME_SLOTS:
        outcome = OVERFLOW
    ep.outcomes[outcome] += 1

    has_secondary = (
        batch["secondary_status"][i] is not None or batch["secondary_error_kind"][i] is not None
    )
    # A pair with a transport error on either side measures a target that did not answer,
    # not what an answer varies in: a dead secondary would excuse every candidate error.
    if has_secondary:
        secondary = _side(batch, "secondary", i, out)
        if secondary.error_kind is not None:
            ep.notes["secondary_failed"] += 1
        elif base.error_kind is None:
            aa = compare(base, secondary, settings.diff).differences
            if "baseline" in calls and "secondary" in calls:
                aa += sidefx.differences(calls["baseline"], calls["secondary"])
            ep.noise.observe(aa)
            ep.noise_sources.add("secondary")
    if batch["repeat_status"][i] is not None or batch["repeat_error_kind"][i] is not None:
        repeat = _side(batch, "repeat", i, out)
        if repeat.error_kind is None and cand.error_kind is None:
            ep.noise.observe(compare(cand, repeat, settings.diff).differences, candidate=True)
            ep.noise_sources.add("repeat")
    if not has_secondary and key is None:  # a retry is checked above, never an A/A pair
        at = _recorded_us(batch, i, out.rows)
        _identical_requests(ep, batch, i, base, cand, at, settings)

    b_us = batch["baseline_latency_us"][i]
    if b_us is not None and c_us is not None:
        _slowest(ep, int(c_us) - int(b_us), exchange_id)  # type: ignore[call-overload]
        service = batch["baseline_service_us"][i]
        body = batch["request_body"][i]
        ep.latency.add(
            int(b_us),  # type: ignore[call-overload]
            int(c_us),  # type: ignore[call-overload]
            service_us=int(service) if isinstance(service, int) else None,
            features=features(
                batch["query"][i],  # type: ignore[arg-type]
                len(body) if isinstance(body, bytes | bytearray) else None,
            ),
            exchange_id=exchange_id,
        )
        lag = batch["lag_us"][i]
        if isinstance(lag, int) and lag >= LAG_US and not recorded:
            ep.lagged += 1
            ep.max_lag_us = max(ep.max_lag_us, lag)
    s_us = batch["secondary_latency_us"][i]
    if b_us is not None and s_us is not None:
        ep.latency_noise.add(int(b_us), int(s_us))  # type: ignore[call-overload]


def _calls(
    ep: EndpointStats, attribution: Attribution | None, exchange_id: str
) -> dict[str, list[DependencyCall]]:
    """Each target's outbound calls for one request, counted in the endpoint's ledger;
    a target whose build had no calls log is absent."""
    found: dict[str, list[DependencyCall]] = {}
    if attribution is None:
        return found
    for target in ("baseline", "candidate", "secondary"):
        calls = attribution.of(target, exchange_id)
        if calls is not None:
            found[target] = calls
            sidefx.count(ep.calls, target, calls)
    return found


#: The outcome rarer exchanges fold into once OUTCOME_SLOTS are taken: the ledger counts
#: them as unverified ``unclassified`` (report._ledger), not as a guessed bucket.
OVERFLOW: frozenset[tuple[str, str, str]] = frozenset({("$…", "*", "count")})


def _slowest(ep: EndpointStats, shift_us: int, exchange_id: str) -> None:
    if len(ep.slowest) < SLOWEST_SLOTS or shift_us > ep.slowest[-1][0]:
        ep.slowest.append((shift_us, exchange_id))
        ep.slowest.sort(key=lambda pair: -pair[0])
        del ep.slowest[SLOWEST_SLOTS:]


def _identical_requests(
    ep: EndpointStats,
    batch: dict[str, list[object]],
    i: int,
    base: Side,
    cand: Side,
    at: int,
    settings: AnalysisSettings,
) -> None:
    """Compare responses to a request identical to the last one like it: A/A pairs from
    the tape, learned at the end if no write came between them (``diff.state``)."""
    if len(base.body) > MEMO_BODY or len(cand.body) > MEMO_BODY:
        return
    if base.error_kind is not None or cand.error_kind is not None:
        return  # no answer: nothing measured about what answers vary in
    key = (
        batch["host"][i],
        batch["method"][i],
        batch["path"][i],
        batch["query"][i],
        batch["request_body"][i],
    )
    earlier = ep.memo.get(key)
    if earlier is None and len(ep.memo) >= MEMO_SLOTS:
        return
    ep.memo[key] = (base, cand, at)
    if earlier is None or len(ep.pending) >= PENDING_SLOTS:
        return
    ep.pending.append(
        (
            str(batch["host"][i] or ""),
            earlier[2],
            at,
            compare(earlier[0], base, settings.diff).differences,
            compare(earlier[1], cand, settings.diff).differences,
        )
    )


def _redactions(ep: EndpointStats, redactions: list[str] | None) -> set[str]:
    """Response locations redacted on the tape, in differ words; counts request ones,
    each once per exchange (two redacted fields of one body are one redacted body)."""
    found: set[str] = set()
    in_request: set[str] = set()
    for loc in redactions or ():
        if loc.startswith("request."):
            in_request.add(loc.split("$", 1)[0] if "$" in loc else loc)
        elif loc.startswith("response.body$"):
            found.add(loc[len("response.body") :])
        elif loc.startswith("response.header."):
            found.add("header:" + loc[len("response.header.") :].lower())
        elif loc.startswith("response.set-cookie."):
            found.add("header:set-cookie:" + loc[len("response.set-cookie.") :])
        elif loc.startswith("response.body"):
            found.add("body")
    ep.request_redactions.update(in_request)
    return found


def _is_redacted(diff: Difference, redacted: set[str]) -> bool:
    if not redacted:
        return False
    loc = diff.location
    if loc in redacted or pattern_of(loc) in redacted:
        return True
    if diff.kind in (Kind.TEXT, Kind.DIGEST) and "body" in redacted:
        return True
    return any(loc.startswith(r) and loc[len(r) : len(r) + 1] in (".", "[", ":") for r in redacted)


def _count(
    ep: EndpointStats,
    differences: list[Difference],
    redacted: set[str],
    exchange_id: str,
    batch: dict[str, list[object]],
    i: int,
) -> frozenset[tuple[str, str, str]]:
    """Count the row's differences; its outcome for the ledger."""
    per_row: dict[tuple[str, str], Difference] = {}
    for d in differences:
        key = (pattern_of(d.location), str(d.kind))
        if key not in per_row:
            per_row[key] = d
    new_keys: set[tuple[str, str]] = set()
    outcome: set[tuple[str, str, str]] = set()
    for key, d in per_row.items():
        stats = ep.ab.get(key)
        if stats is None:
            if len(ep.ab) >= MAX_LOCATIONS:
                key = ("$…", str(d.kind))
                stats = ep.ab.get(key)
            if stats is None:
                stats = ep.ab[key] = LocStats(kind=str(d.kind))
        if _is_redacted(d, redacted):
            stats.redacted += 1
            outcome.add((*key, "redacted"))
            continue
        if (d.kind in _VALUE_KINDS and both_volatile(d.baseline, d.candidate)) or (
            d.kind == Kind.TEXT and same_but_volatile_text(d.baseline, d.candidate)
        ):
            stats.volatile += 1
            if stats.volatile_example is None:
                stats.volatile_example, stats.volatile_candidate = d.baseline, d.candidate
            if len(stats.volatile_ids) < 5:
                stats.volatile_ids.append(exchange_id)
            if d.location not in stats.volatile_locations and len(stats.volatile_locations) < 3:
                stats.volatile_locations.append(d.location)
            outcome.add((*key, "volatile"))
            continue
        outcome.add((*key, "count"))
        stats.count += 1
        if d.location not in stats.locations and len(stats.locations) < 3:
            stats.locations.append(d.location)
        if not stats.has_example:
            stats.baseline, stats.candidate, stats.has_example = d.baseline, d.candidate, True
        if len(stats.exchange_ids) < 5:
            stats.exchange_ids.append(exchange_id)
        if not any(key in keys for keys, _ in ep.examples.values()):
            new_keys.add(key)
    if new_keys and len(ep.examples) < EXAMPLE_SLOTS:
        ep.examples[exchange_id] = (new_keys | set(per_row), example(batch, i))
    return frozenset(outcome)


def _text(body: object) -> str | None:
    if not isinstance(body, bytes | bytearray):
        return None
    data = bytes(body)
    text = data[:BODY_CAP].decode("utf-8", errors="replace")
    if len(data) > BODY_CAP:
        text += f"\n… (cut: {len(data)} bytes in all, first {BODY_CAP} shown)"
    return text


def _pairs(headers: object) -> list[list[str]]:
    return [[n, v] for n, v in (headers or [])]  # type: ignore[attr-defined]


def _response(batch: dict[str, list[object]], target: str, i: int) -> dict[str, object]:
    kind = batch[f"{target}_error_kind"][i]
    error = f"{kind}: {batch[f'{target}_error_message'][i] or ''}".rstrip(": ") if kind else None
    return {
        "status": batch[f"{target}_status"][i],
        "headers": _pairs(batch[f"{target}_headers"][i]),
        "body": _text(batch[f"{target}_body"][i]),
        "error": error,
    }


def example(batch: dict[str, list[object]], i: int) -> dict[str, object]:
    """One exchange as the report shows it: request, baseline and candidate, bodies as text."""
    query = batch["query"][i]
    url = f"{batch['path'][i]}?{query}" if query else str(batch["path"][i])
    body = batch["request_body"][i]
    return {
        "exchange_id": batch["exchange_id"][i],
        "request": {
            "method": batch["method"][i],
            "url": url,
            "headers": _pairs(batch["request_headers"][i]),
            "body": _text(body) if body else None,
        },
        "baseline": _response(batch, "baseline", i),
        "candidate": _response(batch, "candidate", i),
    }
