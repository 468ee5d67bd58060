"""The proxy stays a proxy: large and streaming bodies flow through a recording mitmdump.

Upstreams here are raw sockets on 127.0.0.1 that write exactly the bytes a test needs
(a body cut by a reset, events spaced in time, 100 MB generated on the fly); clients
read raw bytes, so what the client got can be compared with what the tape says.
"""

from __future__ import annotations

import gzip
import os
import random
import socket
import threading
import time
from contextlib import suppress
from pathlib import Path

import pytest

from tests.e2e.record_support import proxy, raw_upstream, read_tapes, reset_on_close
from tests.procfs import PeakRss, rss_mb

pytestmark = pytest.mark.e2e

MiB = 1024 * 1024


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _get(port: int, path: str) -> bytes:
    """A GET's raw response, read until the proxy closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        with suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    return b"".join(chunks)


PATTERN = bytes(range(256)) * 256  # 64 KiB


def _cut(conn: socket.socket, head: bytes) -> None:
    """Announce a body, send part of it, reset: 1000 of 100 000 bytes, or 1.5 of 5 MiB."""
    big = b"/big" in head.split(b"\r\n", 1)[0]
    declared, sent = (5 * MiB, 24 * len(PATTERN)) if big else (100_000, 1000)
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
        + f"Content-Length: {declared}\r\n\r\n".encode()
    )
    for i in range(0, sent, len(PATTERN)):
        conn.sendall(PATTERN[: sent - i])
    time.sleep(0.3)
    reset_on_close(conn)


def test_a_reset_mid_body_of_a_buffered_response_is_recorded_as_the_502_error(
    tmp_path: Path,
) -> None:
    """mitmproxy buffers a body below the cap: the client gets its 502, never the 200."""
    tapes = tmp_path / "tapes"
    with raw_upstream(_cut) as up, proxy(up, tapes) as p:
        got = _get(p.port, "/small")
        assert p.stop() == 0
    assert got.startswith(b"HTTP/1.1 502 ")
    (ex,) = read_tapes(tapes)
    assert ex.response is None
    assert ex.error is not None and ex.error.kind == "reset"


def test_a_reset_mid_body_of_a_streamed_response_is_recorded_as_the_client_got_it(
    tmp_path: Path,
) -> None:
    """Above the cap the body streams: the client gets the 200 and the bytes before the
    reset, and the tape the same status, those bytes (capped) and the error."""
    tapes = tmp_path / "tapes"
    with raw_upstream(_cut) as up, proxy(up, tapes) as p:
        big = _get(p.port, "/big")
        assert p.stop() == 0
    assert big.startswith(b"HTTP/1.1 200 ")
    got = big.split(b"\r\n\r\n", 1)[1]
    assert 0 < len(got) < 5 * MiB
    (ex,) = read_tapes(tapes)
    assert ex.response is not None and ex.response.status == 200
    assert ex.error is not None and ex.error.kind == "reset"
    assert ex.response.body_truncated
    assert ex.response.body_size == len(got)
    assert ex.response.body == got[:MiB]


@pytest.mark.timing  # the first event's bound (0.5 s) is wall time
def test_server_sent_events_reach_the_client_as_they_are_sent(tmp_path: Path) -> None:
    client_has_one = threading.Event()
    #: Whether the client had the first event before the upstream sent the second.
    streamed: list[bool] = []

    def events(conn: socket.socket, head: bytes) -> None:
        if b"/events" not in head.split(b"\r\n", 1)[0]:
            conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
            return
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"
            + _chunk(b"data: one\n\n")
        )
        # A proxy holding the stream back would keep the second event waiting here.
        streamed.append(client_has_one.wait(10))
        conn.sendall(_chunk(b"data: two\n\n") + b"0\r\n\r\n")

    tapes = tmp_path / "tapes"
    with raw_upstream(events) as up, proxy(up, tapes) as p:
        _get(p.port, "/warm-up")  # a first flow loads what every flow needs
        with socket.create_connection(("127.0.0.1", p.port), timeout=10) as sock:
            started = time.perf_counter()
            sock.sendall(b"GET /events HTTP/1.1\r\nHost: svc\r\nAccept: text/event-stream\r\n\r\n")
            seen = b""
            while b"data: one" not in seen:
                data = sock.recv(65536)
                assert data, seen
                seen += data
            first = time.perf_counter() - started
            client_has_one.set()
            while b"0\r\n\r\n" not in seen:
                seen += sock.recv(65536)
        assert p.stop() == 0
    print(f"\nSSE first event after {first * 1000:.0f} ms")
    assert first < 0.5
    assert streamed == [True]
    (ex,) = [ex for ex in read_tapes(tapes) if ex.request.path == "/events"]
    assert ex.response is not None and ex.response.status == 200
    assert ex.response.body == b"data: one\n\ndata: two\n\n"
    assert not ex.response.body_truncated


DOWNLOAD = 100 * MiB


def _download(conn: socket.socket, head: bytes) -> None:
    line = head.split(b"\r\n", 1)[0]
    if b"/warm-up" in line:
        conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
        return
    chunked = b"/chunked" in line
    framing = b"Transfer-Encoding: chunked" if chunked else f"Content-Length: {DOWNLOAD}".encode()
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n" + framing)
    conn.sendall(b"\r\n\r\n")
    block = _chunk(PATTERN) if chunked else PATTERN
    for _ in range(DOWNLOAD // len(PATTERN)):
        conn.sendall(block)
    if chunked:
        conn.sendall(b"0\r\n\r\n")


def test_three_concurrent_100_mb_downloads_keep_the_proxy_small(tmp_path: Path) -> None:
    tapes = tmp_path / "tapes"
    sizes: dict[str, int] = {}
    with raw_upstream(_download) as up, proxy(up, tapes) as p:
        _get(p.port, "/warm-up")  # a first flow loads what every flow needs
        start = rss_mb(p.proc.pid)

        def fetch(path: str) -> None:
            sizes[path] = len(_get(p.port, path).split(b"\r\n\r\n", 1)[1])

        threads = [threading.Thread(target=fetch, args=(f"/{n}",)) for n in ("a", "b", "chunked")]
        for thread in threads:
            thread.start()
        with PeakRss(p.proc.pid) as rss:
            for thread in threads:
                thread.join(120)
        peak = rss.mb
        assert p.stop() == 0
    print(f"\nmitmdump VmRSS: {start:.0f} MB before, peak {peak:.0f} MB during 3 x 100 MB")
    assert sizes["/a"] == sizes["/b"] == DOWNLOAD
    assert sizes["/chunked"] > DOWNLOAD  # its chunk framing included
    assert peak < 300
    recorded = {ex.request.path: ex.response for ex in read_tapes(tapes)}
    for path in ("/a", "/b", "/chunked"):
        response = recorded[path]
        assert response is not None and response.body_truncated
        assert response.body_size == DOWNLOAD
        assert response.body == (PATTERN * 16)[:MiB]


def test_a_streamed_compressed_body_is_recorded_decoded_or_dropped(tmp_path: Path) -> None:
    words = [f"word{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(60)]
    pick = random.Random(18).choice
    text = " ".join(pick(words) for _ in range(300_000)).encode()  # 2 MiB, ~0.5 MiB gzipped
    packed = gzip.compress(text)
    garbage = os.urandom(MiB)
    cap = 64 * 1024

    def compressed(conn: socket.socket, head: bytes) -> None:
        body = garbage if b"/bad" in head.split(b"\r\n", 1)[0] else packed
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )

    tapes = tmp_path / "tapes"
    with (
        raw_upstream(compressed) as up,
        proxy(up, tapes, options={"shadowtape_max_body": cap}) as p,
    ):
        good = _get(p.port, "/good")
        bad = _get(p.port, "/bad")
        assert p.stop() == 0
    assert good.split(b"\r\n\r\n", 1)[1] == packed
    assert bad.split(b"\r\n\r\n", 1)[1] == garbage
    by_path = {ex.request.path: ex for ex in read_tapes(tapes)}
    decoded, dropped = by_path["/good"], by_path["/bad"]
    assert decoded.response is not None and decoded.response.body_truncated
    assert decoded.response.body == text[:cap]
    assert decoded.response.body_size == len(text)
    assert dropped.response is not None and dropped.response.body_truncated
    assert dropped.response.body == b""
    assert dropped.response.body_size == len(garbage)
    assert "response.body: dropped (not decodable as gzip)" in dropped.redactions


UPLOAD = 50 * MiB


def _count_body(conn: socket.socket, head: bytes) -> None:
    """Read the request's body (Content-Length or chunked) and answer with its size."""
    header, _, rest = head.partition(b"\r\n\r\n")
    chunked = b"transfer-encoding: chunked" in header.lower()
    size, buffer = 0, rest
    if not chunked:
        length = int(header.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        size = len(buffer)
        while size < length:
            size += len(conn.recv(1 << 20))
    else:
        while True:
            while b"\r\n" not in buffer:
                buffer += conn.recv(1 << 20)
            line, _, buffer = buffer.partition(b"\r\n")
            n = int(line, 16)
            while len(buffer) < n + 2:
                buffer += conn.recv(1 << 20)
            size += n
            buffer = buffer[n + 2 :]
            if n == 0:
                break
    answer = str(size).encode()
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(answer), answer))


