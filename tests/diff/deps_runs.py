"""Run folders with launched builds' calls logs, for the attribution and ledger tests.

Result rows go through real Parquet in the replayer's schema (with each target's
``T_trace_id``), and calls logs are written by the deps proxy's own ``CallsLog``; run.json
names them under ``deps`` as ``shadowtape replay`` does for launched builds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from shadowtape.deps.calls import Call, CallsLog
from shadowtape.results.schema import SCHEMA, TARGETS

T0 = datetime(2026, 12, 6, 12, 0, 0, tzinfo=UTC)
_SPAN = iter(range(1, 1 << 40))


def trace(n: int, target: str) -> str:
    """The trace id the replayer sent to `target` on request `n` (32 hex)."""
    return f"{n:08x}{TARGETS.index(target):08x}{'ab' * 8}"


def traceparent(trace_id: str) -> str:
    """A service's outbound traceparent: the request's trace id, a span id of its own."""
    return f"00-{trace_id}-{next(_SPAN):016x}-01"


@dataclass
class Request:
    """One replayed request: when it was in flight (ms after T0) and its calls per target."""

    n: int
    start_ms: float
    end_ms: float
    method: str = "POST"
    path: str = "/api/orders"
    #: target -> calls (made with ``made``)
    calls: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    status: int = 201
    traced: bool = True

    @property
    def exchange_id(self) -> str:
        return f"ex{self.n:05d}"


def made(
    method: str = "POST",
    host: str = "payments.internal",
    port: int = 80,
    path: str = "/charges",
    status: int | None = 201,
    *,
    at_ms: float | None = None,
    traced: bool | None = None,
    match: str = "forwarded",
    scheme: str = "http",
) -> dict[str, Any]:
    """A call a build made; when and with which trace context are filled in by ``write_run``
    (`at_ms` overrides the time, `traced` whether it carries a traceparent)."""
    return {
        "method": method,
        "host": host,
        "port": port,
        "path": path,
        "status": status,
        "at_ms": at_ms,
        "traced": traced,
        "match": match,
        "scheme": scheme,
    }


def _at(ms: float) -> datetime:
    return T0 + timedelta(microseconds=round(ms * 1000))


def _row(req: Request, targets: list[str]) -> dict[str, Any]:
    row: dict[str, Any] = {name: None for name in SCHEMA.names}
    row.update(
        run_id="run",
        exchange_id=req.exchange_id,
        recorded_at=_at(req.start_ms),
        source="t",
        method=req.method,
        scheme="http",
        host="shop.example.test",
        path=req.path,
        query="",
        request_headers=[],
        request_body=b"{}",
        redactions=[],
        baseline_mode="live",
        scheduled_at=_at(req.start_ms),
        lag_us=0,
    )
    for target in targets:
        row[f"{target}_status"] = req.status
        row[f"{target}_headers"] = [{"name": "Content-Type", "value": "application/json"}]
        row[f"{target}_body"] = b'{"ok": true}'
        row[f"{target}_body_size"] = 12
        row[f"{target}_body_truncated"] = False
        row[f"{target}_latency_us"] = round((req.end_ms - req.start_ms) * 1000)
        row[f"{target}_service_us"] = row[f"{target}_latency_us"]
        row[f"{target}_trace_id"] = trace(req.n, target) if req.traced else None
    return row


def _schema() -> pa.Schema:
    schema = SCHEMA
    for target in TARGETS:  # results 1.3's columns, on a schema that may predate them
        if f"{target}_trace_id" not in schema.names:
            schema = schema.append(pa.field(f"{target}_trace_id", pa.string()))
    return schema


def write_run(
    run_dir: Path,
    requests: list[Request],
    *,
    targets: tuple[str, ...] = ("baseline", "candidate"),
    logs: tuple[str, ...] | None = None,
    extra_calls: dict[str, list[dict[str, Any]]] | None = None,
    mode: str = "passthrough",
) -> Path:
    """A run folder: one row per request on `targets`, and a calls log for each target in
    `logs` (default: every target). A call is made at the middle of its request unless it
    says when; it carries its request's trace id unless told not to or the request is
    untraced. `extra_calls` (per target) are made by no request."""
    logs = targets if logs is None else logs
    (run_dir / "results").mkdir(parents=True)
    (run_dir / "deps").mkdir()
    table = pa.Table.from_pylist([_row(r, list(targets)) for r in requests], schema=_schema())
    pq.write_table(table, run_dir / "results" / "part-00000.parquet")
    deps: dict[str, Any] = {}
    for target in logs:
        rel = f"deps/{target}.calls.jsonl"
        log = CallsLog(os.fspath(run_dir / rel))
        items = [(r, c) for r in requests for c in r.calls.get(target, [])]
        items += [(None, c) for c in (extra_calls or {}).get(target, [])]
        for req, c in items:
            at = c["at_ms"]
            if at is None and req is not None:
                at = (req.start_ms + req.end_ms) / 2
            carries = c["traced"] if c["traced"] is not None else req is not None and req.traced
            log.write(
                Call(
                    time=_at(at or 0).isoformat(timespec="microseconds"),
                    name=target,
                    mode=mode,
                    method=c["method"],
                    scheme=c["scheme"],
                    host=c["host"],
                    port=c["port"],
                    path=c["path"],
                    query="",
                    status=c["status"],
                    error=None if c["status"] is not None else "connection reset",
                    traceparent=traceparent(trace(req.n, target)) if carries and req else None,
                    match=c["match"],
                    fault=None,
                    recorded_id=None,
                    duration_ms=1.0,
                )
            )
        log.close()
        deps[target] = {
            "mode": mode,
            "proxy": "http://127.0.0.1:1",
            "calls": rel,
            "faults": f"deps/{target}.faults.json",
        }
    now = T0.isoformat().replace("+00:00", "Z")
    run = {
        "results_version": "1.3",
        "run_id": "run",
        "started_at": now,
        "finished_at": now,
        "candidate": "http://127.0.0.1:2",
        "baseline": "http://127.0.0.1:3",
        "secondary": "http://127.0.0.1:4" if "secondary" in targets else None,
        "counts": {"selected": len(requests), "replayed": len(requests), "skipped": 0},
        "interrupted": False,
        "shard": None,
        "deps": deps,
    }
    (run_dir / "run.json").write_bytes(orjson.dumps(run))
    return run_dir
