"""Attribution: which replayed request caused each outbound call a launched build made.

Each build launched with a deps proxy has a calls log (run.json's ``deps``). The replayer
sends a fresh W3C trace id to each target on every request (the results' ``T_trace_id``);
a service that propagates trace context keeps it on its outbound calls, with a new span
id per call, so a call goes to the request whose trace id it carries. A call without a
usable one (no ``traceparent``, or a trace id the replay never sent) is attributed by
time, and only when exactly one request was in flight on that target when the call
started; otherwise it is unattributed. Calls before a target's first request or after
its last answer (start-up work, background jobs, the probes) are counted apart, as
outside the replay. Shards are attributed one run folder at a time: each launched its
own builds. Calls are named with their route, templated as endpoints are (``diff.templating``).
"""

from __future__ import annotations

import os
import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shadowtape.deps.calls import FAULT
from shadowtape.deps.calls import read as read_calls
from shadowtape.deps.match import Quality
from shadowtape.diff.templating import Templater
from shadowtape.exchange import authority
from shadowtape.results.deps import KEY as DEPS_KEY
from shadowtape.results.deps import deps_proxies
from shadowtape.results.reader import read_batches
from shadowtape.results.schema import TARGETS

#: A call the dependency took: answered below 500, or asked of a mock that had no
#: recording for it (the service made the call; the 502 is ours). A 5xx, no answer or an
#: injected fault is a failed attempt, which a service may well retry.
_OURS = frozenset({Quality.UNMATCHED.value})
_TRACEPARENT = re.compile(r"^\s*([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})", re.I)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
#: Why a call went unattributed, as ``RoleCalls.unattributed`` counts it.
NO_TRACE = "no usable trace id"
NONE_IN_FLIGHT = "no request in flight"
SEVERAL_IN_FLIGHT = "several requests in flight"


@dataclass(frozen=True, slots=True)
class DependencyCall:
    """One outbound call as the ledger counts it."""

    method: str
    #: ``host`` or ``host:port`` (the port when it is not the scheme's default).
    host: str
    route: str
    status: int | None
    #: Whether the dependency took it (see _OURS): what the ledger compares.
    took: bool

    @property
    def name(self) -> str:
        """``POST payments.internal/charges``."""
        return f"{self.method} {self.host}{self.route}"


@dataclass(slots=True)
class RoleCalls:
    """One launched build's calls log and where its calls went."""

    role: str
    mode: str = ""
    log: str = ""
    calls: int = 0
    by_trace: int = 0
    by_time: int = 0
    outside: int = 0
    #: Calls no request could be given, by why (NO_TRACE + what was in flight).
    unattributed: Counter[str] = field(default_factory=Counter)
    #: The log named in run.json could not be read.
    missing: bool = False


@dataclass(slots=True)
class Attribution:
    roles: dict[str, RoleCalls] = field(default_factory=dict)
    #: (target, exchange id) -> the calls that target made for that request.
    calls: dict[tuple[str, str], list[DependencyCall]] = field(default_factory=dict)
    #: (call name, role) -> calls a mock had no recording for (match ``unmatched``).
    unmatched: Counter[tuple[str, str]] = field(default_factory=Counter)

    def of(self, target: str, exchange_id: str) -> list[DependencyCall] | None:
        """The calls `target` made for one request; None when it has no calls log."""
        info = self.roles.get(role_of(target))
        if info is None or info.missing:
            return None
        return self.calls.get((target, exchange_id), [])


def role_of(target: str) -> str:
    """The build a target's requests went to: the repeat is the candidate called again."""
    return "candidate" if target == "repeat" else target


def trace_id(traceparent: object) -> str | None:
    """The trace id of a W3C ``traceparent`` value; None when it has none worth matching."""
    if not isinstance(traceparent, str):
        return None
    found = _TRACEPARENT.match(traceparent)
    if found is None or found[1].lower() == "ff" or set(found[2]) == {"0"}:
        return None
    return found[2].lower()


def host_of(scheme: str, host: str, port: int | None) -> str:
    return authority(scheme.lower(), host.lower(), port)


