"""The client against real loopback servers: each failure gets its own kind."""

from __future__ import annotations

import asyncio
import errno
import gzip
import socket
import ssl
import struct
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from shadowtape.exchange import ErrorKind
from shadowtape.replay.http.client import ReplayClient, classify
from shadowtape.replay.http.client import Reply as ClientReply
from shadowtape.replay.rules.targets import Outgoing
from tests.replay.aserver import Arrival, Handler, aserve
from tests.servers import Reply, free_port, read_head, self_signed


@pytest.fixture(
    params=[
        pytest.param(("asyncio", {}), id="asyncio"),
        pytest.param(("asyncio", {"use_uvloop": True}), id="uvloop"),
    ]
)
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, bool]]:
    """Every client test runs on both loops a replay may run on (replay/timing/loop.py)."""
    return request.param  # type: ignore[no-any-return]


def _get(url: str) -> Outgoing:
    return Outgoing("GET", url, (("Host", "x"),), b"")


def _answering(reply: Reply) -> Handler:
    """A server handler that answers every request with ``reply`` (after its delay)."""

    async def handler(_: Arrival) -> Reply:
        return reply

    return handler


@pytest.mark.anyio
async def test_refused() -> None:
    async with ReplayClient(timeout=2) as client:
        reply = await client.fetch(_get(f"http://127.0.0.1:{free_port()}/"))
    assert reply.status is None and reply.error_kind is ErrorKind.REFUSED


@pytest.mark.anyio
async def test_refused_by_every_address_of_a_host() -> None:
    # A name with two addresses (localhost is often ::1 and 127.0.0.1), nothing listening.
    loop = asyncio.get_running_loop()
    if not isinstance(loop, asyncio.BaseEventLoop):
        pytest.skip("uvloop resolves names in libuv, not through loop.getaddrinfo")
    resolve = loop.getaddrinfo

    async def two(host: object, port: object, *args: Any, **kwargs: Any) -> list[Any]:
        one = await resolve("127.0.0.1", port, *args, **kwargs)
        return one + await resolve("127.0.0.2", port, *args, **kwargs)

    loop.getaddrinfo = two  # type: ignore[method-assign]
    try:
        async with ReplayClient(timeout=2) as client:
            reply = await client.fetch(_get(f"http://two.test:{free_port()}/"))
    finally:
        del loop.getaddrinfo
    assert reply.error_kind is ErrorKind.REFUSED, reply.error_message
    assert reply.error_message is not None
    assert "127.0.0.1" in reply.error_message and "127.0.0.2" in reply.error_message


def test_connect_failures_of_several_addresses_take_the_kind_they_share() -> None:
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed ('::1', 80)")
    unreachable = OSError(errno.ENETUNREACH, "Network is unreachable")
    # An address this host cannot even use says nothing about the target.
    unusable = OSError(errno.EADDRNOTAVAIL, "Cannot assign requested address")
    group = ExceptionGroup("create_connection failed", [refused, unreachable, unusable])
    assert classify(group)[0] is ErrorKind.REFUSED
    assert "Cannot assign requested address" in classify(group)[1]
    reset = ConnectionResetError(errno.ECONNRESET, "reset")
    assert classify(ExceptionGroup("x", [refused, reset]))[0] is ErrorKind.OTHER
    assert classify(ExceptionGroup("x", [refused])) == classify(refused)
    # Python 3.11 has no all_errors: one OSError names every failure in its message.
    merged = OSError(
        "Multiple exceptions: [Errno 111] Connect call failed ('::1', 80, 0, 0), "
        "[Errno 111] Connect call failed ('127.0.0.1', 80)"
    )
    assert classify(merged)[0] is ErrorKind.REFUSED


@pytest.mark.anyio
async def test_reset() -> None:
    async def reset(_: Arrival) -> None:
        return None

    with aserve(reset) as server:
        async with ReplayClient(timeout=2) as client:
            reply = await client.fetch(_get(server.url + "/"))
    assert reply.error_kind is ErrorKind.RESET, reply.error_message


@pytest.mark.timing
@pytest.mark.anyio
async def test_timeout() -> None:
    with aserve(_answering(Reply(200, delay=1.0))) as server:
        async with ReplayClient(timeout=0.2) as client:
            reply = await client.fetch(_get(server.url + "/"))
    assert reply.error_kind is ErrorKind.TIMEOUT
    assert 0.15 < reply.ended - reply.sent < 0.9


