"""Safety against real loopback servers: what reaches a server is what is allowed."""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow as pa
import pytest

from shadowtape.errors import TargetDownError
from shadowtape.replay import read_results, read_run, replay
from tests.replay.aserver import Arrival, aserve
from tests.replay.helpers import ex, replay_to, write_tape
from tests.servers import Reply, free_port, serve

pytestmark = pytest.mark.e2e


def _rows(run_dir: Path) -> list[dict[str, object]]:
    return pa.Table.from_batches(list(read_results(run_dir))).to_pylist()


def _ok(_: object) -> Reply:
    return Reply(200, body=b"{}")


METHODS = ["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "GET"]


def _mixed_tape(folder: Path) -> Path:
    return write_tape(
        folder,
        [
            ex(f"/m/{i}", method=m, at=i * 0.001, body=b"{}" if m in ("POST", "PUT") else b"")
            for i, m in enumerate(METHODS)
        ],
    )


def test_mutating_methods_are_never_sent_without_the_flag(tmp_path: Path) -> None:
    tape = _mixed_tape(tmp_path / "tape")
    with serve(_ok) as server:
        run_dir = replay_to(server.url, tape, tmp_path / "run")
        received = sorted(r.method for r in server.received)
    assert received == ["GET", "GET", "HEAD", "OPTIONS"]
    info = read_run(run_dir)
    assert info["skipped"] == {"mutating": 4}
    assert info["counts"] == {"selected": 8, "replayed": 4, "skipped": 4, "errors": 0}
    rows = _rows(run_dir)
    assert len(rows) == 8  # skipped exchanges keep a row, with the reason
    assert {r["method"] for r in rows if r["skip_reason"] == "mutating"} == {
        "POST",
        "PUT",
        "DELETE",
        "PATCH",
    }


def test_mutating_methods_are_sent_with_the_flag(tmp_path: Path) -> None:
    tape = _mixed_tape(tmp_path / "tape")
    with serve(_ok) as server:
        replay_to(server.url, tape, tmp_path / "run", allow_mutating=True, repeat_sample=1.0)
        received = sorted(r.method for r in server.received)
        bodies = {r.method: r.body for r in server.received}
    # Safe methods twice (the repeat sample), mutating ones exactly once: never repeated.
    assert received == sorted([*METHODS, "GET", "GET", "HEAD", "OPTIONS"])
    assert bodies["POST"] == b"{}"


def test_nothing_reaches_a_host_that_was_not_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve(_ok) as named, serve(_ok) as unnamed:
        other = f"127.0.0.1:{unnamed.port}"
        # Recorded for the other host, with its Host header, an absolute-form target, a
        # path that looks like a network path, and a proxy in the environment.
        tape = write_tape(
            tmp_path / "tape",
            [
                ex("/plain", host="127.0.0.1", headers=[("Host", other)]),
                ex(f"http://{other}/absolute", at=0.001, host="127.0.0.1"),
                ex(f"//{other}/network-path", at=0.002, host="127.0.0.1"),
            ],
        )
        monkeypatch.setenv("HTTP_PROXY", unnamed.url)
        monkeypatch.setenv("http_proxy", unnamed.url)
        run_dir = replay_to(named.url, tape, tmp_path / "run", keep_host=True)
        assert unnamed.received == []
        # (http.server folds a leading "//" into "/" on its side; it did reach the target.)
        paths = sorted(r.path for r in named.received)
        assert paths == [f"/{other}/network-path", "/plain"]
        host_sent = {r.path: dict(r.headers)["Host"] for r in named.received}
    assert host_sent["/plain"] == other  # --keep-host kept it, yet it went to the target
    assert read_run(run_dir)["skipped"] == {"unsafe_host": 1}


def test_host_is_rewritten_and_headers_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGING_TOKEN", "tok-123")
    tape = write_tape(
        tmp_path / "tape",
        [ex("/h", headers=[("Host", "api.prod.test"), ("Authorization", "Bearer REDACTED")])],
    )
    with serve(_ok) as server:
        replay_to(
            server.url, tape, tmp_path / "run", headers=["Authorization: Bearer $STAGING_TOKEN"]
        )
        (got,) = server.received
    headers = dict(got.headers)
    assert headers["Host"] == f"127.0.0.1:{server.port}"
    assert headers["Authorization"] == "Bearer tok-123"


def test_a_dead_target_stops_the_run_early_and_keeps_its_error_rows(tmp_path: Path) -> None:
    tape = write_tape(tmp_path / "tape", [ex(f"/d/{i}", at=i * 0.001) for i in range(30)])
    dead = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(TargetDownError) as raised:
        replay_to(dead, tape, tmp_path / "run", timeout=2)
    # Said once, early (after 20 requests), in one line naming the target.
    message = f"candidate {dead}: connection refused on all of its first 20 requests"
    assert str(raised.value).startswith(message)
    assert raised.value.role == "candidate" and raised.value.origin == dead
    rows = _rows(tmp_path / "run")
    sent = [r for r in rows if r["skip_reason"] is None]
    assert 20 <= len(sent) <= 30
    assert {r["candidate_error_kind"] for r in sent} == {"refused"}
    assert all(r["candidate_status"] is None and r["baseline_status"] == 200 for r in sent)
    info = read_run(tmp_path / "run")
    assert info["interrupted"] is False and info["finished_at"]
    assert info["error"] == str(raised.value)


def test_abort_after_zero_replays_a_dead_target_to_the_end(tmp_path: Path) -> None:
    tape = write_tape(tmp_path / "tape", [ex(f"/d/{i}", at=i * 0.001) for i in range(30)])
    dead = f"http://127.0.0.1:{free_port()}"
    run_dir = replay_to(dead, tape, tmp_path / "run", timeout=2, abort_after=0)
    rows = _rows(run_dir)
    assert len(rows) == 30
    assert {r["candidate_error_kind"] for r in rows} == {"refused"}
    info = read_run(run_dir)
    assert info["interrupted"] is False and info["error"] is None


def test_a_slow_target_gives_timeout_rows_within_the_timeout(tmp_path: Path) -> None:
    async def slow(a: Arrival) -> Reply:
        return Reply(200, body=b"{}", delay=2.0 if int(a.path.rsplit("/", 1)[1]) % 2 else 0.0)

    tape = write_tape(tmp_path / "tape", [ex(f"/s/{i}", at=i * 0.01) for i in range(10)])
    with aserve(slow) as server:
        started = time.monotonic()
        run_dir = replay(tape, candidate=server.url, out=tmp_path / "run", timeout=0.3)
        took = time.monotonic() - started
    rows = {r["path"]: r for r in _rows(run_dir)}
    assert rows["/s/0"]["candidate_status"] == 200
    slow_rows = [rows[f"/s/{i}"] for i in range(1, 10, 2)]
    assert {r["candidate_error_kind"] for r in slow_rows} == {"timeout"}
    assert all(250_000 <= r["candidate_service_us"] < 1_000_000 for r in slow_rows)
    assert took < 1.5  # nobody waited for the 2 s answers
    info = read_run(run_dir)
    assert info["counts"]["replayed"] == 10 and info["finished_at"]


def test_a_resetting_target_gives_reset_rows(tmp_path: Path) -> None:
    async def flaky(a: Arrival) -> Reply | None:
        return None if int(a.path.rsplit("/", 1)[1]) % 2 else Reply(200, body=b"{}")

    tape = write_tape(tmp_path / "tape", [ex(f"/r/{i}", at=i * 0.002) for i in range(20)])
    with aserve(flaky) as server:
        run_dir = replay_to(server.url, tape, tmp_path / "run")
    kinds = {r["path"]: (r["candidate_status"], r["candidate_error_kind"]) for r in _rows(run_dir)}
    assert kinds["/r/0"] == (200, None)
    assert kinds["/r/1"] == (None, "reset")
    assert sum(k == (None, "reset") for k in kinds.values()) == 10


@pytest.mark.timing
def test_live_baseline_and_secondary_get_the_same_request_at_the_same_moment(
    tmp_path: Path,
) -> None:
    tape = write_tape(tmp_path / "tape", [ex(f"/l/{i}", at=i * 0.01) for i in range(10)])

    with (
        aserve(lambda a: _reply(200)) as cand,
        aserve(lambda a: _reply(201)) as base,
        aserve(lambda a: _reply(202)) as second,
    ):
        run_dir = replay(
            tape,
            candidate=cand.url,
            baseline=base.url,
            secondary=second.url,
            out=tmp_path / "run",
        )
        spread = [
            max(c.at, b.at, s.at) - min(c.at, b.at, s.at)
            for c, b, s in zip(cand.arrivals, base.arrivals, second.arrivals, strict=True)
        ]
    rows = _rows(run_dir)
    assert len(rows) == 10
    assert {(r["candidate_status"], r["baseline_status"], r["secondary_status"]) for r in rows} == {
        (200, 201, 202)
    }
    assert {r["baseline_mode"] for r in rows} == {"live"}
    assert all(r["repeat_status"] is None for r in rows)  # no repeats against a live baseline
    assert sorted(spread)[len(spread) // 2] < 0.005
    assert read_run(run_dir)["baseline"] == base.url


async def _reply(status: int) -> Reply:
    return Reply(status, body=b"{}")