def attribute(run_dirs: Sequence[Path], runs: Sequence[dict[str, object]]) -> Attribution | None:
    """The calls of every launched build of `run_dirs`, each given to the request that
    caused it; None when no build was launched with a deps proxy."""
    raw: list[tuple[Path, str, list[dict[str, object]]]] = []
    out = Attribution()
    for run_dir, run in zip(run_dirs, runs, strict=True):
        if not run.get(DEPS_KEY):
            continue
        for role, proxy in deps_proxies(run_dir).items():
            info = out.roles.setdefault(role, RoleCalls(role=role))
            info.mode = proxy.mode
            info.log = os.path.relpath(proxy.calls, run_dir.absolute())
            try:
                calls = read_calls(str(proxy.calls))
            except (OSError, UnicodeDecodeError):
                info.missing = True
                continue
            raw.append((run_dir, role, [c for c in calls if isinstance(c, dict)]))
    if not out.roles:
        return None
    templaters = _templaters(raw)
    for run_dir in dict.fromkeys(run_dir for run_dir, _, _ in raw):
        logs = {role: calls for d, role, calls in raw if d == run_dir}
        _attribute_run(out, run_dir, logs, templaters)
    return out


def by_trace_id(calls: Sequence[dict[str, object]]) -> dict[str, list[DependencyCall]]:
    """The calls of one calls log that carry a trace id, by trace id: for requests that
    are not in the results (a probe's), whose trace ids their sender knows."""
    templaters = _templaters([(Path(), "", list(calls))])
    out: dict[str, list[DependencyCall]] = {}
    for call in calls:
        tid = trace_id(call.get("traceparent"))
        if tid is not None:
            out.setdefault(tid, []).append(_ledger_call(call, templaters))
    return out


def _templaters(raw: list[tuple[Path, str, list[dict[str, object]]]]) -> dict[str, Templater]:
    """One templater per dependency (host:port): its paths are templated among its own."""
    templaters: dict[str, Templater] = {}
    for _, _, calls in raw:
        for call in calls:
            host = _host(call)
            templaters.setdefault(host, Templater()).observe(_method(call), _path(call))
    for templater in templaters.values():
        templater.freeze()
    return templaters


def _method(call: dict[str, object]) -> str:
    return str(call.get("method") or "").upper()


def _path(call: dict[str, object]) -> str:
    return str(call.get("path") or "/").split("?", 1)[0] or "/"


def _host(call: dict[str, object]) -> str:
    port = call.get("port")
    return host_of(
        str(call.get("scheme") or "http"),
        str(call.get("host") or ""),
        port if isinstance(port, int) else None,
    )


def _ledger_call(call: dict[str, object], templaters: dict[str, Templater]) -> DependencyCall:
    host, method = _host(call), _method(call)
    status = call.get("status")
    status = status if isinstance(status, int) and not isinstance(status, bool) else None
    match = str(call.get("match") or "")
    took = status is not None and match != FAULT and (status < 500 or match in _OURS)
    route = templaters[host].route(method, _path(call))
    return DependencyCall(method=method, host=host, route=route, status=status, took=took)


def _micros(value: object) -> int | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // _US


#: A call waiting for its request: when it started (µs) and what the ledger counts.
_Pending = tuple[int, DependencyCall]


def _attribute_run(
    out: Attribution,
    run_dir: Path,
    logs: dict[str, list[dict[str, object]]],
    templaters: dict[str, Templater],
) -> None:
    traced: dict[str, dict[str, list[_Pending]]] = {}
    untraced: dict[str, list[_Pending]] = {}
    for role, calls in logs.items():
        info = out.roles[role]
        for call in calls:
            info.calls += 1
            made = _ledger_call(call, templaters)
            if call.get("match") in _OURS:
                out.unmatched[(made.name, role)] += 1
            item = (_micros(call.get("time")) or 0, made)
            tid = trace_id(call.get("traceparent"))
            if tid is None:
                untraced.setdefault(role, []).append(item)
            else:
                traced.setdefault(role, {}).setdefault(tid, []).append(item)
    _by_trace(out, run_dir, traced)
    for role, left in traced.items():  # trace ids no replayed request carried: by time
        for items in left.values():
            untraced.setdefault(role, []).extend(items)
    if untraced:
        _by_time(out, run_dir, untraced)


