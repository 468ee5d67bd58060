"""`make demo` stops everything it started, also when interrupted with Ctrl-C mid-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.procfs import alive, descendants

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def test_ctrl_c_mid_recording_stops_every_process_the_demo_started(tmp_path: Path) -> None:
    demo = subprocess.Popen(
        [sys.executable, "scripts/demo.py"],
        cwd=ROOT,
        env={**os.environ, "DEMO_SECONDS": "60", "DEMO_RUNS_DIR": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert demo.stdout is not None
    started: set[int] = set()
    try:
        for line in demo.stdout:
            if "Recording" in line:
                break
        # services, recorder (and its mitmdump worker) and traffic generator are up
        deadline = time.monotonic() + 20
        while len(started) < 6 and time.monotonic() < deadline:
            started |= descendants(demo.pid)
            time.sleep(0.5)
        assert len(started) >= 6, started
        demo.send_signal(signal.SIGINT)
        output = demo.stdout.read()
        assert demo.wait(60) == 130, output
        assert "interrupted" in output
    finally:
        if demo.poll() is None:
            demo.kill()
        demo.stdout.close()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [pid for pid in started if alive(pid)] == []
