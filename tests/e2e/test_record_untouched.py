"""The traffic is untouched: with the Recorder, clients get byte for byte what they get
from mitmdump alone, and the upstream receives the same requests.

Both proxies run side by side in front of the same upstream; responses are read as raw
bytes off the socket (only the Date line, which the upstream stamps per request, is
normalised). Covers compressed, chunked, large, empty and HEAD responses.
"""

from __future__ import annotations

import gzip
import json
import re
import socket
from pathlib import Path

import pytest

from tests.e2e.record_support import proxy, raw_upstream, read_tapes, reset_on_close
from tests.servers import Received, Reply, free_port, serve

pytestmark = pytest.mark.e2e

BIG = bytes(range(256)) * (3 * 4096)  # 3 MiB, more than shadowtape_max_body


def _chunked(body: bytes, size: int = 1000) -> bytes:
    out = b""
    for i in range(0, len(body), size):
        piece = body[i : i + size]
        out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    return out + b"0\r\n\r\n"


def _upstream(request: Received) -> Reply:
    path = request.path.split("?")[0]
    if path == "/gzip":
        # mtime=0: the gzip header stamps the second it was made, and the two proxies'
        # requests can fall in different seconds.
        body = gzip.compress(json.dumps({"items": list(range(300))}).encode(), mtime=0)
        return Reply(
            200,
            [
                ("Content-Type", "application/json"),
                ("Content-Encoding", "gzip"),
                ("Vary", "Accept-Encoding"),
            ],
            body,
        )
    if path == "/chunked":
        return Reply(
            200,
            [("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked")],
            _chunked(b"line of text\n" * 500),
        )
    if path == "/big":
        return Reply(200, [("Content-Type", "application/octet-stream")], BIG)
    if path == "/empty":
        return Reply(204, [("X-Thing", "a"), ("x-thing", "B")], b"")
    if path == "/missing":
        return Reply(404, [("Content-Type", "text/html")], b"<h1>not here</h1>")
    if path == "/echo":
        return Reply(
            201,
            [("Content-Type", "application/json"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")],
            request.body,
        )
    return Reply(200, [("Content-Type", "text/plain; charset=utf-8")], "héllo wörld".encode())


REQUESTS = [
    b"GET /plain HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n",
    b"GET /gzip HTTP/1.1\r\nHost: svc\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n",
    b"GET /chunked HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n",
    b"GET /big HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n",
    b"GET /empty HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n",
    b"GET /missing?x=1 HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n",
    b"HEAD /plain HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: svc\r\nContent-Type: application/json\r\n"
    b"Authorization: Bearer abc.def\r\nContent-Length: 17\r\nConnection: close\r\n\r\n"
    b'{"password": "x"}',
]


def _fetch(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    raw = b"".join(chunks)
    return re.sub(rb"\r\nDate: [^\r]*", b"\r\nDate: -", raw, count=1)


def test_responses_are_byte_identical_with_and_without_the_recorder(tmp_path: Path) -> None:
    tapes = tmp_path / "tapes"
    with serve(_upstream) as upstream:
        with proxy(upstream.url, None) as alone, proxy(upstream.url, tapes) as recording:
            for request in REQUESTS:
                plain = _fetch(alone.port, request)
                recorded = _fetch(recording.port, request)
                assert recorded == plain, request.split(b"\r\n")[0]
                assert plain.startswith(b"HTTP/1.1 ")
            assert recording.stop() == 0
        received = upstream.received
    # Each request reached the upstream twice, identically (once per proxy).
    assert len(received) == 2 * len(REQUESTS)
    by_proxy = [
        [
            (r.method, r.path, [h for h in r.headers if h[0].lower() != "host"], r.body)
            for r in received[i::2]
        ]
        for i in (0, 1)
    ]
    assert by_proxy[0] == by_proxy[1]

    exchanges = {ex.request.path: ex for ex in read_tapes(tapes)}
    assert len(exchanges) == len(REQUESTS) - 1  # GET and HEAD /plain share a path
    gz = exchanges["/gzip"].response
    assert gz is not None and json.loads(gz.body) == {"items": list(range(300))}
    assert gz.header("content-encoding") == "gzip"
    big = exchanges["/big"].response
    assert big is not None and big.body_truncated and big.body_size == len(BIG)
    assert len(big.body) == 1024 * 1024
    chunked = exchanges["/chunked"].response
    assert chunked is not None and chunked.body == b"line of text\n" * 500


LAZY = {"connection_strategy": "lazy"}


def test_upstream_failures_are_recorded_with_their_error_kind(tmp_path: Path) -> None:
    """Refused and reset connections become exchanges with an error, not responses."""
    closed_port = free_port()  # nothing listens there
    with (
        # The resetting upstream reads the request and sends a RST, no response.
        raw_upstream(lambda conn, _: reset_on_close(conn)) as reset_url,
        # Lazy: mitmdump reads the request before it connects upstream, so a failed
        # connection is a flow with an error (eager fails before any request exists).
        proxy(f"http://127.0.0.1:{closed_port}", tmp_path / "refused", options=LAZY) as refused,
        proxy(reset_url, tmp_path / "reset", options=LAZY) as reset,
    ):
        for p in (refused, reset):
            status = _fetch(p.port, REQUESTS[0]).split(b" ", 2)[1]
            assert status == b"502"
            assert p.stop() == 0
    for name, kind in (("refused", "refused"), ("reset", "reset")):
        (ex,) = read_tapes(tmp_path / name)
        assert ex.response is None
        assert ex.error is not None and ex.error.kind == kind, ex.error
        assert ex.duration_us is not None and ex.duration_us >= 0
