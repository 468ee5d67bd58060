"""Flow to Exchange, in two steps: a cheap copy on the proxy's event loop, the rest later.

``capture(flow)`` runs inside the mitmproxy hook, so it only takes references to what the
flow already holds (bytes, header tuples, floats): no decoding, no copying, no parsing.
``to_exchange(captured)`` runs off the event loop (in the recorder's worker): it decodes
bodies (gzip, deflate, br, zstd, through mitmproxy's own decoder), caps them, turns
timestamps into durations and error messages into error kinds.

This is the only flow -> Exchange code: the mitmproxy dump importer runs the same two
steps, so a flow imported from a dump is the Exchange it would have been recorded as.
``error_kind`` holds the one table of error messages (mitmproxy's, and Chrome's
``net::ERR_*`` codes in HAR files) to error kinds.

A ``Captured`` holds raw values (secrets included): it crosses only an in-memory pipe to
the worker and is sanitized there before anything can reach a writer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from shadowtape import coding
from shadowtape.exchange import ErrorKind, Exchange, ExchangeError, Request, Response
from shadowtape.ids import new_id
from shadowtape.record.stream import Tap

RawHeaders = tuple[tuple[bytes, bytes], ...]


class Captured(NamedTuple):
    """What the hook takes from a flow: references only, decoded and checked later."""

    method: bytes
    scheme: bytes
    host: str
    port: int
    path: bytes
    http_version: bytes
    request_headers: RawHeaders
    #: The body as it crossed the wire (still content-encoded), or what a Tap kept of it;
    #: None when streamed with nothing kept.
    request_raw: bytes | None
    #: Length of the wire body (bytes sent on, when streamed); larger than
    #: len(request_raw) when it was cut.
    request_raw_size: int
    request_start: float
    status: int | None
    reason: bytes
    response_http_version: bytes
    response_headers: RawHeaders
    response_raw: bytes | None
    response_raw_size: int
    response_start: float | None
    response_end: float | None
    error: str | None
    error_at: float | None
    #: The bodies went through a Tap (``stream``): one that does not decode is dropped.
    request_streamed: bool = False
    response_streamed: bool = False


#: Captured's response fields in order (status, reason, http_version, headers, raw body,
#: raw size, start, end), and the ones a flow without a response gets.
_Response = tuple[
    int | None, bytes, bytes, RawHeaders, bytes | None, int, float | None, float | None
]
_NO_RESPONSE: _Response = (None, b"", b"", (), None, 0, None, None)


def capture(flow: Any, raw_cap: int) -> Captured:
    """Take what an Exchange needs from an HTTPFlow; O(1), no copies below ``raw_cap``.

    Reads ``Message.data`` (the plain dataclass behind mitmproxy's request and response,
    the same in mitmproxy 11 and 12) to skip the properties' per-access decoding. A body
    streamed through a ``Tap`` is the Tap's copy of what was sent on, and its size the
    bytes sent. A response that failed mid-body without streaming was never sent on (the
    proxy sends a buffered response once it is whole): the client got mitmproxy's own
    502 instead, so it is recorded as the error alone, like a connection that failed
    before any response.
    """
    request = flow.request
    rq = request.data
    raw, rq_size = _body(request.stream, rq.content, raw_cap)
    resp = flow.response
    err = flow.error
    if resp is not None and (err is None or resp.stream):
        rs = resp.data
        body, rs_size = _body(resp.stream, rs.content, raw_cap)
        response: _Response = (
            rs.status_code,
            rs.reason,
            rs.http_version,
            rs.headers.fields,
            body,
            rs_size,
            rs.timestamp_start,
            rs.timestamp_end,
        )
        error = err.msg if err is not None else None
        streamed = isinstance(resp.stream, Tap)
    else:
        response = _NO_RESPONSE
        error = err.msg if err is not None else "no response"
        streamed = False
    return Captured(
        rq.method,
        rq.scheme,
        rq.host,
        rq.port,
        rq.path,
        rq.http_version,
        rq.headers.fields,
        raw,
        rq_size,
        rq.timestamp_start,
        *response,
        error,
        err.timestamp if err is not None else None,
        isinstance(request.stream, Tap),
        streamed,
    )


def _body(stream: Any, content: bytes | None, raw_cap: int) -> tuple[bytes | None, int]:
    """(wire body kept, wire size) of a message: its content, or its Tap's copy."""
    if isinstance(stream, Tap):
        return stream.body, stream.sent
    if content is None:
        return None, 0
    size = len(content)
    return (content[:raw_cap] if size > raw_cap else content), size


