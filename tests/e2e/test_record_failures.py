"""A recording failure never fails or stalls a proxied request; it is counted and logged.

Each test breaks recording in one way while real clients go through a real mitmdump:
an unwritable tape folder, the folder deleted mid-run, a writer that throws, a queue
that is full, a worker process that dies. Every request must still get its answer
quickly, and the recorder's counters and log must say what was lost.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.e2e.record_support import FAULTY_SCRIPT, Proxy, proxy, read_tapes, worker_pids
from tests.servers import Reply, serve

pytestmark = pytest.mark.e2e

#: Far above a proxied loopback request, far below anything a client would call a stall.
STALL = 2.0


def _ok(_: object) -> Reply:
    return Reply(200, [("Content-Type", "application/json")], b'{"ok": true}')


def _drive(p: Proxy, count: int, concurrency: int = 4) -> list[float]:
    """Send ``count`` requests; every one must answer 200. Returns their latencies."""

    with httpx.Client(base_url=p.url, timeout=10) as client:

        def one(i: int) -> float:
            started = time.perf_counter()
            response = client.get(f"/item/{i}")
            assert response.status_code == 200
            assert response.content == b'{"ok": true}'
            return time.perf_counter() - started

        with ThreadPoolExecutor(concurrency) as pool:
            latencies = list(pool.map(one, range(count)))
    assert max(latencies) < STALL, f"a request took {max(latencies):.2f} s"
    return latencies


def _warnings(p: Proxy, text: str) -> list[str]:
    return [line for line in p.lines if text in line]


def test_an_unwritable_tape_folder_is_counted_and_logged(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the tape folder's parent should be")
    tapes = blocker / "tapes"
    with (
        serve(_ok) as upstream,
        proxy(upstream.url, tapes, options={"shadowtape_log_interval": 1}) as p,
    ):
        _drive(p, 30)
        stats = p.wait_stats("failed", 30)
        assert p.stop() == 0
    assert stats["failed"] == 30
    assert stats["written"] == 0
    assert _warnings(p, "cannot create the tape folder")
    reports = _warnings(p, "failed (tape or worker errors)")
    assert 1 <= len(reports) <= 5


def test_a_tape_folder_deleted_mid_run_is_counted_and_recording_recovers(tmp_path: Path) -> None:
    tapes = tmp_path / "tapes"
    options = {"shadowtape_roll_age": 3, "shadowtape_log_interval": 1}
    with serve(_ok) as upstream, proxy(upstream.url, tapes, options=options) as p:
        _drive(p, 20)
        p.wait_stats("handed", 20)
        deadline = time.monotonic() + 10
        while not list(tapes.rglob(".part-*")) and time.monotonic() < deadline:
            time.sleep(0.05)  # until the worker has its part open, under its temp name
        shutil.rmtree(tapes)
        p.wait_stats("failed", 20)  # the part rolls and cannot be renamed into place
        _drive(p, 20)
        assert p.stop() == 0
        stats = p.stats()
    assert stats["handed"] == 40
    # What was in the open part when its folder vanished is lost and counted, not hidden.
    assert stats["failed"] >= 20
    assert stats["written"] + stats["failed"] + stats["dropped"] == 40
    assert stats["written"] > 0
    assert len(read_tapes(tapes)) == stats["written"], "recording did not resume"


def test_a_writer_that_throws_is_counted_and_logged(tmp_path: Path) -> None:
    tapes = tmp_path / "tapes"
    with (
        serve(_ok) as upstream,
        proxy(
            upstream.url,
            tapes,
            script=FAULTY_SCRIPT,
            options={"shadowtape_log_interval": 1},
            env={"SHADOWTAPE_TEST_WRITER": "throwing_writer"},
        ) as p,
    ):
        _drive(p, 30)
        stats = p.wait_stats("failed", 30)
        assert p.stop() == 0
    assert stats["failed"] == 30
    assert any("injected writer failure" in line for line in p.lines)


def test_a_full_queue_drops_and_counts_without_stalling(tmp_path: Path) -> None:
    tapes = tmp_path / "tapes"
    options = {"shadowtape_queue": 1, "shadowtape_log_interval": 1}
    with serve(_ok) as upstream, proxy(upstream.url, tapes, options=options) as p:
        _drive(p, 80, concurrency=8)
        assert p.stop() == 0
        stats = p.stats()
    assert stats["dropped"] > 0
    assert stats["seen"] == 80
    assert stats["written"] + stats["dropped"] + stats["failed"] == 80
    assert len(read_tapes(tapes)) == stats["written"]
    assert _warnings(p, "dropped (queue full)")


def test_a_dead_worker_never_stalls_traffic_and_its_loss_is_counted(tmp_path: Path) -> None:
    tapes = tmp_path / "tapes"
    with (
        serve(_ok) as upstream,
        proxy(upstream.url, tapes, options={"shadowtape_log_interval": 1}) as p,
    ):
        _drive(p, 20)
        p.wait_stats("handed", 20)
        time.sleep(0.5)  # let the worker take them into its open part
        workers = worker_pids(p.proc)
        assert workers, "no worker process found"
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        _drive(p, 40)
        stats = p.wait_stats("failed", 20)
        assert p.stop() == 0
    assert stats["failed"] >= 20
    assert _warnings(p, "worker")


def test_a_full_disk_never_stalls_traffic_and_is_counted(tmp_path: Path) -> None:
    from tests.full_disk import tiny_disk

    body = os.urandom(20_000)  # incompressible: the tape grows as fast as the traffic

    def big(_: object) -> Reply:
        return Reply(200, [("Content-Type", "application/octet-stream")], body)

    with (
        tiny_disk(tmp_path / "disk", size="256k") as disk,
        serve(big) as upstream,
        proxy(
            upstream.url,
            disk / "tapes",
            options={"shadowtape_log_interval": 1, "shadowtape_roll_rows": 4},
        ) as p,
    ):
        with httpx.Client(base_url=p.url, timeout=10) as client:
            for i in range(60):
                started = time.perf_counter()
                response = client.get(f"/blob/{i}")
                assert response.status_code == 200 and response.content == body
                assert time.perf_counter() - started < STALL
        stats = p.wait_stats("failed", 1, timeout=30)
        assert p.stop() == 0
        assert stats["failed"] > 0, stats
        assert _warnings(p, "failed")
        assert read_tapes(disk / "tapes") is not None  # every part on the full disk reads
