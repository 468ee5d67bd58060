"""Requests that share state keep the order production gave them at concurrency 32; one
client's requests that overlapped in production overlap in the replay."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from pathlib import Path

import pytest

from shadowtape.replay import read_results, read_run
from tests.replay.aserver import Arrival, aserve
from tests.replay.helpers import ex, replay_to, write_tape
from tests.servers import Reply

pytestmark = pytest.mark.e2e


class InFlight:
    """Counts the requests a server is in the middle of (``with`` around each), and the
    most there were at once."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0

    def __enter__(self) -> None:
        self.now += 1
        self.most = max(self.most, self.now)

    def __exit__(self, *exc: object) -> None:
        self.now -= 1


def test_state_sharing_requests_stay_in_order_at_concurrency_32(tmp_path: Path) -> None:
    exchanges = []
    for step in range(8):
        for user in range(40):
            # Sessions, idempotency keys and client addresses: three ways to share state.
            kind = user % 3
            header = (
                ("Cookie", f"session=s{user}")
                if kind == 0
                else ("Idempotency-Key", f"k{user}")
                if kind == 1
                else ("X-Forwarded-For", f"10.0.0.{user}")
            )
            exchanges.append(ex(f"/u/{user}/{step}", at=len(exchanges) * 0.0001, headers=[header]))
    tape = write_tape(tmp_path / "tape", exchanges)
    rng = random.Random(7)
    flight = InFlight()

    async def app(a: Arrival) -> Reply:
        with flight:
            # Early steps are slow, so a replayer that ignored state would reorder them.
            await asyncio.sleep(rng.uniform(0.004, 0.012) if a.path.endswith("/0") else 0.001)
        return Reply(200, body=b"{}")

    with aserve(app) as server:
        replay_to(server.url, tape, tmp_path / "run", pace="asap", concurrency=32)
        paths = [a.path for a in server.arrivals]
    assert len(paths) == 320
    assert flight.most >= 16  # the requests really ran concurrently
    for user in range(40):
        steps = [int(p.rsplit("/", 1)[1]) for p in paths if p.startswith(f"/u/{user}/")]
        assert steps == list(range(8)), (user, steps)


def test_asap_keeps_exactly_concurrency_requests_in_flight(tmp_path: Path) -> None:
    # Recorded a minute apart: --pace asap ignores the gaps, --concurrency bounds the load.
    tape = write_tape(tmp_path / "tape", [ex(f"/a/{i}", at=i * 60.0) for i in range(60)])
    flight = InFlight()

    async def app(_: Arrival) -> Reply:
        with flight:
            await asyncio.sleep(0.01)
        return Reply(200, body=b"{}")

    with aserve(app) as server:
        run_dir = replay_to(server.url, tape, tmp_path / "run", pace="asap", concurrency=4)
        received = len(server.arrivals)
    assert received == 60
    assert flight.most == 4
    info = read_run(run_dir)
    assert info["settings"]["pace"] == "asap" and info["schedule"] is None


# A host that stalls the replayer 10 ms is not what is tested: the timing marker reruns it.
@pytest.mark.timing
def test_a_wait_for_an_earlier_request_of_the_session_is_not_the_replayer_falling_behind(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # 20 sessions of 5 steps, 5 ms apart in tape order (a session's steps 100 ms apart);
    # the target takes 300 ms over each first step, so each second step waits ~200 ms for
    # it. The replayer itself keeps the pace (64 slots: up to 60 are taken, by the first
    # steps and the second steps waiting for them): that is not falling behind.
    exchanges = [
        ex(
            f"/u/{user}/{step}",
            at=(step * 20 + user) * 0.005,
            headers=[("Cookie", f"session=s{user}")],
        )
        for step in range(5)
        for user in range(20)
    ]
    tape = write_tape(tmp_path / "tape", exchanges)

    async def app(a: Arrival) -> Reply:
        await asyncio.sleep(0.3 if a.path.endswith("/0") else 0.0)
        return Reply(200, body=b"{}")

    with aserve(app) as server, caplog.at_level(logging.WARNING, "shadowtape.replay"):
        run_dir = replay_to(
            server.url,
            tape,
            tmp_path / "run",
            rate=200,
            concurrency=64,  # the waiting requests hold slots too
        )
    schedule = read_run(run_dir)["schedule"]
    assert schedule["fell_behind"] is False, schedule
    assert schedule["max_lag_ms"] < 100 and schedule["order_waits"] >= 20
    assert 150 <= schedule["max_order_wait_ms"] < 1000  # ~200: 300 ms less the 100 ms gap
    # Each row's lag_us still has the whole delay its latency counts from.
    rows = {
        path: lag
        for batch in read_results(run_dir, columns=["path", "lag_us"])
        for path, lag in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True)
    }
    assert all(rows[f"/u/{user}/1"] >= 150_000 for user in range(20))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert not any("behind schedule" in w for w in warnings), warnings
    assert any("waited for an earlier one that shares their state" in w for w in warnings)


#: One mobile client, one token and one session on every request.
ONE_CLIENT = [("Authorization", "Bearer t-1"), ("Cookie", "session=s-1")]
#: Recorded: each request took 40 ms and one started every 2.5 ms: 16 in flight.
TOOK, EVERY = 0.04, 0.0025


def _one_client_tape(folder: Path, count: int) -> Path:
    return write_tape(
        folder,
        [
            ex(
                "/api/quote",
                query=f"n={i}",
                at=i * EVERY,
                duration=TOOK,
                headers=ONE_CLIENT,
                response_body=b'{"n":%d}' % i,
            )
            for i in range(count)
        ],
    )