# -- off the event loop -------------------------------------------------------------------

#: The one table of error messages to kinds, first match wins; ``error_kind`` reads it.
ERROR_KINDS: tuple[tuple[ErrorKind, re.Pattern[str]], ...] = (
    # Chrome's net::ERR_* codes (HAR files) first, by name: the words below would read
    # some of them wrongly (ERR_CERT_AUTHORITY_INVALID is not a protocol error).
    (ErrorKind.REFUSED, re.compile(r"\bERR_\w*(?:REFUSED|UNREACHABLE)|\bERR_CONNECTION_FAILED")),
    (ErrorKind.RESET, re.compile(r"\bERR_CONNECTION_(?:RESET|CLOSED)")),
    (ErrorKind.TLS, re.compile(r"\bERR_CERT")),
    (ErrorKind.PROTOCOL, re.compile(r"\bERR_\w*(?:PROTOCOL|MALFORMED)|\bERR_HTTP2")),
    (ErrorKind.OTHER, re.compile(r"\bERR_[A-Z0-9_]+")),
    # mitmproxy's messages (and any other text).
    (ErrorKind.TLS, re.compile(r"tls|ssl|certificate|handshake", re.I)),
    (ErrorKind.TIMEOUT, re.compile(r"timed? ?out|timeout", re.I)),
    (
        ErrorKind.REFUSED,
        re.compile(
            r"refused|connect call failed|errno 111|no route|unreachable|"
            r"name or service not known|nodename nor servname|getaddrinfo|"
            r"temporary failure in name resolution",
            re.I,
        ),
    ),
    (
        ErrorKind.RESET,
        re.compile(
            r"reset|broken pipe|disconnected|closed connection|connection closed|"
            r"peer closed|eof|killed",
            re.I,
        ),
    ),
    (
        ErrorKind.PROTOCOL,
        re.compile(r"protocol|cannot parse|invalid|malformed|unexpected|smuggl", re.I),
    ),
)


def error_kind(message: str) -> ErrorKind:
    """The kind of a capture's error message (mitmproxy's, or a browser's in a HAR file)."""
    for kind, pattern in ERROR_KINDS:
        if pattern.search(message):
            return kind
    return ErrorKind.OTHER