@pytest.mark.anyio
async def test_protocol_error() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    port = sock.getsockname()[1]

    def garbage() -> None:
        conn, _ = sock.accept()
        conn.recv(65536)
        conn.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        conn.close()

    loop = asyncio.get_running_loop()
    served = loop.run_in_executor(None, garbage)
    async with ReplayClient(timeout=2) as client:
        reply = await client.fetch(_get(f"http://127.0.0.1:{port}/"))
    await served
    sock.close()
    assert reply.error_kind is ErrorKind.PROTOCOL, reply.error_message


@pytest.mark.anyio
async def test_redirects_are_answers_and_bodies_are_decoded_and_capped() -> None:
    async def app(a: Arrival) -> Reply:
        if a.path == "/moved":
            return Reply(302, [("Location", "/elsewhere")])
        return Reply(200, [("Content-Encoding", "gzip")], gzip.compress(b"x" * 5000))

    with aserve(app) as server:
        async with ReplayClient(timeout=2, body_cap=1000) as client:
            moved = await client.fetch(_get(server.url + "/moved"))
            big = await client.fetch(_get(server.url + "/big"))
    assert moved.status == 302 and [a.path for a in server.arrivals] == ["/moved", "/big"]
    assert big.body == b"x" * 1000 and big.body_size == 5000 and big.body_truncated


@pytest.mark.anyio
async def test_httpx_types_at_the_api() -> None:
    async def echo(a: Arrival) -> Reply:
        return Reply(200, [("X-Got", a.method + " " + a.path)], a.body)

    with aserve(echo) as server:
        async with ReplayClient() as client:
            request = httpx.Request("POST", server.url + "/p?q=1", content=b"payload")
            reply = await client.send(request)
    response = reply.to_httpx(request)
    assert isinstance(response, httpx.Response)
    assert response.headers["x-got"] == "POST /p?q=1" and response.content == b"payload"
    # the client adds nothing of its own
    sent = dict((n.lower(), v) for n, v in server.arrivals[0].headers)
    assert "user-agent" not in sent and "cookie" not in sent


@pytest.mark.anyio
async def test_connections_are_kept_alive_and_bounded() -> None:
    with aserve(_answering(Reply(200, body=b"{}", delay=0.02))) as server:
        async with ReplayClient(max_connections=4) as client:
            for _ in range(5):
                assert (await client.fetch(_get(server.url + "/"))).status == 200
            assert server.connections == 1
            replies = await asyncio.gather(
                *(client.fetch(_get(server.url + "/")) for _ in range(20))
            )
    assert {r.status for r in replies} == {200}
    assert server.connections <= 4


@pytest.mark.anyio
async def test_chunked_head_and_body_until_close() -> None:
    async def app(a: Arrival) -> Reply:
        return Reply(200, [("X-Kind", a.method)], b"0123456789")

    with aserve(app) as server:
        async with ReplayClient() as client:
            head = await client.fetch(Outgoing("HEAD", server.url + "/", (("Host", "x"),), b""))
            after = await client.fetch(_get(server.url + "/"))
    # HEAD announces a length but sends no body; the connection stays usable.
    assert head.status == 200 and head.body == b"" and after.body == b"0123456789"

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    sock.settimeout(10)  # a client that never comes back fails the test, not hangs it
    port = sock.getsockname()[1]

    def raw() -> None:
        for answer in (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            b"HTTP/1.0 200 OK\r\n\r\nuntil-close",
        ):
            conn, _ = sock.accept()
            conn.recv(65536)
            conn.sendall(answer)
            conn.close()

    served = asyncio.get_running_loop().run_in_executor(None, raw)
    async with ReplayClient(timeout=2) as client:
        chunked = await client.fetch(_get(f"http://127.0.0.1:{port}/"))
        until_close = await client.fetch(_get(f"http://127.0.0.1:{port}/"))
    await served
    sock.close()
    assert chunked.body == b"abc"
    assert until_close.body == b"until-close", until_close.error_message


