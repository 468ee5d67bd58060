"""A probe request's outbound calls, read from a launched build's calls log by trace id."""

from __future__ import annotations

from pathlib import Path

from shadowtape.probe.calls import BuildCalls
from shadowtape.replay.http.client import Reply
from tests.diff.deps_runs import Request, made, trace, write_run


def _reply(trace_id: str | None) -> Reply:
    return Reply(sent=0.0, ended=0.0, status=201, trace_id=trace_id)


def test_the_calls_a_request_caused_are_counted_by_its_trace_id(tmp_path: Path) -> None:
    read = made("GET", "payments.internal", 80, "/limits", 200)
    requests = [
        Request(1, 0, 10, calls={"candidate": [read, made(), made()]}),
        Request(2, 20, 30, calls={"candidate": [made(status=503), made()]}),
    ]
    calls = BuildCalls(write_run(tmp_path / "run", requests, targets=("candidate",)))
    first = calls.effects("candidate", [_reply(trace(1, "candidate"))])
    assert first == {"POST payments.internal/charges": 2}  # the read is no side effect
    both = calls.effects(
        "candidate", [_reply(trace(1, "candidate")), _reply(trace(2, "candidate"))]
    )
    assert both == {"POST payments.internal/charges": 3}  # the 503 was a failed attempt
    assert calls.effects("candidate", [_reply("f" * 32)]) == {}


def test_nothing_is_counted_without_a_log_or_a_trace_id(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "run", [Request(1, 0, 10)], targets=("candidate",))
    calls = BuildCalls(run_dir)
    assert calls.effects("baseline", [_reply(trace(1, "baseline"))]) is None
    assert calls.effects("candidate", [_reply(None)]) is None
