"""The lean HTTP/1.1 client the replayer sends with, and the one place transport errors get
a kind.

The replayer needs none of what makes general clients slower (cookies, redirects, proxies,
auth, multipart); this one is many times faster than httpx here (benchmarks/README.md,
"Replay"). httpx's types stay at the API: ``ReplayClient.send`` takes an
``httpx.Request`` and ``Reply.to_httpx`` gives an ``httpx.Response``.

It does HTTP/1.1 over TCP or TLS, keep-alive connections in a pool bounded by
``max_connections``, Content-Length, chunked and close-delimited bodies, decoded as they
arrive whatever their Content-Encoding (gzip, deflate, br, zstd and stacks of them: the
recorded request's Accept-Encoding is sent as it was, so the target picks) and capped (the
full size still counted; a body that decompresses past the limit is cut there and
read no further, shadowtape.coding), one timeout per request from connect to last byte; a
connection that sent
bytes nobody asked for is closed, not reused. It never follows a redirect (a redirect is
a response to compare), keeps cookies, uses a proxy from the environment (nothing may
reach a host that was not named), or adds headers of its own.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import re
import ssl
import sys
import time
from collections.abc import Sequence
from typing import Protocol
from urllib.parse import urlsplit

import httptools
import httpx

from shadowtape import coding
from shadowtape.exchange import ErrorKind
from shadowtape.replay.http.heads import framing, persistent, reason_phrase, split_head
from shadowtape.replay.prepare.jobs import serialize
from shadowtape.replay.rules import tracing
from shadowtape.replay.rules.targets import Outgoing
from shadowtape.replay.timing.slots import Slots
from shadowtape.results.heads import decode_head

_REFUSED = {errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH}
_RESET = {errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED}
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
_MERGED = "Multiple exceptions: "
#: asyncio's create_connection reports every address's failure (Python 3.12+).
_ALL_ERRORS = sys.version_info >= (3, 12)
_ERRNO = re.compile(r"\[Errno (\d+)\]")
#: Seconds between deadline checks (at most a tenth of the timeout).
WATCH_STEP = 0.05
#: Seconds a connection opened ahead of the schedule may take.
CONNECT_AHEAD_TIMEOUT = 2.0


class Reply:
    """What one target answered, or why it did not. Times are ``time.monotonic()``:
    ``sent`` when the request left (after any wait for a connection, connecting, or a
    stale connection), or when the client began if it never left; ``ended`` when the
    last byte of the response was read, or when the request failed.

    Headers are kept as the head that came (``head``: status line and header lines, as
    bytes) and decoded only when read (shadowtape.results.heads): the results thread
    parses a column of heads with Arrow, and the event loop makes no Python object per
    header.
    """

    __slots__ = (
        "_headers",
        "body",
        "body_size",
        "body_truncated",
        "ended",
        "error_kind",
        "error_message",
        "head",
        "reason",
        "sent",
        "status",
        "trace_id",
    )

    def __init__(
        self,
        sent: float,
        ended: float,
        status: int | None = None,
        reason: str | None = None,
        headers: tuple[tuple[str, str], ...] | None = None,
        body: bytes | None = None,
        body_size: int | None = None,
        body_truncated: bool | None = None,
        error_kind: ErrorKind | None = None,
        error_message: str | None = None,
        head: bytes | None = None,
        trace_id: str | None = None,
    ) -> None:
        self.sent = sent
        self.ended = ended
        self.status = status
        self.reason = reason
        self._headers = headers
        self.head = head
        self.body = body
        self.body_size = body_size
        self.body_truncated = body_truncated
        self.error_kind = error_kind
        self.error_message = error_message
        #: The trace id of the traceparent the request carried (rules/tracing.py).
        self.trace_id = trace_id

    @property
    def headers(self) -> tuple[tuple[str, str], ...] | None:
        if self._headers is None and self.head is not None:
            self._headers = decode_head(self.head)
        return self._headers

    def __repr__(self) -> str:
        if self.error_kind is not None:
            return f"Reply({self.error_kind.value}: {self.error_message})"
        return f"Reply({self.status} {self.reason}, {self.body_size} bytes)"

    def to_httpx(self, request: httpx.Request) -> httpx.Response | None:
        if self.status is None:
            return None
        headers = [(n, v) for n, v in self.headers or () if n.lower() != "content-encoding"]
        return httpx.Response(self.status, headers=headers, content=self.body, request=request)


class ProtocolError(Exception):
    """The target sent something that is not HTTP/1.1 as we read it."""


class ClosedError(ConnectionError):
    """The target closed the connection before the response was complete."""


class _HeadEnd(Exception):
    """Stops llhttp at the end of a response to HEAD (it cannot be told there is no body)."""


def classify(exc: BaseException) -> tuple[ErrorKind, str]:
    """The kind of a transport error: every exception the client can raise maps here."""
    if isinstance(exc, BaseExceptionGroup):  # connecting failed at every address
        return _every_address(exc.exceptions)
    message = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
    if isinstance(exc, OSError) and exc.errno is None and str(exc).startswith(_MERGED):
        # Python 3.11 (no all_errors) names each address's failure in one message.
        members = [OSError(int(n), "") for n in _ERRNO.findall(str(exc))]
        return _every_address(members)[0] if members else ErrorKind.OTHER, message
    if isinstance(exc, TimeoutError):
        return ErrorKind.TIMEOUT, message
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return ErrorKind.TLS, message
    if isinstance(exc, ProtocolError | httptools.HttpParserError):
        return ErrorKind.PROTOCOL, message
    if isinstance(exc, ConnectionRefusedError):
        return ErrorKind.REFUSED, message
    if isinstance(exc, ClosedError | ConnectionResetError | BrokenPipeError):
        return ErrorKind.RESET, message
    if isinstance(exc, ConnectionAbortedError):
        return ErrorKind.RESET, message
    if isinstance(exc, OSError) and exc.errno in _REFUSED:
        return ErrorKind.REFUSED, message
    if isinstance(exc, OSError) and exc.errno in _RESET:
        return ErrorKind.RESET, message
    return ErrorKind.OTHER, message


def _every_address(members: Sequence[BaseException]) -> tuple[ErrorKind, str]:
    """The kind the failures at each of a host's addresses share. An address this host
    cannot use (no IPv6 route for ::1, say) says nothing of the target, so an ``other``
    yields to the kind the rest share."""
    found = [classify(exc) for exc in members]
    kinds = {kind for kind, _ in found}
    if len(kinds) > 1:
        kinds.discard(ErrorKind.OTHER)
    kind = kinds.pop() if len(kinds) == 1 else ErrorKind.OTHER
    if len(found) == 1:
        return kind, found[0][1]
    return kind, "every address failed: " + "; ".join(message for _, message in found)


class _Body:
    """A response body as it arrives: decoded, capped, its full size counted.

    Decoded with the bounded decoder (shadowtape.coding), stacks of codings included: once
    a build's codings give more than ``limit`` bytes (a decompression bomb, or a very large
    answer) the rest is not decoded, and the body is what was kept, truncated, as the
    recorder keeps such an answer's status. Memory stays the cap plus one step."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.kept: list[bytes] = []
        self.kept_size = 0
        self.size = 0
        self.decoding: coding.Decoding | None = None
        #: The codings gave more than the limit: what follows is not decoded.
        self.over = False

    def start(self, encoding: str) -> None:
        if coding.codings(encoding) and coding.known(encoding):
            # An encoding nobody decodes is kept as it came.
            self.decoding = coding.Decoding(encoding, keep=self.cap, limit=limit(self.cap))

    def _keep(self, data: bytes) -> None:
        self.size += len(data)
        room = self.cap - self.kept_size
        if room > 0:
            piece = data[:room]
            self.kept.append(piece)
            self.kept_size += len(piece)

    def feed(self, data: bytes) -> None:
        """Raises ``coding.Undecodable`` when the body does not decode."""
        if self.decoding is None:
            self._keep(data)
        elif not self.over:
            try:
                self.decoding.feed(data)
            except coding.TooLarge:
                self.over = True

    def finish(self) -> tuple[bytes, int, bool]:
        """Raises ``coding.Undecodable`` when not one byte of a cut stream decodes."""
        if self.decoding is not None and self.over:
            return self.decoding.take(), self.decoding.size, True
        if self.decoding is not None:
            body, size = self.decoding.close(partial=True)
            return body, size, size > len(body)
        return b"".join(self.kept), self.size, self.size > self.kept_size


