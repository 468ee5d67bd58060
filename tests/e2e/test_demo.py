"""`make demo` flags exactly its planted gaps, and stops everything it started, also when
interrupted with Ctrl-C mid-run."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixtures.demo.gaps import GAPS
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


def _route(endpoint: str) -> str:
    """``GET /api/inventory/{sku}`` and ``GET /api/inventory/{id}`` name one route."""
    return re.sub(r"\{\w+\}", "{}", endpoint)


@pytest.mark.timeout(420)
def test_a_short_demo_flags_exactly_the_planted_gaps(tmp_path: Path) -> None:
    demo = subprocess.run(
        [sys.executable, "scripts/demo.py"],
        cwd=ROOT,
        env={**os.environ, "DEMO_SECONDS": "30", "DEMO_RUNS_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "the gate FAILED, as it should" in demo.stdout
    (report_file,) = tmp_path.glob("demo-*/replay/report.json")
    report = json.loads(report_file.read_text())
    flagged = {
        _route(e["endpoint"]): e for e in report["endpoints"] if e["verdict"] == "regression"
    }
    assert set(flagged) == {_route(gap.endpoint) for gap in GAPS}
    # The race: another user's profile, only where the staff app's requests overlapped.
    race = flagged[_route("GET /api/users/{id}")]
    assert {(f["kind"], f["location"]) for f in race["findings"]} >= {
        ("body_value", "$.id"),
        ("body_value", "$.name"),
    }
    # The concurrency probe provokes the race without the staff app's overlap, on the
    # candidate only, and flags nothing else.
    (probe,) = report["probes"]
    assert {(f["endpoint"], f["target"], f["kind"]) for f in probe["findings"]} == {
        ("GET /api/users/{id}", "candidate", "race")
    }
    assert probe["stopped"] == []
