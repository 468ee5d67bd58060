"""The hand-off and its worker process: a worker that dies is counted and replaced."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from shadowtape.record.capture import capture
from shadowtape.record.handoff import Handoff
from shadowtape.record.worker import Settings
from tests.record.support import make_flow, read_tapes


def test_a_dead_worker_process_is_counted_and_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("shadowtape.record.handoff.RESTART_BACKOFF", 0.1)
    settings = Settings(tapes=str(tmp_path / "tapes"), source="s", max_body=1 << 20, key=b"k")
    handoff = Handoff(settings, mode="process", queue_size=1000)
    try:
        for _ in range(10):
            handoff.put(capture(make_flow(), 1 << 22))
        backend = handoff._backend
        assert backend is not None and hasattr(backend, "process")
        deadline = time.monotonic() + 20
        while backend.counters[0] < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        backend.process.kill()
        deadline = time.monotonic() + 20
        while handoff.stats.restarts == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        for _ in range(10):
            handoff.put(capture(make_flow(), 1 << 22))
    finally:
        assert handoff.close(timeout=30)
    stats = handoff.stats
    assert stats.restarts == 1
    # The ten sent before the kill were in an open part: lost and counted, never silent.
    assert stats.failed == 10
    assert stats.written == 10
    assert len(read_tapes(tmp_path / "tapes")) == 10
