"""Every replayed request carries its own traceparent, per target, written in the results
(``{target}_trace_id``); against real servers on 127.0.0.1."""

from __future__ import annotations

import re
from pathlib import Path

from shadowtape.replay import read_results, read_run
from tests.replay.helpers import ex, replay_to, write_tape
from tests.servers import Received, Reply, serve

PRODUCTION = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def _ok(_: Received) -> Reply:
    return Reply(200, body=b"{}")


def _sent(request: Received) -> list[str]:
    return [v for n, v in request.headers if n.lower() == "traceparent"]


def _rows(run_dir: Path) -> list[dict[str, object]]:
    return [row for batch in read_results(run_dir) for row in batch.to_pylist()]


def test_each_target_gets_its_own_trace_id_and_the_results_say_which(tmp_path: Path) -> None:
    recorded = f"00-{PRODUCTION}-00f067aa0ba902b7-00"
    tape = write_tape(
        tmp_path / "tape",
        [
            ex("/traced", at=0, headers=[("traceparent", recorded)]),
            ex("/plain", at=0.01),
        ],
    )
    with serve(_ok) as candidate, serve(_ok) as baseline, serve(_ok) as secondary:
        run_dir = replay_to(
            candidate.url,
            tape,
            tmp_path / "run",
            baseline=baseline.url,
            secondary=secondary.url,
            pace="asap",
        )
    servers = {"candidate": candidate, "baseline": baseline, "secondary": secondary}
    seen: dict[tuple[str, str], str] = {}
    for role, server in servers.items():
        for request in server.received:
            (value,) = _sent(request)
            found = TRACEPARENT.match(value)
            assert found is not None, value
            assert found.group(3) == ("00" if request.path == "/traced" else "01")
            seen[(role, request.path)] = found.group(1)
    assert len(seen) == 6 and len(set(seen.values())) == 6
    assert PRODUCTION not in seen.values()
    rows = _rows(run_dir)
    for row in rows:
        for role in servers:
            assert row[f"{role}_trace_id"] == seen[(role, str(row["path"]))]
    assert read_run(run_dir)["settings"]["traceparent"] is True


def test_the_repeat_gets_a_trace_id_of_its_own(tmp_path: Path) -> None:
    tape = write_tape(tmp_path / "tape", [ex(f"/r/{i}", at=i * 0.001) for i in range(4)])
    with serve(_ok) as candidate:
        run_dir = replay_to(candidate.url, tape, tmp_path / "run", repeat_sample=1.0, pace="asap")
    sent = [TRACEPARENT.match(_sent(r)[0]) for r in candidate.received]
    assert len(sent) == 8
    rows = _rows(run_dir)
    pairs = [(row["candidate_trace_id"], row["repeat_trace_id"]) for row in rows]
    assert all(a and b and a != b for a, b in pairs)
    assert {t for pair in pairs for t in pair} == {m.group(1) for m in sent if m}


def test_no_traceparent_sends_the_recorded_header_and_no_trace_id(tmp_path: Path) -> None:
    recorded = f"00-{PRODUCTION}-00f067aa0ba902b7-00"
    tape = write_tape(
        tmp_path / "tape", [ex("/traced", headers=[("traceparent", recorded)]), ex("/plain")]
    )
    with serve(_ok) as candidate:
        run_dir = replay_to(candidate.url, tape, tmp_path / "run", traceparent=False)
    assert sorted(tuple(_sent(r)) for r in candidate.received) == [(), (recorded,)]
    assert [row["candidate_trace_id"] for row in _rows(run_dir)] == [None, None]
    assert read_run(run_dir)["settings"]["traceparent"] is False
