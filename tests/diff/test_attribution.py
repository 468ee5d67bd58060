"""Attribution of a launched build's outbound calls to the replayed requests that caused
them: by the trace id they carry, else by time while exactly one request is in flight."""

from __future__ import annotations

from pathlib import Path

from shadowtape.diff.attribution import (
    NO_TRACE,
    SEVERAL_IN_FLIGHT,
    attribute,
    host_of,
    trace_id,
)
from shadowtape.results.reader import read_run
from tests.diff.deps_runs import Request, made, write_run


def _attribution(run_dir: Path):  # type: ignore[no-untyped-def]
    found = attribute([run_dir], [read_run(run_dir)])
    assert found is not None
    return found


def test_calls_go_to_the_request_whose_trace_id_they_carry_with_16_in_flight(
    tmp_path: Path,
) -> None:
    # 16 requests all in flight at once; request n makes n % 3 + 1 calls, each with the
    # request's trace id and a span id of its own: time alone could attribute none.
    requests = [
        Request(
            n,
            start_ms=0.0 + n * 0.1,
            end_ms=50.0,
            calls={
                t: [made(path=f"/charges/{n}") for _ in range(n % 3 + 1)]
                for t in ("baseline", "candidate")
            },
        )
        for n in range(16)
    ]
    found = _attribution(write_run(tmp_path / "run", requests))
    for req in requests:
        for target in ("baseline", "candidate"):
            calls = found.of(target, req.exchange_id)
            assert calls is not None and len(calls) == req.n % 3 + 1
            assert {c.name for c in calls} == {"POST payments.internal/charges/{id}"}
    candidate = found.roles["candidate"]
    assert candidate.by_trace == sum(n % 3 + 1 for n in range(16))
    assert candidate.by_time == 0 and not candidate.unattributed


def test_an_untraced_call_goes_to_the_one_request_in_flight(tmp_path: Path) -> None:
    requests = [
        Request(
            n,
            start_ms=n * 100.0,
            end_ms=n * 100.0 + 40,
            traced=False,
            calls={"candidate": [made()], "baseline": [made()]},
        )
        for n in range(5)
    ]
    found = _attribution(write_run(tmp_path / "run", requests))
    for req in requests:
        calls = found.of("candidate", req.exchange_id)
        assert calls is not None and len(calls) == 1
    assert found.roles["candidate"].by_time == 5
    assert not found.roles["candidate"].unattributed


def test_an_untraced_call_with_two_in_flight_is_unattributed(tmp_path: Path) -> None:
    requests = [
        Request(1, start_ms=0, end_ms=100, traced=False),
        Request(2, start_ms=10, end_ms=90, traced=False),
    ]
    extra = {"candidate": [made(at_ms=50)]}
    found = _attribution(write_run(tmp_path / "run", requests, extra_calls=extra))
    assert found.of("candidate", "ex00001") == [] and found.of("candidate", "ex00002") == []
    assert found.roles["candidate"].unattributed == {f"{NO_TRACE}, {SEVERAL_IN_FLIGHT}": 1}


def test_a_trace_id_the_replay_never_sent_falls_back_to_time(tmp_path: Path) -> None:
    # A service that starts a trace of its own: its calls carry a trace id we did not send.
    requests = [Request(1, start_ms=0, end_ms=100, traced=False)]
    extra = {"candidate": [made(at_ms=50, traced=False)]}
    run_dir = write_run(tmp_path / "run", requests, extra_calls=extra)
    log = run_dir / "deps" / "candidate.calls.jsonl"
    text = log.read_text().replace(
        '"traceparent":null', f'"traceparent":"00-{"c" * 32}-{"d" * 16}-01"'
    )
    log.write_text(text)
    found = _attribution(run_dir)
    assert found.of("candidate", "ex00001") is not None
    assert len(found.of("candidate", "ex00001") or []) == 1
    assert found.roles["candidate"].by_time == 1


def test_calls_outside_the_replay_are_not_unattributed(tmp_path: Path) -> None:
    # Start-up work before the first request and a background job after the last answer.
    requests = [Request(1, start_ms=100, end_ms=200, calls={"candidate": [made()]})]
    extra = {"candidate": [made(at_ms=10), made(at_ms=900)]}
    found = _attribution(write_run(tmp_path / "run", requests, extra_calls=extra))
    role = found.roles["candidate"]
    assert (role.calls, role.by_trace, role.outside, sum(role.unattributed.values())) == (
        3,
        1,
        2,
        0,
    )


def test_unmatched_mock_calls_are_counted_per_host_port_and_route(tmp_path: Path) -> None:
    requests = [
        Request(
            n,
            start_ms=n * 10.0,
            end_ms=n * 10.0 + 5,
            calls={
                "candidate": [made("GET", "127.0.0.1", 8081, f"/items/{n}", 502, match="unmatched")]
            },
        )
        for n in range(3)
    ]
    found = _attribution(write_run(tmp_path / "run", requests, mode="mock"))
    assert found.unmatched == {("GET 127.0.0.1:8081/items/{id}", "candidate"): 3}


def test_no_deps_in_run_json_means_no_attribution(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "run", [Request(1, 0, 10)], logs=())
    assert attribute([run_dir], [read_run(run_dir)]) is None


def test_trace_ids_and_host_names() -> None:
    assert trace_id(f"00-{'A' * 32}-{'b' * 16}-01") == "a" * 32
    assert trace_id(f"00-{'0' * 32}-{'b' * 16}-01") is None  # the all-zero id is invalid
    assert trace_id("garbage") is None and trace_id(None) is None
    assert host_of("https", "Pay.Internal", 443) == "pay.internal"
    assert host_of("http", "127.0.0.1", 8081) == "127.0.0.1:8081"
    assert host_of("http", "::1", 8081) == "[::1]:8081"
