"""`make demo` flags exactly its planted gaps, each by the replay or probe that should find
it (fixtures/demo/gaps.py), and stops everything it started, also when interrupted with
Ctrl-C mid-run."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fixtures.demo.gaps import GAPS, REPLAY
from tests.procfs import alive, descendants

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _running_with(*needles: str) -> list[str]:
    """Command lines of this machine's live processes that contain one of ``needles``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and alive(int(entry.name)):
            cmdline = _cmdline(int(entry.name))
            if any(needle in cmdline for needle in needles):
                found.append(cmdline)
    return found


def _sigint_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupted(
    tmp_path: Path,
    seconds: str,
    step: str,
    started_enough: Callable[[set[int]], bool],
    sig: signal.Signals = signal.SIGINT,
) -> None:
    """Run the demo, Ctrl-C it (``sig``) once ``step`` is printed and ``started_enough``
    holds for its processes, and check that it says so, exits 130 and leaves none of them
    running."""
    demo = subprocess.Popen(
        [sys.executable, "scripts/demo.py"],
        cwd=ROOT,
        env={**os.environ, "DEMO_SECONDS": seconds, "DEMO_RUNS_DIR": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # As from a terminal: a test run started in the background (``make test &``)
        # ignores SIGINT, and a child would inherit that and never see this Ctrl-C.
        preexec_fn=_sigint_default,
    )
    assert demo.stdout is not None
    started: set[int] = set()
    try:
        for line in demo.stdout:
            if step in line:
                break
        deadline = time.monotonic() + 30
        while not started_enough(started) and time.monotonic() < deadline:
            started |= descendants(demo.pid)
            time.sleep(0.3)
        assert started_enough(started), [_cmdline(pid) for pid in started]
        demo.send_signal(sig)
        output = demo.stdout.read()
        assert demo.wait(90) == 130, output
        assert "interrupted" in output
    finally:
        if demo.poll() is None:
            demo.kill()
        demo.stdout.close()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [_cmdline(pid) for pid in started if alive(pid)] == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_mid_recording_stops_every_process_the_demo_started(
    tmp_path: Path, sig: signal.Signals
) -> None:
    # services, dependency recorder, recorder (each with its mitmdump worker) and traffic
    _interrupted(tmp_path, "60", "Recording", lambda started: len(started) >= 8, sig)


def test_ctrl_c_mid_replay_stops_the_builds_the_replay_launched(tmp_path: Path) -> None:
    def builds_up(started: set[int]) -> bool:
        return sum("fixtures.demo.shop" in _cmdline(pid) for pid in started) >= 3

    # 2 s of traffic: what is recorded is not the point, the builds the replay starts are.
    _interrupted(tmp_path, "2", "Replaying", builds_up)


def _route(endpoint: str) -> str:
    """``GET /api/inventory/{sku}`` and ``GET /api/inventory/{id}`` name one route."""
    return re.sub(r"\{\w+\}", "{}", endpoint)


def _found(report: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(source, route, kind) of every finding: the plain replay's regressions and each
    probe's findings."""
    found = {
        (REPLAY, _route(e["endpoint"]), f["kind"])
        for e in report["endpoints"]
        if e["verdict"] == "regression"
        for f in e["findings"]
    }
    for probe in report["probes"]:
        found |= {(probe["name"], _route(f["endpoint"]), f["kind"]) for f in probe["findings"]}
    return found


@pytest.mark.timing  # latency and its growth are among the findings: run it on a quiet machine
@pytest.mark.timeout(420)
def test_a_short_demo_flags_exactly_the_planted_gaps(tmp_path: Path) -> None:
    # The traffic is seeded (a duration gives the same requests every run): every planted
    # gap is flagged from 5 s of it already; 10 s keeps a margin.
    demo = subprocess.run(
        [sys.executable, "scripts/demo.py"],
        cwd=ROOT,
        env={**os.environ, "DEMO_SECONDS": "10", "DEMO_RUNS_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "the gate FAILED, as it should" in demo.stdout
    # Nothing it started outlives it: no process names the run folder (recorders, deps
    # proxies) or production's inventory URL (the shops, the launched builds included).
    inventory = re.search(r"^  inventory +(http://\S+)", demo.stdout, re.MULTILINE)
    assert inventory is not None, demo.stdout[:2000]
    assert _running_with(str(tmp_path), inventory.group(1)) == []
    (report_file,) = tmp_path.glob("demo-*/replay/report.json")
    report = json.loads(report_file.read_text())
    expected = {(d.source, _route(gap.endpoint), d.kind) for gap in GAPS for d in gap.detections}
    assert _found(report) == expected
    # The race: another user's profile, only where the staff app's requests overlapped.
    (race,) = (e for e in report["endpoints"] if _route(e["endpoint"]) == "GET /api/users/{}")
    assert {(f["kind"], f["location"]) for f in race["findings"]} >= {
        ("body_value", "$.id"),
        ("body_value", "$.name"),
    }
    # Each build's outbound calls were answered from production's recording, each tied
    # to the request that made it: nothing unmatched, nothing unattributed.
    assert report["side_effects"]["unverified"] == []
    probes = {probe["name"]: probe for probe in report["probes"]}
    assert set(probes) == {"concurrency", "duplicates", "scale", "shapes", "faults"}
    assert [p["stopped"] for p in probes.values()] == [[]] * len(probes)
    # Every finding a probe made is on the candidate: the baseline, under the same
    # provocation, did nothing a finding is made of.
    assert {f["target"] for p in probes.values() for f in p["findings"]} == {"candidate"}
    # The quadratic cart: the candidate's latency grows about as n^2 with the order's lines,
    # the baseline's linearly at most (the fixed cost of a request flattens both).
    (growth,) = (f for f in probes["scale"]["findings"] if f["kind"] == "superlinear")
    assert growth["location"] == "body items[]"
    candidate, baseline = growth["concurrent_value"]["slope"], growth["alone_value"]["slope"]
    assert candidate >= 1.5 and baseline <= 1.2, (candidate, baseline)
    # The swallowed 503 that production never had: the inventory failing every way the
    # faults probe makes it fail is a success on the candidate.
    swallowed = [f for f in probes["faults"]["findings"] if f["kind"] == "swallowed_error"]
    assert {f["location"].split()[-1] for f in swallowed} == {"503", "timeout", "reset"}
