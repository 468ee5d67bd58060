"""A build's deps proxy as the faults probe reads it: the calls logged since the last look
(whole lines only), the calls one request caused (by trace id, else all), dependencies
told apart by host and port, and fault rules scoped to one of them. The switch itself is
tested against a real proxy in test_faults.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shadowtape.deps.faults import parse
from shadowtape.errors import ReplayError
from shadowtape.probe.deps_link import (
    Dependency,
    DepsLink,
    DepsPaths,
    caused,
    dependency,
    trace_id,
)

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def _call(port: int, trace: str | None = None) -> dict[str, object]:
    parent = f"00-{trace}-00f067aa0ba902b7-01" if trace else None
    return {"host": "127.0.0.1", "port": port, "method": "GET", "path": "/", "traceparent": parent}


def test_since_reads_whole_new_lines_only(tmp_path: Path) -> None:
    calls = tmp_path / "calls.jsonl"
    calls.write_text(json.dumps(_call(1)) + "\n")
    link = DepsLink("candidate", DepsPaths(calls=calls, faults=tmp_path / "faults.json"))
    assert link.since() == []  # what was there before the link is not its business
    with calls.open("a") as out:
        out.write(json.dumps(_call(2)) + "\n" + json.dumps(_call(3))[:10])
    assert [c["port"] for c in link.since()] == [2]
    with calls.open("a") as out:
        out.write(json.dumps(_call(3))[10:] + "\n")
    assert [c["port"] for c in link.since()] == [3]
    assert link.since() == []


def test_the_switch_writes_and_clears_the_rules(tmp_path: Path) -> None:
    faults = tmp_path / "faults.json"
    link = DepsLink("baseline", DepsPaths(calls=tmp_path / "none.jsonl", faults=faults))
    link.set(["host=127.0.0.1:8081,status=503"])
    assert json.loads(faults.read_text()) == ["host=127.0.0.1:8081,status=503"]
    link.clear()
    assert json.loads(faults.read_text()) == []
    assert link.since() == []  # no calls log yet


def test_a_request_caused_the_calls_with_its_trace_id() -> None:
    other = "0" * 31 + "1"
    calls = [_call(1, TRACE), _call(2, other), _call(3)]
    assert [c["port"] for c in caused(calls, TRACE)] == [1]
    # A service that does not propagate: every call while it was the only one in flight.
    assert [c["port"] for c in caused([_call(2), _call(3)], TRACE)] == [2, 3]
    # Sent without a traceparent (--no-traceparent): by time, every call.
    assert [c["port"] for c in caused(calls, None)] == [1, 2, 3]


def test_trace_ids() -> None:
    assert trace_id(f"00-{TRACE.upper()}-00f067aa0ba902b7-01") == TRACE
    assert trace_id("garbage") is None
    assert trace_id(None) is None


def test_dependencies_are_host_and_port_and_rules_are_scoped_to_one() -> None:
    a, b = dependency(_call(8081)), dependency(_call(8082))
    assert a is not None and b is not None and a != b
    rule = parse(a.rule("status=503"))
    assert rule.matches("127.0.0.1", 8081, "/stock/1")
    assert not rule.matches("127.0.0.1", 8082, "/stock/1")
    v6 = Dependency("::1", 9000)
    assert v6.label == "[::1]:9000"
    assert parse(v6.rule("reset")).matches("::1", 9000, "/")
    assert dependency({"host": "x"}) is None


def test_a_faults_file_that_cannot_be_written_is_one_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "gone" / "faults.json"
    link = DepsLink("candidate", DepsPaths(calls=tmp_path / "calls.jsonl", faults=missing))
    with pytest.raises(ReplayError, match=r"cannot write the candidate's deps proxy faults file"):
        link.set(["host=127.0.0.1:8081,reset"])
