"""Run folders from real loopback services, written in the replayer's results format.

Each test plays "production" against a baseline service while recording (or sends each
request to a live baseline, secondary and candidate at the same moment), writes the rows
with ``tests.trio.results.write`` and reads the report through ``analyze``: the
comparison is tested on real answers without the replay engine in between.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from shadowtape.ids import new_id
from shadowtape.report import analyze
from tests.trio.results import answered, blank_row, put, write

Row = dict[str, Any]


@dataclass(frozen=True)
class Req:
    method: str
    target: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


@dataclass
class Recorder:
    """Rows in the order production saw them, recorded_at 1 ms apart."""

    run_id: str = field(default_factory=new_id)
    #: The recorded request's origin: where production was.
    scheme: str = "https"
    host: str = "api.example.test"
    start: datetime = field(default_factory=lambda: datetime.now(UTC))
    rows: list[Row] = field(default_factory=list)

    def row(self, req: Req, mode: str) -> Row:
        path, _, query = req.target.partition("?")
        at = self.start + timedelta(milliseconds=len(self.rows))
        row = blank_row(
            run_id=self.run_id,
            exchange_id=new_id(),
            recorded_at=at,
            source="test",
            method=req.method,
            scheme=self.scheme,
            host=self.host,
            path=path,
            query=query,
            request_headers=list(req.headers),
            request_body=req.body,
            redactions=[],
            baseline_mode=mode,
            scheduled_at=at,
            lag_us=0,
        )
        self.rows.append(row)
        return row


def call(client: httpx.Client, base: str, req: Req) -> dict[str, Any]:
    started = time.perf_counter()
    response = client.request(
        req.method, base + req.target, headers=list(req.headers), content=req.body or None
    )
    return answered(response, started)


def run_json(rec: Recorder, *, candidate: str, baseline: str, secondary: str | None) -> Row:
    now = datetime.now(UTC).isoformat()
    return {
        "results_version": "1.1",
        "run_id": rec.run_id,
        "started_at": now,
        "finished_at": now,
        "tapes": ["test"],
        "candidate": candidate,
        "baseline": baseline,
        "secondary": secondary,
        "settings": {},
        "counts": {"selected": len(rec.rows), "replayed": len(rec.rows), "skipped": 0},
        "skipped": {},
        "schedule": {"max_lag_ms": 0, "p99_lag_ms": 0, "fell_behind": False},
        "interrupted": False,
        "shard": None,
    }


def recorded_run(
    out: Path, production: str, candidate: str, traffic: Sequence[Req]
) -> dict[str, Any]:
    """Record `traffic` from production, then replay it in order to the candidate (writes
    included, as with --allow-mutating); the report, as report.json holds it."""
    origin = urlsplit(production)
    rec = Recorder(scheme=origin.scheme, host=origin.netloc)
    with httpx.Client(timeout=5) as client:
        rows = []
        for req in traffic:
            row = rec.row(req, "recorded")
            put(row, "baseline", call(client, production, req))
            rows.append((row, req))
        for row, req in rows:
            put(row, "candidate", call(client, candidate, req))
    return report_of(out, rec, candidate=candidate, baseline="recorded", secondary=None)


def live_run(
    out: Path,
    baseline: str,
    candidate: str,
    traffic: Sequence[Req],
    *,
    secondary: str | None = None,
    in_flight: int = 1,
) -> dict[str, Any]:
    """Each request sent to every target at the same moment, `in_flight` at a time."""
    rec = Recorder()
    targets = {"baseline": baseline, "candidate": candidate}
    if secondary:
        targets["secondary"] = secondary
    rows = [rec.row(req, "live") for req in traffic]
    with (
        httpx.Client(timeout=5, limits=httpx.Limits(max_connections=64)) as client,
        ThreadPoolExecutor(in_flight * len(targets)) as pool,
    ):

        def one(pair: tuple[Row, Req]) -> None:
            row, req = pair
            futures = {t: pool.submit(call, client, url, req) for t, url in targets.items()}
            for target, future in futures.items():
                put(row, target, future.result())

        with ThreadPoolExecutor(in_flight) as senders:
            # Open the connections first, as the replayer does before its schedule starts:
            # connecting is not the service's latency.
            warm = [Req("GET", traffic[0].target, traffic[0].headers)] * in_flight * 2
            list(senders.map(lambda r: [call(client, u, r) for u in targets.values()], warm))
            list(senders.map(one, zip(rows, traffic, strict=True)))
    return report_of(out, rec, candidate=candidate, baseline=baseline, secondary=secondary)


def report_of(
    out: Path, rec: Recorder, *, candidate: str, baseline: str, secondary: str | None
) -> dict[str, Any]:
    meta = run_json(rec, candidate=candidate, baseline=baseline, secondary=secondary)
    dirs = write(out, rec.rows, meta)
    return analyze(dirs).to_json()  # type: ignore[return-value]


def endpoint(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(e for e in report["endpoints"] if e["endpoint"] == name)


def kinds(report: dict[str, Any], name: str) -> set[tuple[str, str]]:
    return {(f["kind"], f["location"]) for f in endpoint(report, name)["findings"]}