def _upload(port: int, path: str, chunked: bool) -> bytes:
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {UPLOAD}"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: svc\r\nContent-Type: application/octet-stream\r\n"
            f"{framing}\r\nConnection: close\r\n\r\n".encode()
        )
        block = _chunk(PATTERN) if chunked else PATTERN
        for _ in range(UPLOAD // len(PATTERN)):
            sock.sendall(block)
        if chunked:
            sock.sendall(b"0\r\n\r\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_large_uploads_stream_to_the_service_with_a_capped_copy_recorded(
    tmp_path: Path,
) -> None:
    tapes = tmp_path / "tapes"
    with raw_upstream(_count_body) as up, proxy(up, tapes) as p:
        with PeakRss(p.proc.pid) as rss:
            answers = [_upload(p.port, "/length", False), _upload(p.port, "/chunked", True)]
        peak = rss.mb
        assert p.stop() == 0
    print(f"\nmitmdump VmRSS peak {peak:.0f} MB during two 50 MB uploads")
    for answer in answers:
        assert answer.startswith(b"HTTP/1.1 200 ")
        assert answer.endswith(str(UPLOAD).encode())
    assert peak < 300
    recorded = {ex.request.path: ex.request for ex in read_tapes(tapes)}
    for path in ("/length", "/chunked"):
        request = recorded[path]
        assert request.body_truncated and request.body_size == UPLOAD
        assert request.body == (PATTERN * 16)[:MiB]
