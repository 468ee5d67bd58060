"""A build answering a decompression bomb: the replayer's memory stays bounded, decoding
stops at the limit and the answer is kept truncated (its status too, as the recorder keeps
it), and the run goes on."""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from shadowtape.coding import LIMIT
from shadowtape.replay import read_results
from shadowtape.replay.http.client import ReplayClient
from shadowtape.replay.http.client import Reply as Reply_
from shadowtape.replay.http.inprocess import APP_URL, AppClient
from shadowtape.replay.rules.targets import Outgoing
from tests.bombs import MiB, bombs, gzip_members
from tests.replay.helpers import ex, replay_to, write_tape
from tests.servers import Received, Reply, serve

#: One of each coding, stacks too: 64 MiB to 1 GiB each, all over the 32 MiB limit.
KINDS = ["gzip-members-64MiB", "deflate-raw-64MiB", "gzip-gzip-1GiB", "br-256MiB", "zstd-zstd-1GiB"]
OK = b'{"ok":true}'


def _bomb_server(received: Received) -> Reply:
    """``/…/KIND``: that bomb; ``/zeros/N``: N MiB of zeros in gzip; else a small JSON."""
    kind = received.path.rsplit("/", 1)[-1]
    if received.path.startswith("/zeros/"):
        return Reply(headers=[("Content-Encoding", "gzip")], body=gzip_members(int(kind)))
    if kind in bombs():
        header, body = bombs()[kind]
        return Reply(headers=[("Content-Encoding", header)], body=body)
    return Reply(headers=[("Content-Type", "application/json")], body=OK)


async def _fetch_traced(client: ReplayClient | AppClient, url: str) -> tuple[Reply_, int]:
    """The reply to a GET of ``url``, and the peak of memory traced while it was read."""
    tracemalloc.start()
    try:
        reply = await client.fetch(Outgoing("GET", url, (), b""))
        return reply, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.anyio
@pytest.mark.parametrize("kind", KINDS)
async def test_a_bomb_is_cut_at_the_limit_and_memory_stays_bounded(kind: str) -> None:
    with serve(_bomb_server) as server:
        async with ReplayClient(timeout=10) as client:
            reply, peak = await _fetch_traced(client, f"{server.url}/{kind}")
            after = await client.fetch(Outgoing("GET", f"{server.url}/ok", (), b""))
    assert reply.error_kind is None, reply
    assert (reply.status, reply.body_truncated) == (200, True)
    # Decoding stopped just past the limit: the size says so, the body is the cap.
    assert abs(reply.body_size - LIMIT) <= MiB, reply.body_size
    assert reply.body is not None and len(reply.body) == MiB
    # The 1 MiB body cap and a step per coding: not the limit, let alone the bomb.
    assert peak < 16 * MiB, f"{peak / MiB:.0f} MiB"
    assert (after.status, after.body) == (200, OK)


@pytest.mark.anyio
async def test_an_answer_under_the_limit_is_read_whole_and_cut_at_the_cap() -> None:
    # 24 MiB of zeros in gzip: under the limit, over the cap; not a bomb.
    with serve(_bomb_server) as server:
        async with ReplayClient(timeout=10, body_cap=MiB) as client:
            reply = await client.fetch(Outgoing("GET", f"{server.url}/zeros/24", (), b""))
    assert reply.error_kind is None, reply
    assert (reply.status, reply.body_size, reply.body_truncated) == (200, 24 * MiB, True)
    assert reply.body == b"\0" * MiB


def test_a_replay_records_each_bomb_truncated_and_goes_on(tmp_path: Path) -> None:
    paths = ["/ok/first", *(f"/bomb/{kind}" for kind in KINDS), "/ok/last"]
    tape = write_tape(tmp_path / "tape", [ex(p, at=i * 0.01) for i, p in enumerate(paths)])
    with serve(_bomb_server) as build:
        tracemalloc.start()
        try:
            run_dir = replay_to(build.url, tape, tmp_path / "run", pace="asap", concurrency=2)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    rows = {r["path"]: r for b in read_results(run_dir) for r in b.to_pylist()}
    assert set(rows) == set(paths)
    for path in paths:
        row = rows[path]
        if path.startswith("/ok"):
            assert (row["candidate_status"], row["candidate_body"]) == (200, OK)
        else:
            assert row["candidate_error_kind"] is None, path
            assert (row["candidate_status"], row["candidate_body_truncated"]) == (200, True)
            assert abs(row["candidate_body_size"] - LIMIT) <= MiB, path
    # Two bombs in flight at a time, each held to the body cap and a step per coding.
    assert peak < 64 * MiB, f"{peak / MiB:.0f} MiB"


async def _bomb_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An in-process ASGI build answering the bomb its path names."""
    await receive()
    header, body = bombs()[scope["path"].rsplit("/", 1)[-1]]
    headers = [(b"content-encoding", header.encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["gzip-gzip-1GiB", "br-256MiB"])
async def test_an_in_process_app_answering_a_bomb_is_held_to_the_limit_too(kind: str) -> None:
    async with AppClient(_bomb_app) as client:
        reply, peak = await _fetch_traced(client, f"{APP_URL}/{kind}")
    assert reply.error_kind is None, reply
    assert (reply.status, reply.body_truncated) == (200, True)
    assert abs(reply.body_size - LIMIT) <= MiB, reply.body_size
    assert peak < 16 * MiB, f"{peak / MiB:.0f} MiB"
