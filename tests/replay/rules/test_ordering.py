from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadowtape.errors import ConfigError
from shadowtape.replay.rules.options import Ordering, Shard
from shadowtape.replay.rules.ordering import Sequencer
from tests.replay.helpers import ex
from tests.replay.reference import in_shard, shard_key, state_keys


def test_state_keys_name_idempotency_session_and_client() -> None:
    keys = state_keys(
        ex(
            headers=[
                ("Cookie", "theme=dark; sessionid=abc"),
                ("Idempotency-Key", "k1"),
                ("X-Forwarded-For", "10.1.2.3, 10.0.0.1"),
            ]
        )
    )
    assert keys == ["cookie:sessionid=abc", "client:10.1.2.3", "idem:k1"]
    assert state_keys(ex(headers=[("Cookie", "theme=dark")])) == []


def test_shard_parse() -> None:
    assert Shard.parse("2/4") == Shard(2, 4)
    for bad in ("0/4", "5/4", "x", "1/0"):
        with pytest.raises(Exception, match="shard"):
            Shard.parse(bad)


@given(st.lists(st.sampled_from(["a", "b", "c", "d", None]), min_size=1, max_size=40))
def test_shards_partition_and_keep_sessions_together(sessions: list[str | None]) -> None:
    exchanges = [ex(headers=[("Cookie", f"session={s}")] if s else []) for s in sessions]
    for count in (1, 3):
        owners = [
            [i for i in range(1, count + 1) if in_shard(e, Shard(i, count))] for e in exchanges
        ]
        assert all(len(o) == 1 for o in owners)  # each exchange in exactly one shard
        by_session: dict[str, set[int]] = {}
        for s, o in zip(sessions, owners, strict=True):
            if s:
                by_session.setdefault(s, set()).add(o[0])
        assert all(len(shards) == 1 for shards in by_session.values())


def test_shard_key_is_stable() -> None:
    e = ex(headers=[("Idempotency-Key", "k")])
    assert shard_key(e) == "idem:k"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # The same client before and after logging in.
        (
            [("X-Forwarded-For", "10.0.0.7")],
            [("X-Forwarded-For", "10.0.0.7"), ("Cookie", "sid=s1")],
        ),
        # The same session, its cookies in either order (csrftoken looks like a token).
        ([("Cookie", "sessionid=s1; csrftoken=t1")], [("Cookie", "csrftoken=t2; sessionid=s1")]),
        # The same session, with and without credentials.
        ([("Cookie", "sid=s1")], [("Cookie", "sid=s1"), ("Authorization", "Bearer x")]),
    ],
)
def test_the_shard_follows_the_most_lasting_identity_whatever_else_is_sent(
    first: list[tuple[str, str]], second: list[tuple[str, str]]
) -> None:
    assert shard_key(ex(headers=first)) == shard_key(ex(headers=second))


@pytest.mark.anyio
async def test_sequencer_runs_requests_sharing_a_key_in_order() -> None:
    seq = Sequencer()
    order: list[int] = []

    async def one(i: int, keys: list[str], delay: float) -> None:
        before, mine = seq.enter(keys)
        try:
            for f in before:
                await f
            await asyncio.sleep(delay)
            order.append(i)
        finally:
            seq.leave(keys, mine)

    # 0 is slow; 1 shares its key and must wait; 2 shares nothing and overtakes.
    await asyncio.gather(one(0, ["k"], 0.05), one(1, ["k"], 0), one(2, ["other"], 0))
    assert order == [2, 0, 1]
    assert len(seq) == 0


async def _waits(seq: Sequencer, requests: list[tuple[list[str], int, int]]) -> list[int]:
    """How many futures each request (keys, recorded start, end; in order) waits for
    that are not done yet, all entered before any finishes."""
    return [len([f for f in seq.enter(k, s, e)[0] if not f.done()]) for k, s, e in requests]


@pytest.mark.anyio
async def test_recorded_ordering_waits_only_for_what_had_finished_in_the_recording() -> None:
    seq = Sequencer(Ordering.RECORDED)
    waits = await _waits(
        seq,
        [
            (["auth:t"], 0, 100),  # 0
            (["auth:t"], 10, 50),  # 1: overlaps 0
            (["auth:t"], 60, 70),  # 2: after 1 ended, 0 still open: waits for 1
            (["auth:t"], 100, 120),  # 3: after 0, 1 and 2 ended: one future for all
            (["auth:u"], 100, 120),  # another client: free
        ],
    )
    assert waits == [0, 0, 1, 1, 0]


@pytest.mark.anyio
async def test_recorded_ordering_releases_a_request_once_all_it_waits_for_are_done() -> None:
    seq = Sequencer(Ordering.RECORDED)
    a, b = seq.enter(["k"], 0, 10), seq.enter(["k"], 5, 20)
    before, mine = seq.enter(["k"], 30, 40)
    (after,) = before
    seq.leave(["k"], a[1])
    await asyncio.sleep(0)
    assert not after.done()
    seq.leave(["k"], b[1])
    await asyncio.sleep(0)
    assert after.done()
    seq.leave(["k"], mine)
    assert len(seq) == 0


@pytest.mark.anyio
async def test_an_idempotency_key_keeps_its_order_even_when_the_requests_overlapped() -> None:
    seq = Sequencer(Ordering.RECORDED)
    assert await _waits(seq, [(["idem:k"], 0, 100), (["idem:k"], 10, 50)]) == [0, 1]


@pytest.mark.anyio
async def test_strict_ordering_waits_for_every_earlier_request() -> None:
    seq = Sequencer(Ordering.STRICT)
    assert await _waits(seq, [(["auth:t"], 0, 100), (["auth:t"], 10, 50)]) == [0, 1]


def test_ordering_lists_valid_values() -> None:
    with pytest.raises(ConfigError, match="recorded, strict, none"):
        Ordering.parse("loose")
    assert Ordering.parse("none") is Ordering.NONE