def limit(body_cap: int) -> int:
    """Decoded bytes a response may expand to: ``coding.LIMIT``, or the body cap if larger
    (as the recorder allows); past it, decoding stops and the body is truncated."""
    return max(coding.LIMIT, body_cap)


def decode_capped(raw: bytes, encoding: str, body_cap: int) -> tuple[bytes, int, bool]:
    """A whole body decoded as ``_Body`` decodes one that arrives in pieces: (the first
    ``body_cap`` bytes, the size decoded, truncated). Raises ``coding.Undecodable``."""
    body = _Body(body_cap)
    if raw:
        body.start(encoding)
    body.feed(raw)
    return body.finish()


def decode_error(exc: coding.Undecodable) -> ProtocolError:
    """The protocol error of a body that does not decode."""
    return ProtocolError(f"the body does not decode: {exc}")


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection: one request at a time."""

    def __init__(self, body_cap: int) -> None:
        self.body_cap = body_cap
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.used = 0
        self.deadline = 0.0
        self._waiter: asyncio.Future[None] | None = None
        self.parser = httptools.HttpResponseParser(self)
        self._fresh = True
        self.status = 0
        self._reset(head=False)

    def _reset(self, head: bool) -> None:
        # llhttp reads the next response on a kept-alive connection with the same parser;
        # only after a response to HEAD (where it was stopped) does it need a new one.
        if not self._fresh:
            self.parser = httptools.HttpResponseParser(self)
        self._fresh = not head
        self.head = head
        self.reason = ""
        #: What was received of the response before its headers were complete, then
        #: (``response_head``) its status line and header lines.
        self._before = b""
        self.response_head = b""
        self.body = _Body(self.body_cap)
        self.received = 0
        self.headers_done = False
        self.complete = False
        #: When the last byte of the response was read (monotonic): the reply's end, not
        #: when the waiting task next gets the loop.
        self.completed_at = 0.0
        self.until_close = False
        self.keep_alive = False
        self.error: BaseException | None = None

    # -- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Not asserted to be an asyncio.Transport: uvloop's transports are not subclasses.
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        if not self.headers_done:
            self._before = self._before + data if self._before else data
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if not isinstance(exc.__context__, _HeadEnd):
                self._fail(exc.__context__ or exc)
        except httptools.HttpParserError as exc:
            self._fail(ProtocolError(f"malformed response: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is None or self._waiter.done():
            return
        if exc is None and self.headers_done and self.until_close:
            self._done()  # a body delimited by the end of the connection
        elif exc is not None:
            self._fail(exc)
        elif self.received:
            self._fail(ClosedError("the connection closed in the middle of the response"))
        else:
            self._fail(ClosedError("the server closed the connection without answering"))

    # -- httptools callbacks ----------------------------------------------------------------

    def on_status(self, status: bytes) -> None:
        self.reason += status.decode("latin-1")

    # No on_header: httptools then makes no Python object per header. The head is cut
    # from the bytes received instead.

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if status < 200:
            return
        split = split_head(self._before)
        if split is None:  # the head was cut already: this response was whole, llhttp read on
            raise ProtocolError("another response followed the one asked for")
        self.status = status  # not read from llhttp later: a stray head after it changes it
        self.headers_done = True
        self.response_head, self._before = split[0], b""
        if self.head:
            # A response to HEAD ends with its head, whatever its headers say (RFC 9112
            # section 6.3). Bytes after it answer nothing: the connection is not reused.
            self.keep_alive = not split[1] and persistent(self.response_head)
            self._done()
            raise _HeadEnd  # llhttp would read on for the body the headers announce
        framed, encoding = framing(self.response_head)
        if encoding:
            self.body.start(encoding)
        self.until_close = not (framed or status in (204, 304))

    def on_body(self, body: bytes) -> None:
        if self.error is not None:
            return  # failed already (the rest of a bomb): nothing more is decoded
        try:
            self.body.feed(body)
        except coding.Undecodable as exc:
            self._fail(decode_error(exc))

    def on_message_complete(self) -> None:
        if self.parser.get_status_code() < 200:  # 1xx: the real response follows
            if self.complete:
                raise ProtocolError("an interim response followed the one asked for")
            self.reason, self.headers_done = "", False
            split = split_head(self._before)
            self._before = split[1] if split is not None else b""
            return
        # Read now: llhttp forgets it once the message is over.
        self.keep_alive = self.parser.should_keep_alive()
        self._done()

    # -- the caller's side ------------------------------------------------------------------

    def _done(self) -> None:
        self.complete = True
        self.completed_at = time.monotonic()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _fail(self, exc: BaseException) -> None:
        if self.complete:
            self._overrun()
            return
        self.error = exc
        self.close()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _overrun(self) -> None:
        """The server sent more than the whole response it had sent (a body longer than
        its Content-Length, another response): the response stands, but what follows it
        answers nothing asked and the next request could be paired with it, so the
        connection is closed instead of reused. A stray status line may have been read
        into the reason; the head still has it."""
        self.keep_alive = False
        self.reason = reason_phrase(self.response_head)
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    @property
    def reusable(self) -> bool:
        return not self.closed and self.complete and self.keep_alive

    async def exchange(self, head: bool, data: bytes) -> None:
        """Send one request and wait for its whole response (or its failure)."""
        assert self.transport is not None
        self._reset(head)
        self.used += 1
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        await self._waiter
        if self.error is not None:
            raise self.error
        if self.until_close:
            self.closed = True


@functools.lru_cache(maxsize=64)
def _origin_key(origin: str) -> tuple[str, str, int]:
    parts = urlsplit(origin)
    scheme = parts.scheme
    return scheme, parts.hostname or "", parts.port or (443 if scheme == "https" else 80)


def _split(url: str) -> tuple[tuple[str, str, int], str]:
    """(scheme, host, port) and the request target of an absolute URL."""
    cut = url.find("/", url.find("://") + 3)
    if cut < 0:
        return _origin_key(url), "/"
    return _origin_key(url[:cut]), url[cut:]


class Sender(Protocol):
    """What the engine sends with: this module's ``ReplayClient``, or an in-process app's
    ``AppClient`` (inprocess.py) for an app target."""

    async def __aenter__(self) -> Sender: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def connect_ahead(self, origin: str) -> bool: ...

    async def fetch_wire(self, key: tuple[str, str, int], data: bytes, method: str) -> Reply: ...


class ReplayClient:
    """Sends requests, at most ``max_connections`` at a time. Use as ``async with``."""

    def __init__(
        self,
        *,
        max_connections: int = 64,
        timeout: float = 30.0,
        body_cap: int = 1024 * 1024,
        verify_tls: bool = True,
    ) -> None:
        self.timeout = timeout
        self.body_cap = body_cap
        self._slots = Slots(max_connections)
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._all: set[_Connection] = set()
        self._verify_tls = verify_tls
        self._ssl: ssl.SSLContext | None = None
        #: Connections with an exchange under way, each with its deadline.
        self._busy: set[_Connection] = set()
        self._watchdog: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ReplayClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        for conn in list(self._all):
            conn.close()
        self._all.clear()
        self._idle.clear()
        await asyncio.sleep(0)  # let the transports finish closing

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            context = ssl.create_default_context()
            if not self._verify_tls:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            context.set_alpn_protocols(["http/1.1"])
            self._ssl = context
        return self._ssl

    async def _connect(self, key: tuple[str, str, int]) -> _Connection:
        scheme, host, port = key
        loop = asyncio.get_running_loop()
        context = self._ssl_context() if scheme == "https" else None
        connect = loop.create_connection
        if _ALL_ERRORS and isinstance(loop, asyncio.BaseEventLoop):
            # Each address's failure, for classify to read (uvloop has no such argument).
            connect = functools.partial(loop.create_connection, all_errors=True)
        _, conn = await connect(
            lambda: _Connection(self.body_cap),
            host,
            port,
            ssl=context,
            server_hostname=host if context else None,
        )
        self._all.add(conn)
        return conn

    async def connect_ahead(self, origin: str) -> bool:
        """Open one keep-alive connection to ``origin`` (scheme://host:port) before any
        request, so the first send of a schedule does not pay for connecting. A failure
        is left for the requests to meet and report; returns whether it worked."""
        key, _ = _split(origin)
        try:
            async with asyncio.timeout(min(self.timeout, CONNECT_AHEAD_TIMEOUT)):
                conn = await self._connect(key)
        except Exception:
            return False
        self._idle.setdefault(key, []).append(conn)
        return True

    async def send(self, request: httpx.Request) -> Reply:
        """Send an httpx request; the reply converts back with ``Reply.to_httpx``."""
        body = request.read()
        headers = tuple(
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in request.headers.raw
            if name.lower() not in (b"content-length", b"transfer-encoding")
        )
        return await self.fetch(Outgoing(request.method, str(request.url), headers, body))

    async def fetch(self, out: Outgoing) -> Reply:
        """Send one request; never raises for a transport problem (it becomes the reply)."""
        key, target = _split(out.url)
        data = serialize(out.method, target, out.headers, out.body)
        return await self.fetch_wire(key, data, out.method)

    async def fetch_wire(self, key: tuple[str, str, int], data: bytes, method: str) -> Reply:
        """``fetch`` for a request already serialized (the replayer's hot path); its
        traceparent placeholder, if any, gets fresh ids (rules/tracing.py)."""
        data, trace_id = tracing.fill(data)
        sent = time.monotonic()
        deadline = sent + self.timeout
        if self._watchdog is None:
            self._watchdog = asyncio.get_running_loop().create_task(self._watch())
        # ``sent`` moves to when the request leaves: waiting for a slot, connecting and a
        # stale connection are the client's time, not the target's (the timeout counts
        # them all, and the corrected latency counts from the schedule).
        try:
            if not self._slots.take_now():
                async with asyncio.timeout(self.timeout):
                    await self._slots.take()
                sent = time.monotonic()
            try:
                conn = await self._reuse(key, data, method, deadline)
                if conn is None:
                    async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                        conn = await self._connect(key)
                    sent = time.monotonic()
                    await self._on_new(key, conn, data, method, deadline)
            finally:
                self._slots.give()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            kind, message = classify(exc)
            return Reply(
                sent=sent,
                ended=time.monotonic(),
                error_kind=kind,
                error_message=message,
                trace_id=trace_id,
            )
        ended = conn.completed_at or time.monotonic()
        try:
            body, size, truncated = conn.body.finish()
        except coding.Undecodable as exc:
            kind, message = classify(decode_error(exc))
            return Reply(sent, ended, error_kind=kind, error_message=message, trace_id=trace_id)
        return Reply(
            sent=sent,
            ended=ended,
            status=conn.status,
            reason=conn.reason,
            head=conn.response_head,
            body=body,
            body_size=size,
            body_truncated=truncated,
            trace_id=trace_id,
        )

    async def _watch(self) -> None:
        """Fails exchanges past their deadline. One timer for all of them: a timer per
        request (asyncio.timeout) cost more than the rest of sending it."""
        step = min(WATCH_STEP, self.timeout / 10)
        while True:
            await asyncio.sleep(step)
            now = time.monotonic()
            # A response that is whole stands, though its task has not run yet.
            for conn in [c for c in self._busy if c.deadline <= now and not c.complete]:
                self._busy.discard(conn)
                conn._fail(TimeoutError(f"no complete response within {self.timeout:g} s"))

    async def _on(self, conn: _Connection, head: bool, data: bytes, deadline: float) -> None:
        conn.deadline = deadline
        self._busy.add(conn)
        try:
            await conn.exchange(head, data)
        finally:
            self._busy.discard(conn)

    async def _reuse(
        self, key: tuple[str, str, int], data: bytes, method: str, deadline: float
    ) -> _Connection | None:
        """Sends on an idle connection to ``key``; None if there is none, or if the server
        had closed the one tried and the request may go again on a new one."""
        idle = self._idle.get(key)
        if idle is None:
            idle = self._idle[key] = []
        while idle:
            conn = idle.pop()
            if conn.closed:
                self._all.discard(conn)
                continue
            try:
                await self._on(conn, method == "HEAD", data, deadline)
            except (ClosedError, ConnectionResetError, BrokenPipeError):
                # A kept-alive connection the server had closed (or closed as the request
                # arrived, which resets it): nothing was answered, so a safe request may
                # go again, on a new connection (the others idle here are older).
                self._all.discard(conn)
                conn.close()
                if conn.received or method not in _SAFE:
                    raise
                return None
            except BaseException:
                self._all.discard(conn)
                conn.close()
                raise
            self._release(key, conn)
            return conn
        return None

    async def _on_new(
        self,
        key: tuple[str, str, int],
        conn: _Connection,
        data: bytes,
        method: str,
        deadline: float,
    ) -> None:
        try:
            await self._on(conn, method == "HEAD", data, deadline)
        except BaseException:
            self._all.discard(conn)
            conn.close()
            raise
        self._release(key, conn)

    def _release(self, key: tuple[str, str, int], conn: _Connection) -> None:
        if conn.reusable:
            self._idle[key].append(conn)
        else:
            self._all.discard(conn)
            conn.close()
