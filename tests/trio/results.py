"""Write replay results (docs/results-format.md) by calling the trio with httpx.

The replayer writes this format too; this small writer (sharing only the replayer's schema)
lets the analysis be tested on real responses from real servers, in live and
recorded-baseline modes, independently of the replay engine.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from shadowtape.ids import new_id
from shadowtape.results.schema import SCHEMA, TARGETS
from tests.trio.service import Trio

Row = dict[str, Any]


def call(client: httpx.Client, base: str, method: str, target: str) -> dict[str, Any]:
    """One request; the target's columns (without the prefix)."""
    started = time.perf_counter()
    try:
        response = client.request(method, base + target)
    except httpx.TransportError as exc:
        elapsed = round((time.perf_counter() - started) * 1e6)
        return {
            "error_kind": "timeout" if isinstance(exc, httpx.TimeoutException) else "refused",
            "error_message": str(exc),
            "latency_us": elapsed,
            "service_us": elapsed,
        }
    return answered(response, started)


def answered(response: httpx.Response, started: float) -> dict[str, Any]:
    """A response's columns (without the prefix), timed from ``started`` (perf_counter)."""
    elapsed = round((time.perf_counter() - started) * 1e6)
    return {
        "status": response.status_code,
        "reason": response.reason_phrase,
        "headers": list(response.headers.multi_items()),
        "body": response.content,
        "body_size": len(response.content),
        "body_truncated": False,
        "latency_us": elapsed,
        "service_us": elapsed,
    }


def blank_row(**columns: Any) -> Row:
    """A results row: every column None but the ones given."""
    row: Row = dict.fromkeys(SCHEMA.names)
    row.update(columns)
    return row


def numbered_row(n: int, path: str, *, mode: str) -> Row:
    """Exchange ``ex{n:05d}``: a GET of ``path`` without query, headers, body or
    redactions, and no target's columns yet (the hand-made rows of the analysis tests)."""
    return blank_row(
        exchange_id=f"ex{n:05d}",
        method="GET",
        path=path,
        query="",
        request_body=b"",
        request_headers=[],
        redactions=[],
        baseline_mode=mode,
    )


def put(row: Row, target: str, columns: dict[str, Any]) -> None:
    """Set ``target``'s columns (``columns`` names them without the prefix)."""
    for name, value in columns.items():
        row[f"{target}_{name}"] = value


def _row(run_id: str, method: str, target: str, mode: str) -> Row:
    path, _, query = target.partition("?")
    now = datetime.now(UTC)
    return blank_row(
        run_id=run_id,
        exchange_id=new_id(),
        recorded_at=now,
        source="trio",
        method=method,
        scheme="http",
        host="api.example.test",
        path=path,
        query=query,
        request_headers=[("Accept", "application/json")],
        request_body=b"",
        redactions=[],
        baseline_mode=mode,
        scheduled_at=now,
        lag_us=0,
    )


def write(run_dir: Path, rows: list[Row], run: dict[str, Any], *, shards: int = 1) -> list[Path]:
    """Write rows as `shards` run folders (run_dir, or run_dir-1of2 ...); return them."""
    dirs: list[Path] = []
    for index in range(shards):
        folder = (
            run_dir if shards == 1 else run_dir.with_name(f"{run_dir.name}-{index + 1}of{shards}")
        )
        (folder / "results").mkdir(parents=True)
        part = rows[index::shards]
        for row in part:
            for key in ("request_headers", *(f"{t}_headers" for t in TARGETS)):
                if row[key] is not None:
                    row[key] = [{"name": n, "value": v} for n, v in row[key]]
        table = pa.Table.from_pylist(part, schema=SCHEMA)
        pq.write_table(table, folder / "results" / "part-00000.parquet")
        meta = dict(run, shard=f"{index + 1}/{shards}" if shards > 1 else None)
        if shards > 1:  # each shard is a replay of its own, as `replay --shard I/N` writes
            skipped = sum(1 for r in part if r["skip_reason"])
            meta["run_id"] = f"{run['run_id']}-{index + 1}"
            meta["counts"] = {
                "selected": len(part),
                "replayed": len(part) - skipped,
                "skipped": skipped,
            }
        (folder / "run.json").write_bytes(orjson.dumps(meta))
        dirs.append(folder)
    return dirs


def _run_json(
    run_id: str, trio: Trio, baseline: str, secondary: str | None, rows: list[Row]
) -> dict[str, Any]:
    skipped = sum(1 for r in rows if r["skip_reason"])
    now = datetime.now(UTC).isoformat()
    return {
        "results_version": "1.0",
        "run_id": run_id,
        "started_at": now,
        "finished_at": now,
        "tapes": ["trio"],
        "candidate": trio.candidate.url,
        "baseline": baseline,
        "secondary": secondary,
        "settings": {},
        "counts": {"selected": len(rows), "replayed": len(rows) - skipped, "skipped": skipped},
        "skipped": {"mutating": skipped} if skipped else {},
        "schedule": {"max_lag_ms": 0, "p99_lag_ms": 0, "fell_behind": False},
        "interrupted": False,
        "shard": None,
    }


def run_live(
    trio: Trio, run_dir: Path, traffic: list[tuple[str, str]], *, shards: int = 1
) -> list[Path]:
    """Live baseline and secondary, replayed side by side with the candidate."""
    run_id = new_id()
    rows: list[Row] = []
    with httpx.Client(timeout=5) as client:
        for method, target in traffic:
            row = _row(run_id, method, target, "live")
            if method not in ("GET", "HEAD", "OPTIONS"):
                row["skip_reason"] = "mutating"
            else:
                for name, server in (
                    ("baseline", trio.baseline),
                    ("candidate", trio.candidate),
                    ("secondary", trio.secondary),
                ):
                    put(row, name, call(client, server.url, method, target))
            rows.append(row)
    return write(
        run_dir,
        rows,
        _run_json(run_id, trio, trio.baseline.url, trio.secondary.url, rows),
        shards=shards,
    )


def _pseudonymize(row: Row) -> None:
    """What the sanitizer does to the account owner's e-mail on the tape."""
    if not row["path"].startswith("/api/account/") or not row["baseline_body"]:
        return
    doc = orjson.loads(row["baseline_body"])
    doc["owner_email"] = "u-3f9a1c@example.invalid"
    row["baseline_body"] = orjson.dumps(doc)
    row["redactions"] = ["response.body$.owner_email"]


def run_recorded(
    trio: Trio, run_dir: Path, traffic: list[tuple[str, str]], *, repeat_every: int = 2
) -> list[Path]:
    """Recorded baseline (production answered earlier); every Nth safe request repeated."""
    run_id = new_id()
    rows: list[Row] = []
    with httpx.Client(timeout=5) as client:
        for method, target in traffic:  # "production": recorded first
            row = _row(run_id, method, target, "recorded")
            if method in ("GET", "HEAD", "OPTIONS"):
                put(row, "baseline", call(client, trio.baseline.url, method, target))
                _pseudonymize(row)
            else:
                row["skip_reason"] = "mutating"
            rows.append(row)
        time.sleep(1.1)  # replayed later: clocks have moved on
        safe = 0
        for row in rows:
            if row["skip_reason"]:
                continue
            target = row["path"] + (f"?{row['query']}" if row["query"] else "")
            put(row, "candidate", call(client, trio.candidate.url, row["method"], target))
            safe += 1
            if safe % repeat_every == 0:
                put(row, "repeat", call(client, trio.candidate.url, row["method"], target))
    return write(run_dir, rows, _run_json(run_id, trio, "recorded", None, rows))