class RacyServer:
    """Keeps the request's own number in a variable all requests share, across an await
    (the planted race): a request overlapped by another answers with the other's number."""

    def __init__(self) -> None:
        self.current = ""
        self.flight = InFlight()

    async def __call__(self, a: Arrival) -> Reply:
        with self.flight:
            self.current = a.path.partition("n=")[2]
            await asyncio.sleep(TOOK)
            answer = self.current
        return Reply(200, [("Content-Type", "application/json")], b'{"n":%s}' % answer.encode())

    @property
    def most(self) -> int:
        return self.flight.most


def _race(tmp_path: Path, count: int, ordering: str) -> tuple[RacyServer, dict[str, object], int]:
    """The server, run.json and how many answers were someone else's."""
    tape = _one_client_tape(tmp_path / f"tape-{ordering}", count)
    app = RacyServer()
    with aserve(app) as server:
        run_dir = replay_to(
            server.url, tape, tmp_path / f"run-{ordering}", ordering=ordering, concurrency=64
        )
    wrong = 0
    for batch in read_results(run_dir, columns=["query", "candidate_body"]):
        for query, body in zip(*(c.to_pylist() for c in batch.columns), strict=True):
            wrong += json.loads(body)["n"] != int(query.partition("=")[2])
    return app, read_run(run_dir), wrong


# The achieved concurrency is measured on a shared machine: the timing marker reruns it.
@pytest.mark.timing
def test_one_clients_overlapping_requests_overlap_in_the_replay_and_reveal_a_race(
    tmp_path: Path,
) -> None:
    app, info, wrong = _race(tmp_path, 320, "recorded")
    flight = info["in_flight"]
    assert isinstance(flight, dict) and info["counts"]["replayed"] == 320  # type: ignore[index]
    assert 14 <= flight["recorded_mean"] <= 16.5, flight
    assert flight["achieved_mean"] >= 0.8 * flight["recorded_mean"], flight
    assert app.most >= 8  # the server had overlapping requests of the one client
    assert wrong > 0  # and the race showed


def test_strict_ordering_runs_one_client_one_request_at_a_time_and_hides_the_race(
    tmp_path: Path,
) -> None:
    # Today's rule before --ordering: every request waited for the one before it.
    app, info, wrong = _race(tmp_path, 24, "strict")
    flight = info["in_flight"]
    assert isinstance(flight, dict) and info["settings"]["ordering"] == "strict"  # type: ignore[index]
    assert app.most == 1 and wrong == 0
    assert flight["achieved_mean"] <= 1.05 < 0.2 * flight["recorded_mean"], flight


@pytest.mark.parametrize(("ordering", "kept"), [("recorded", True), ("none", False)])
def test_a_write_then_a_read_of_one_session_keep_their_order(
    tmp_path: Path, ordering: str, kept: bool
) -> None:
    # In production each write had ended (5 ms) before its read started (10 ms later);
    # the target now takes 30 ms over a write.
    exchanges = []
    for k in range(8):
        exchanges.append(
            ex(f"/cart/{k}", method="POST", at=k * 0.05, duration=0.005, headers=ONE_CLIENT,
               body=b"item-%d" % k)
        )  # fmt: skip
        exchanges.append(ex(f"/cart/{k}", at=k * 0.05 + 0.01, duration=0.002, headers=ONE_CLIENT))
    tape = write_tape(tmp_path / "tape", exchanges)
    carts: dict[str, bytes] = {}

    async def app(a: Arrival) -> Reply:
        if a.method == "POST":
            await asyncio.sleep(0.03)
            carts[a.path] = a.body
            return Reply(201, body=b"{}")
        return Reply(200, body=carts.get(a.path, b"empty"))

    with aserve(app) as server:
        run_dir = replay_to(
            server.url, tape, tmp_path / "run", ordering=ordering, allow_mutating=True
        )
    reads = {
        path: body
        for batch in read_results(run_dir, columns=["method", "path", "candidate_body"])
        for method, path, body in zip(*(c.to_pylist() for c in batch.columns), strict=True)
        if method == "GET"
    }
    assert len(reads) == 8
    expected = {f"/cart/{k}": b"item-%d" % k for k in range(8)}
    assert (reads == expected) is kept, reads


def test_retries_of_an_idempotency_key_keep_their_order_even_when_they_overlapped(
    tmp_path: Path,
) -> None:
    # Production got the retry 5 ms into the first attempt, which took 80 ms: overlapping,
    # but a retry is the behaviour to compare, so it still goes after the first one ended.
    exchanges = []
    for k in range(4):
        key = [("Idempotency-Key", f"pay-{k}"), *ONE_CLIENT]
        exchanges.append(ex("/pay", method="POST", at=k * 0.1, duration=0.08, headers=key))
        exchanges.append(ex("/pay", method="POST", at=k * 0.1 + 0.005, headers=key))
    tape = write_tape(tmp_path / "tape", exchanges)
    events: list[tuple[str, str]] = []

    async def app(a: Arrival) -> Reply:
        key = next(v for n, v in a.headers if n == "Idempotency-Key")
        events.append(("start", key))
        await asyncio.sleep(0.03)
        events.append(("end", key))
        return Reply(201, body=b"{}")

    with aserve(app) as server:
        replay_to(server.url, tape, tmp_path / "run", allow_mutating=True)
    for k in range(4):
        mine = [event for event, key in events if key == f"pay-{k}"]
        assert mine == ["start", "end", "start", "end"], (k, events)
