"""End to end: a tape recorded from the trio's baseline, replayed by the real
`shadowtape replay` (live with a secondary, and against the recording), which writes
report.json through shadowtape.report. Every planted difference is found on its endpoint
with its kind, and none of the planted noise is reported as a regression."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest

from shadowtape import Exchange, Request, Response, TapeWriter
from tests.trio.expect import by_endpoint, check_report
from tests.trio.service import Trio, traffic, trio

pytestmark = pytest.mark.e2e


def record(server_url: str, tape: Path) -> None:
    """What the recorder would have written in production: the baseline's answers."""
    start = datetime.now(UTC)
    with httpx.Client(timeout=5) as client, TapeWriter(tape) as writer:
        for i, (method, target) in enumerate(traffic()):
            path, _, query = target.partition("?")
            t0 = time.perf_counter()
            reply = client.request(method, server_url + target)
            duration = round((time.perf_counter() - t0) * 1e6)
            body, redactions = reply.content, ()
            if path.startswith("/api/account/"):  # as the sanitizer leaves it
                doc = orjson.loads(body)
                doc["owner_email"] = "u-3f9a1c@example.invalid"
                body, redactions = orjson.dumps(doc), ("response.body$.owner_email",)
            writer.write(
                Exchange(
                    request=Request(
                        method=method,
                        host="api.example.test",
                        path=path,
                        query=query,
                        headers=(("Accept", "application/json"),),
                    ),
                    response=Response(
                        status=reply.status_code,
                        reason=reply.reason_phrase,
                        headers=tuple(reply.headers.multi_items()),
                        body=body,
                        body_size=len(body),
                    ),
                    recorded_at=start + timedelta(milliseconds=i),
                    source="trio",
                    duration_us=duration,
                    redactions=redactions,
                )
            )


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Trio, Path]]:
    with trio() as t:
        tape = tmp_path_factory.mktemp("tape")
        record(t.baseline.url, tape)
        yield t, tape


def replay(tape: Path, out: Path, *targets: str) -> tuple[int, dict[str, object]]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "shadowtape",
            "replay",
            str(tape),
            "--out",
            str(out),
            "--pace",
            "asap",
            "--concurrency",
            "4",
            "--timeout",
            "5",
            "--progress",
            "off",
            *targets,
        ],
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert (out / "report.json").exists(), done.stderr
    return done.returncode, orjson.loads((out / "report.json").read_bytes())


def live(t: Trio) -> tuple[str, ...]:
    """The flags of a replay against the trio's live baseline and secondary."""
    return (
        "--candidate",
        t.candidate.url,
        "--baseline",
        t.baseline.url,
        "--secondary",
        t.secondary.url,
    )


def test_live_baseline_and_secondary(recorded: tuple[Trio, Path], tmp_path: Path) -> None:
    t, tape = recorded
    code, report = replay(tape, tmp_path / "run", *live(t))
    assert code == 1
    check_report(report, live=True)  # type: ignore[arg-type]
    assert report["gate"]["passed"] is False  # type: ignore[index]


def test_recorded_baseline(recorded: tuple[Trio, Path], tmp_path: Path) -> None:
    t, tape = recorded
    code, report = replay(
        tape,
        tmp_path / "run",
        "--candidate",
        t.candidate.url,
        "--baseline",
        "recorded",
        "--repeat-sample",
        "0.5",
    )
    assert code == 1
    check_report(report, live=False)  # type: ignore[arg-type]
    account = by_endpoint(report)["GET /api/account/{id}"]  # type: ignore[arg-type]
    assert any(
        u["reason"] == "redacted" and u["location"] == "$.owner_email"
        for u in account["unverified"]
    )


def test_shards_replayed_apart_are_merged_by_shadowtape_report(
    recorded: tuple[Trio, Path], tmp_path: Path
) -> None:
    t, tape = recorded
    shards = [tmp_path / "shard1", tmp_path / "shard2"]
    for i, out in enumerate(shards, start=1):
        replay(tape, out, *live(t), "--shard", f"{i}/2")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "shadowtape",
            "report",
            *map(str, shards),
            "--out",
            str(tmp_path / "all"),
        ],
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert done.returncode == 1, done.stderr
    report = orjson.loads((tmp_path / "all" / "report.json").read_bytes())
    assert len(report["runs"]) == 2 and report["totals"]["exchanges"] == len(traffic())
    check_report(report, live=True)