def _text(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def _headers(fields: RawHeaders) -> tuple[tuple[str, str], ...]:
    return tuple((_text(name), _text(value)) for name, value in fields)


def _content_encoding(fields: RawHeaders) -> str:
    for name, value in fields:
        if name.lower() == b"content-encoding":
            return value.decode("latin-1").strip().lower()
    return ""


def decode_body(
    raw: bytes | None,
    raw_size: int,
    fields: RawHeaders,
    max_body: int,
    *,
    dropped: Callable[[str], None] | None = None,
    streamed: bool = False,
    limit: int | None = None,
) -> tuple[bytes, int, bool]:
    """(body kept, decoded size, truncated) for a wire body, decoded and capped.

    Every coding of Content-Encoding is undone (shadowtape.coding), keeping the first
    ``max_body`` bytes. A body that does not decode as it claims, whole, cut (the hook or a
    Tap kept only its first bytes) or ``streamed``, or that expands past ``limit`` (a
    decompression bomb; default ``coding.LIMIT`` or ``max_body`` if larger), is dropped,
    empty and truncated, and ``dropped`` is told why (``not decodable as gzip``,
    ``decompressed size over limit``): its raw bytes never reach the sanitizer, which
    could not read them, nor a tape. A streamed body of which nothing was kept (None) is
    empty and truncated. When a body was cut, its decoded size is unknown and the wire
    size is reported.
    """
    if raw is None:
        return b"", 0, True
    encoding = _content_encoding(fields)
    cut = raw_size > len(raw)
    if not coding.codings(encoding):
        size = max(raw_size, len(raw))
        if len(raw) > max_body:
            return raw[:max_body], size, True
        return raw, size, cut
    if limit is None:
        limit = max(coding.LIMIT, max_body)
    try:
        body, decoded = coding.decode(raw, encoding, partial=cut, keep=max_body, limit=limit)
    except coding.Undecodable as exc:
        if dropped is not None:
            dropped(str(exc))
        return b"", raw_size, True
    size = max(raw_size if cut else decoded, len(body))
    return body, size, cut or decoded > len(body)


def _us(start: float | None, end: float | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, round((end - start) * 1_000_000))


def to_exchange(
    c: Captured,
    *,
    source: str,
    max_body: int,
    notes: dict[str, str] | None = None,
    limit: int | None = None,
) -> Exchange:
    """Build the (still raw, unsanitized) Exchange from a capture.

    A body that did not decode, or decoded past ``limit`` (see ``decode_body``), is
    dropped, with a redaction saying so (``response.body: dropped (not decodable as
    gzip)``, ``... (decompressed size over limit)``); ``notes``, when given, gets a line
    for it too (``request_body``, ``response_body``): the dump importer tags them.
    """
    removed: list[str] = []

    def drop(side: str) -> Callable[[str], None]:
        def dropped(reason: str) -> None:
            removed.append(f"{side}.body: dropped ({reason})")
            if notes is not None:
                notes[f"{side}_body"] = f"{reason}; dropped"

        return dropped

    def body(
        side: str, raw: bytes | None, raw_size: int, fields: RawHeaders, streamed: bool
    ) -> tuple[bytes, int, bool]:
        return decode_body(
            raw,
            raw_size,
            fields,
            max_body,
            dropped=drop(side),
            streamed=streamed,
            limit=limit,
        )

    target = _text(c.path)
    path, _, query = target.partition("?")
    rq_body, rq_size, rq_cut = body(
        "request", c.request_raw, c.request_raw_size, c.request_headers, c.request_streamed
    )
    scheme = c.scheme.decode("ascii", "replace") or "http"
    request = Request(
        method=c.method.decode("ascii", "replace"),
        host=c.host,
        path=path or "/",
        scheme=scheme,
        port=c.port,
        query=query,
        http_version=c.http_version.decode("ascii", "replace"),
        headers=_headers(c.request_headers),
        body=rq_body,
        body_size=rq_size,
        body_truncated=rq_cut,
    )
    response = None
    if c.status is not None:
        rs_body, rs_size, rs_cut = body(
            "response",
            c.response_raw,
            c.response_raw_size,
            c.response_headers,
            c.response_streamed,
        )
        response = Response(
            status=c.status,
            reason=_text(c.reason),
            http_version=c.response_http_version.decode("ascii", "replace"),
            headers=_headers(c.response_headers),
            body=rs_body,
            body_size=rs_size,
            body_truncated=rs_cut,
        )
    error = None
    end = c.response_end
    if c.error is not None:
        error = ExchangeError(kind=error_kind(c.error), message=c.error)
        if end is None:
            end = c.error_at
    recorded_at = datetime.fromtimestamp(c.request_start, UTC)
    return Exchange(
        request=request,
        response=response,
        error=error,
        id=new_id(int(c.request_start * 1000)),
        recorded_at=recorded_at,
        source=source,
        duration_us=_us(c.request_start, end),
        ttfb_us=_us(c.request_start, c.response_start),
        redactions=tuple(removed),
    )