@pytest.mark.anyio
async def test_tls_targets_verify_certificates_unless_told_not_to(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    try:
        async with ReplayClient(timeout=2) as client:
            strict = await client.fetch(_get(f"https://127.0.0.1:{port}/"))
        async with ReplayClient(timeout=2, verify_tls=False) as client:
            lenient = await client.fetch(_get(f"https://127.0.0.1:{port}/"))
    finally:
        server.close()
        await server.wait_closed()
    assert strict.error_kind is ErrorKind.TLS, strict.error_message
    assert lenient.status == 200 and lenient.body == b"ok"


def _raw_loopback(handle: Callable[[socket.socket, int], None], connections: int) -> socket.socket:
    """A raw server's listening socket on 127.0.0.1 (accepts time out after 5 s): a thread
    hands its connections, the first ``connections`` in turn, to ``handle(conn, i)``
    until the socket is closed."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    sock.settimeout(5)

    def run() -> None:
        for i in range(connections):
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            handle(conn, i)

    threading.Thread(target=run, daemon=True).start()
    return sock


def _closing_server(answers: int) -> tuple[socket.socket, list[bytes]]:
    """A raw server: each connection answers one request with keep-alive, then resets
    on the next one without answering (a server closing an idle connection as a request
    arrives). Returns the listening socket and the request lines it saw."""
    seen: list[bytes] = []

    def answer_then_reset(conn: socket.socket, _: int) -> None:
        with conn:
            conn.settimeout(5)
            seen.append(conn.recv(65536).split(b"\r\n", 1)[0])
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            data = conn.recv(65536)
            if data:
                seen.append(data.split(b"\r\n", 1)[0] + b" (reset)")
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    return _raw_loopback(answer_then_reset, answers), seen


@pytest.mark.anyio
async def test_a_kept_alive_connection_reset_by_the_server_is_retried_for_safe_methods() -> None:
    sock, seen = _closing_server(answers=3)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    try:
        async with ReplayClient(timeout=3) as client:
            first = await client.fetch(_get(url))
            second = await client.fetch(_get(url))  # reset on reuse, sent again
            post = await client.fetch(Outgoing("POST", url, (("Host", "x"),), b"{}"))  # reset
            post_again = await client.fetch(Outgoing("POST", url, (("Host", "x"),), b"{}"))
    finally:
        sock.close()
    assert (first.status, second.status) == (200, 200), second.error_message
    # A POST that may have reached the server is never sent again on its own: the reset
    # is its answer (an error row); the next POST goes out on a new connection.
    assert post.status is None and post.error_kind is ErrorKind.RESET
    assert post_again.status == 200
    assert [line for line in seen if line.startswith(b"POST")] == [
        b"POST / HTTP/1.1 (reset)",
        b"POST / HTTP/1.1",
    ]


CONNECT_DELAY = 0.5


def _slow_to_connect(client: ReplayClient) -> None:
    """Each new connection of ``client`` takes CONNECT_DELAY longer to open."""
    connect = client._connect

    async def slow(key: tuple[str, str, int]) -> Any:
        # By time.monotonic(), as the replies' times are: uvloop's timers count whole
        # milliseconds from the loop's cached clock, and can end a sleep that much early.
        until = time.monotonic() + CONNECT_DELAY
        while (left := until - time.monotonic()) > 0:
            await asyncio.sleep(left)
        return await connect(key)

    client._connect = slow  # type: ignore[method-assign]


@pytest.mark.timing
@pytest.mark.anyio
async def test_service_time_starts_when_the_request_leaves() -> None:
    # Not when the client began: connecting, a retry after a stale connection and the
    # wait for a free connection come first (the corrected latency, from the schedule,
    # still counts them), so a fresh connection on one side and a reused one on the
    # other do not skew the comparison.
    with aserve(_answering(Reply(200, body=b"ok", delay=0.15))) as server:
        async with ReplayClient(timeout=5, max_connections=1) as client:
            _slow_to_connect(client)
            began = time.monotonic()
            first = await client.fetch(_get(server.url + "/"))
            assert first.ended - began >= CONNECT_DELAY
            assert first.sent - began >= CONNECT_DELAY and first.ended - first.sent < 0.45
            # Two at once over one connection: the second waits for the first.
            began = time.monotonic()
            both = await asyncio.gather(*(client.fetch(_get(server.url + "/")) for _ in "ab"))
            assert max(r.ended for r in both) - began >= 0.3
            assert all(r.status == 200 and r.ended - r.sent < 0.28 for r in both), both

    sock, _ = _closing_server(answers=2)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    try:
        async with ReplayClient(timeout=5) as client:
            await client.fetch(_get(url))
            _slow_to_connect(client)
            began = time.monotonic()
            again = await client.fetch(_get(url))  # reset on reuse, sent again
    finally:
        sock.close()
    assert again.status == 200 and again.sent - began >= CONNECT_DELAY, again
    assert again.ended - again.sent < 0.25


def _raw_server(answers: list[list[bytes]]) -> socket.socket:
    """A raw server: connection i reads one request and writes answers[i] a piece at a
    time (each piece its own send, flushed by TCP_NODELAY and a short pause), then
    closes."""

    def answer_in_pieces(conn: socket.socket, i: int) -> None:
        with conn:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.recv(65536)
            for piece in answers[i]:
                conn.sendall(piece)
                time.sleep(0.002)

    return _raw_loopback(answer_in_pieces, len(answers))


async def _fetch_each(sock: socket.socket, methods: list[str]) -> list[ClientReply]:
    """One request per method, in turn, to the raw server listening on ``sock`` (closed
    after): the replies."""
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    try:
        async with ReplayClient(timeout=3) as client:
            return [await client.fetch(Outgoing(m, url, (("Host", "x"),), b"")) for m in methods]
    finally:
        sock.close()


@pytest.mark.anyio
async def test_response_heads_are_read_however_they_arrive() -> None:
    gz = gzip.compress(b"zipped")
    answers = [
        # A head that arrives a few bytes at a time, with a body in the last piece.
        [
            b"HTTP/1.1 200 OK\r\nX-A",
            b": 1\r\n",
            b"X-B:  two words \r",
            b"\nContent-Length: 2\r\n\r\nok",
        ],
        # An interim 100 Continue in front of the real answer, in the same write.
        [b"HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\nHTTP/1.1 201 Created\r\n"
         b"X-Final: yes\r\nContent-Length: 0\r\n\r\n"],
        # The body's encoding, read from the head; a header value that is not UTF-8.
        [b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\nX-Raw: caf\xe9\r\n"
         b"Content-Length: " + str(len(gz)).encode() + b"\r\n\r\n" + gz],
        # No headers at all, the body delimited by the end of the connection.
        [b"HTTP/1.1 200 OK\r\n\r\n", b"until close"],
        # A transfer coding that is not chunked last: delimited by the end too, and kept
        # as it came (only content codings are decoded).
        [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", gz],
        # Lines ending in a bare LF: not HTTP/1.1 as llhttp reads it.
        [b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok"],
    ]  # fmt: skip
    replies = await _fetch_each(_raw_server(answers), ["GET"] * len(answers))
    slow, interim, zipped, bare, coded, lf = replies
    assert (slow.status, slow.body) == (200, b"ok"), slow.error_message
    assert slow.headers == (("X-A", "1"), ("X-B", "two words"), ("Content-Length", "2"))
    assert (interim.status, interim.reason) == (201, "Created"), interim.error_message
    assert interim.headers == (("X-Final", "yes"), ("Content-Length", "0"))
    assert zipped.body == b"zipped", zipped.error_message
    assert zipped.headers is not None and ("X-Raw", "caf\ufffd") in zipped.headers
    assert (bare.body, bare.headers) == (b"until close", ())
    assert (coded.status, coded.body) == (200, gz), coded.error_message
    assert lf.status is None and lf.error_kind is ErrorKind.PROTOCOL, lf


def _scripted_server(scripts: list[list[bytes]]) -> tuple[socket.socket, list[list[bytes]]]:
    """A raw keep-alive server: connection i answers its requests with scripts[i] in
    order (each answer one send), then reads until the client closes. Returns the
    listening socket and the request lines each connection saw."""
    seen: list[list[bytes]] = []

    def serve(conn: socket.socket, answers: list[bytes], lines: list[bytes]) -> None:
        with conn:
            conn.settimeout(5)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                for answer in answers:
                    request = read_head(conn)
                    if request is None:
                        return
                    lines.append(request.split(b"\r\n", 1)[0])
                    conn.sendall(answer)
                while conn.recv(65536):
                    pass
            except OSError:
                return

    def start(conn: socket.socket, i: int) -> None:
        lines: list[bytes] = []
        seen.append(lines)
        threading.Thread(target=serve, args=(conn, scripts[i], lines), daemon=True).start()

    return _raw_loopback(start, len(scripts)), seen


@pytest.mark.anyio
async def test_a_response_to_head_ends_with_its_head_and_keeps_its_connection() -> None:
    scripts = [
        [
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",  # a length, no body
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nX-Length: none\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 9\r\n\r\n",
        ],
        [b"HTTP/1.0 200 OK\r\nContent-Length: 9\r\n\r\n"],  # HTTP/1.0: closed after
        [
            b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        ],
    ]
    methods = ["HEAD", "HEAD", "HEAD", "GET", "HEAD", "HEAD", "HEAD", "GET"]
    sock, seen = _scripted_server(scripts)
    replies = await _fetch_each(sock, methods)
    assert [(r.status, r.body) for r in replies] == [
        (200, b"ok" if m == "GET" else b"") for m in methods
    ], replies
    assert [len(lines) for lines in seen] == [5, 1, 2]


@pytest.mark.anyio
async def test_a_whole_response_stands_when_more_follows_but_its_connection_is_not_reused() -> None:
    # What comes after a whole response answers nothing that was asked: the response is
    # kept, and the connection closed, as the next request could get the stray answer.
    hi = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
    scripts = [
        [hi + b"EXTRA"],  # a body longer than its Content-Length
        [hi + b"HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nbye"],
        [hi + b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"],
        [hi],  # to HEAD: a body it should not have
        [hi + b"\r\n", hi],  # an empty line between responses is allowed (RFC 9112 2.2)
    ]
    methods = ["GET", "GET", "GET", "HEAD", "GET", "GET"]
    sock, seen = _scripted_server(scripts)
    replies = await _fetch_each(sock, methods)
    assert [(r.status, r.reason, r.body) for r in replies] == [
        (200, "OK", b"" if m == "HEAD" else b"hi") for m in methods
    ], replies
    assert [len(lines) for lines in seen] == [1, 1, 1, 1, 2]


def _deflated(data: bytes, wbits: int) -> bytes:
    encoder = zlib.compressobj(wbits=wbits)
    return encoder.compress(data) + encoder.flush()


@pytest.mark.anyio
async def test_deflate_bodies_are_read_with_or_without_the_zlib_wrapper() -> None:
    # Content-Encoding: deflate means zlib (RFC 9110 section 8.4.1.2), but some servers
    # send raw deflate; httpx and mitmproxy read both, and so does the client.
    text = b"deflated " * 50
    wrapped, raw = _deflated(text, zlib.MAX_WBITS), _deflated(text, -zlib.MAX_WBITS)

    def answer(body: bytes, cut: int) -> list[bytes]:
        head = b"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: %d\r\n\r\n"
        return [head % len(body) + body[:cut], body[cut:]]

    # Cut after one byte of the body too: the two bytes that tell them apart come apart.
    answers = [answer(wrapped, 10), answer(raw, 10), answer(wrapped, 1), answer(raw, 1)]
    answers.append(answer(b"\x78\x9cnot deflate at all", 5))
    replies = await _fetch_each(_raw_server(answers), ["GET"] * len(answers))
    *good, bad = replies
    assert [(r.body, r.body_size) for r in good] == [(text, len(text))] * 4, good
    assert bad.error_kind is ErrorKind.PROTOCOL, bad


@pytest.mark.anyio
async def test_brotli_and_zstd_bodies_are_decoded_too() -> None:
    # The recorded Accept-Encoding goes as it was, so a target may pick br or zstd: the
    # body is compared decoded, whatever the encoding.
    import brotli
    import zstandard

    text = b"encoded " * 100
    bodies = [
        ("br", brotli.compress(text)),
        ("zstd", zstandard.ZstdCompressor().compress(text)),
        ("br", b"not brotli"),
    ]
    answers = [
        [b"HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n%s"
         % (coding.encode(), len(body), body)]
        for coding, body in bodies
    ]  # fmt: skip
    replies = await _fetch_each(_raw_server(answers), ["GET"] * len(answers))
    *good, bad = replies
    assert [(r.body, r.body_size) for r in good] == [(text, len(text))] * 2, good
    assert bad.error_kind is ErrorKind.PROTOCOL, bad
