"""Decompression bombs through a real mitmdump: recorded, dropped, and cheap.

Each kind of bomb (gzip members, x-gzip, stacked gzip, zlib and raw deflate, stacked
deflate, br, gzip under br, zstd, stacked zstd: a few KB that expand to up to a GiB) is
sent as a request body and answered as a response body, between ordinary traffic. The
client gets the bomb's bytes as they came (the proxy stays a proxy); the tape holds each
exchange with both bodies dropped and the redaction saying why; the recorder (mitmdump
and its worker) stays far below what one expanded bomb would take; ordinary exchanges
before and after are recorded whole.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.bombs import bombs
from tests.e2e.record_support import proxy, read_tapes
from tests.procfs import PeakRss
from tests.servers import Received, Reply, serve

pytestmark = pytest.mark.e2e


def _upstream(request: Received) -> Reply:
    if request.path.startswith("/bomb/"):
        header, body = bombs()[request.path.removeprefix("/bomb/")]
        return Reply(200, [("Content-Type", "text/plain"), ("Content-Encoding", header)], body)
    return Reply(200, [("Content-Type", "application/json")], b'{"ok": true}')


def _ordinary(client: httpx.Client, start: int, count: int) -> set[str]:
    paths = set()
    for i in range(start, start + count):
        body = f'{{"user": "u{i}", "note": "ordinary {i}"}}'.encode()
        response = client.post(f"/n/{i}", content=body, headers={"Content-Type": "text/plain"})
        assert response.status_code == 200
        paths.add(f"/n/{i}")
    return paths


def test_bombs_are_recorded_with_bodies_dropped_and_the_recorder_stays_small(
    tmp_path: Path,
) -> None:
    tapes = tmp_path / "tapes"
    kinds = bombs()
    with (
        serve(_upstream) as upstream,
        proxy(upstream.url, tapes) as p,
        httpx.Client(base_url=p.url, timeout=60) as client,
    ):
        ordinary = _ordinary(client, 0, 20)
        rss = PeakRss(p.proc.pid, interval=0.02, descendants=True)
        start = rss.now()
        with rss:  # until the recorder has written everything and exited
            for kind, (header, body) in kinds.items():
                sent = {"Content-Encoding": header, "Content-Type": "text/plain"}
                with client.stream("POST", f"/bomb/{kind}", content=body, headers=sent) as r:
                    assert r.status_code == 200
                    assert r.headers["content-encoding"] == header
                    assert b"".join(r.iter_raw()) == body  # passed on as it came
            ordinary |= _ordinary(client, 20, 20)
            assert p.stop() == 0, p.output()
    print(f"\nrecorder VmRSS: {start:.0f} MB before, peak {rss.mb:.0f} MB during the bombs")
    # Ordinary traffic alone grows it by about 120 MB here (the worker's first exchanges
    # and the writer's close); one bomb expanded in memory would add 1 GB.
    assert rss.mb - start < 200, f"{start:.0f} MB before, {rss.mb:.0f} MB at the peak"
    exchanges = {ex.request.path: ex for ex in read_tapes(tapes)}
    assert ordinary <= exchanges.keys()
    for path in ordinary:
        assert exchanges[path].request.body.startswith(b'{"user"')
        assert not exchanges[path].redactions
    for kind, (header, body) in kinds.items():
        ex = exchanges[f"/bomb/{kind}"]
        assert ex.response is not None and ex.response.status == 200
        for side, message in (("request", ex.request), ("response", ex.response)):
            assert (message.body, message.body_truncated) == (b"", True), (kind, side)
            assert message.body_size == len(body)
            assert message.header("content-encoding") == header
            assert f"{side}.body: dropped (decompressed size over limit)" in ex.redactions
