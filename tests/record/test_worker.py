"""The worker's pipeline: a stop request closes what is written before a slow exchange ends."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from shadowtape.record.capture import capture
from shadowtape.record.worker import Pipeline, Settings
from shadowtape.sanitize.context import Context
from shadowtape.sanitize.sanitizer import Draft, Step
from tests.record.support import make_flow, read_tapes


def test_a_stop_closes_the_written_parts_while_a_slow_exchange_is_still_sanitized(
    tmp_path: Path,
) -> None:
    tapes = tmp_path / "tapes"
    settings = Settings(str(tapes), "t", 1 << 20, b"k", budget=60.0, roll_age=600.0)
    stopping = threading.Event()
    pipeline = Pipeline(settings, [0] * 6, stopping=stopping)
    pipeline.handle([capture(make_flow(path=f"/ok/{i}"), 1 << 22) for i in range(5)])
    release = threading.Event()

    def slow(d: Draft, ctx: Context) -> None:
        release.wait(30)

    pipeline.sanitizer.steps = (Step("slow", slow, lambda d: []), *pipeline.sanitizer.steps)
    slow_one = threading.Thread(
        target=pipeline.handle, args=([capture(make_flow(path="/slow"), 1 << 22)],)
    )
    slow_one.start()
    try:
        stopping.set()
        deadline = time.monotonic() + 10
        while len(list(tapes.rglob("*.parquet"))) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sorted(ex.request.path for ex in read_tapes(tapes)) == [f"/ok/{i}" for i in range(5)]
    finally:
        release.set()
        slow_one.join(10)
    pipeline.close(10)
    assert len(read_tapes(tapes)) == 6


def test_an_exchange_reached_after_the_stop_grace_is_written_without_its_bodies(
    tmp_path: Path,
) -> None:
    tapes = tmp_path / "tapes"
    settings = Settings(str(tapes), "t", 1 << 20, b"k", stop_grace=0.0)
    stopping = threading.Event()
    pipeline = Pipeline(settings, [0] * 6, stopping=stopping)
    stopping.set()
    time.sleep(0.2)
    pipeline.handle([capture(make_flow(path="/late"), 1 << 22)])
    pipeline.close(10)
    (late,) = read_tapes(tapes)
    assert late.response is not None and late.response.body == b""
    assert "response.body: dropped (sanitize budget)" in late.redactions
    assert "request.header.authorization" in late.redactions
