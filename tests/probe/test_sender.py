"""A probe's request carries its own fresh traceparent, as the replay's do (the deps
proxy tells probe calls apart by it); against a real server on 127.0.0.1."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shadowtape.probe.sample import Seed
from shadowtape.probe.sender import ExchangeLog, TargetSender
from shadowtape.replay.http.client import ReplayClient
from tests.servers import Received, Reply, serve

TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-[0-9a-f]{16}-00$")
RECORDED = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"


def _ok(_: Received) -> Reply:
    return Reply(200, body=b"{}")


@pytest.mark.anyio
@pytest.mark.parametrize("traceparent", [True, False])
async def test_each_probe_request_gets_a_fresh_traceparent(
    tmp_path: Path, traceparent: bool
) -> None:
    seed = Seed("e1", "GET", "api.test", "/a", "", (("traceparent", RECORDED),), b"")
    log = ExchangeLog(tmp_path)
    with serve(_ok) as server:
        async with ReplayClient(max_connections=2, timeout=5) as client:
            sender = TargetSender(
                "candidate",
                server.url,
                client,
                log,
                keep_host=False,
                headers=(),
                traceparent=traceparent,
            )
            replies = [
                (await sender.send(seed, probe="p", endpoint="GET /a", stage="s"))[1]
                for _ in range(2)
            ]
    log.close()
    sent = [v for r in server.received for n, v in r.headers if n.lower() == "traceparent"]
    if not traceparent:
        assert sent == [RECORDED, RECORDED]
        assert [r.trace_id for r in replies] == [None, None]
        return
    ids = [m.group(1) for m in map(TRACEPARENT.match, sent) if m]
    assert len(ids) == 2 and len(set(ids)) == 2 and RECORDED[3:35] not in ids
    assert [r.trace_id for r in replies] == ids