def _by_trace(
    out: Attribution, run_dir: Path, traced: dict[str, dict[str, list[_Pending]]]
) -> None:
    """Give each traced call to the request whose trace id it carries (taken out of
    `traced`, which keeps the calls whose trace id no request carried)."""
    if not traced:
        return
    columns = ["exchange_id", *(f"{t}_trace_id" for t in TARGETS)]
    for batch in read_batches([run_dir], columns=columns):
        for i, exchange_id in enumerate(batch["exchange_id"]):
            for target in TARGETS:
                tid = batch[f"{target}_trace_id"][i]
                waiting = traced.get(role_of(target))
                if not isinstance(tid, str) or not waiting:
                    continue
                items = waiting.pop(tid.lower(), None)
                if items:
                    out.calls.setdefault((target, str(exchange_id)), []).extend(
                        made for _, made in items
                    )
                    out.roles[role_of(target)].by_trace += len(items)


def _by_time(
    out: Attribution,
    run_dir: Path,
    untraced: dict[str, list[_Pending]],
) -> None:
    """Give each call without a usable trace id to the one request in flight on its
    target when it started, if exactly one was."""
    times: dict[str, list[int]] = {}
    for role, items in untraced.items():
        items.sort(key=lambda item: item[0])
        times[role] = [t for t, _ in items]
    hits = {role: [0] * len(items) for role, items in untraced.items()}
    owner: dict[str, list[tuple[str, str] | None]] = {
        r: [None] * len(v) for r, v in untraced.items()
    }
    window: dict[str, list[int]] = {}
    columns = ["exchange_id", "scheduled_at", "lag_us", *(f"{t}_latency_us" for t in TARGETS)]
    for batch in read_batches([run_dir], columns=columns):
        for i, exchange_id in enumerate(batch["exchange_id"]):
            due = _micros(batch["scheduled_at"][i])
            if due is None:
                continue
            for target, start, end in _in_flight(batch, i, due):
                role = role_of(target)
                if role not in times:
                    continue
                span = window.setdefault(role, [start, end])
                span[0], span[1] = min(span[0], start), max(span[1], end)
                lo, hi = bisect_left(times[role], start), bisect_right(times[role], end)
                for k in range(lo, hi):
                    hits[role][k] += 1
                    owner[role][k] = (target, str(exchange_id))
    for role, items in untraced.items():
        info = out.roles[role]
        bounds = window.get(role)
        for k, (at, made) in enumerate(items):
            n = hits[role][k]
            who = owner[role][k]
            if n == 1 and who is not None:
                out.calls.setdefault(who, []).append(made)
                info.by_time += 1
            elif bounds is None or at < bounds[0] or at > bounds[1]:
                info.outside += 1
            else:
                info.unattributed[
                    f"{NO_TRACE}, {NONE_IN_FLIGHT if n == 0 else SEVERAL_IN_FLIGHT}"
                ] += 1


def _in_flight(batch: dict[str, list[object]], i: int, due: int) -> list[tuple[str, int, int]]:
    """(target, start, end) in µs for each target this request was sent to: from
    ``scheduled_at + lag_us`` to ``scheduled_at + T_latency_us``; the repeat was sent when
    the candidate's answer ended."""
    lag = batch["lag_us"][i]
    start = due + (lag if isinstance(lag, int) else 0)
    out = []
    for target in TARGETS:
        latency = batch[f"{target}_latency_us"][i]
        if not isinstance(latency, int):
            continue
        if target == "repeat":
            first = batch["candidate_latency_us"][i]
            begin = due + (first if isinstance(first, int) else 0)
            out.append((target, begin, begin + latency))
        else:
            out.append((target, start, max(start, due + latency)))
    return out
