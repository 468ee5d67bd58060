"""Streaming bodies through the proxy, keeping a capped copy for the tape.

Left alone, mitmproxy reads a whole body into memory before it sends any of it on: a
100 MB download costs the proxy 100 MB, and a server-sent event reaches the client only
when its stream ends. The ``requestheaders`` and ``responseheaders`` hooks call
``plan_request`` and ``plan_response``, which decide from the headers alone, so small
bodies of known length keep mitmproxy's usual path and cost one pass over the headers:

- a Content-Length above the body cap (``shadowtape_max_body``): streamed as it arrives;
- no Content-Length and a streaming content type (``text/event-stream``, NDJSON, gRPC,
  ``multipart/x-mixed-replace``): streamed as it arrives;
- no Content-Length otherwise (chunked, or read until the connection closes): held until
  it passes the body cap, then streamed; a body that ends first goes out in one piece,
  exactly as mitmproxy alone would have sent it.

A streamed body passes through a ``Tap``, mitmproxy's stream callable, which keeps a copy
of its first bytes (the body cap, or the wire cap for a content-encoded body, whose
decoded prefix is longer) and counts the bytes sent on; ``capture`` records those.
"""

from __future__ import annotations

from typing import Any

#: Content types whose bodies are a series of messages, each due at the client at once.
STREAMING_TYPES = (
    b"text/event-stream",
    b"application/x-ndjson",
    b"application/stream+json",
    b"application/grpc",
    b"multipart/x-mixed-replace",
)
_NO_BODY_STATUS = frozenset({204, 304})


class Tap:
    """mitmproxy's stream callable: passes chunks on and keeps the first ``keep`` bytes.

    With ``hold`` above zero it first holds the chunks back, up to ``hold`` bytes, and
    sends them in one piece when the body ends (or all at once when it grows past
    ``hold``, streaming from then on).
    """

    __slots__ = ("held", "held_size", "hold", "keep", "kept", "sent")

    def __init__(self, keep: int, hold: int = 0) -> None:
        self.kept = bytearray()
        self.keep = keep
        #: Bytes handed on towards the other side so far.
        self.sent = 0
        self.hold = hold
        self.held: list[bytes] = []
        self.held_size = 0

    def __call__(self, chunk: bytes) -> bytes | list[bytes]:
        room = self.keep - len(self.kept)
        if room > 0 and chunk:
            self.kept += chunk[:room]
        if not self.hold:
            self.sent += len(chunk)
            return chunk
        if chunk:
            self.held.append(chunk)
            self.held_size += len(chunk)
            if self.held_size <= self.hold:
                return []
        # The end (b"") or past the hold: everything held goes on, in one piece at the end.
        held, self.held, self.hold = self.held, [], 0
        self.sent += self.held_size
        self.held_size = 0
        if not chunk:
            return [b"".join(held)] if held else []
        return held

    @property
    def body(self) -> bytes:
        """The copy of what was sent on (never more than ``keep`` bytes)."""
        return bytes(self.kept[: self.sent])


def plan_request(request: Any, cap: int, wire_cap: int) -> None:
    """The ``requestheaders`` hook's decision: the rule in this module's docstring.

    An HTTP/1 request with neither Content-Length nor Transfer-Encoding has no body.
    """
    _plan(request, cap, wire_cap, request.data.http_version.startswith(b"HTTP/1"))


def plan_response(flow: Any, cap: int, wire_cap: int) -> None:
    """The ``responseheaders`` hook's decision: the rule in this module's docstring."""
    response = flow.response
    status = response.data.status_code
    if status < 200 or status in _NO_BODY_STATUS or flow.request.data.method == b"HEAD":
        _plan(response, cap, wire_cap, framed=False, bodyless=True)
    else:
        _plan(response, cap, wire_cap, framed=False)


def _plan(message: Any, cap: int, wire_cap: int, framed: bool, *, bodyless: bool = False) -> None:
    """Give ``message`` (a request or response at its headers) a Tap when it should stream.

    ``cap`` is the body cap, ``wire_cap`` what is kept of a content-encoded body.
    ``framed``: the message has a body only when its headers frame one (HTTP/1 requests).
    ``bodyless``: it has none whatever its headers say (a HEAD response). The headers are
    read in one pass over their raw fields: this runs for every flow.
    """
    stream = message.stream
    if stream:
        if stream is True:  # mitmproxy's stream_large_bodies: keep a copy all the same
            message.stream = Tap(_keep(message, cap, wire_cap))
        return  # another addon's callable is left alone
    if bodyless:
        return
    length = kind = None
    chunked = False
    for name, value in message.data.headers.fields:
        name = name.lower()
        if name == b"content-length":
            length = value
        elif name == b"content-type":
            kind = value
        elif name == b"transfer-encoding":
            chunked = True
    if length is not None:
        try:
            if int(length) <= cap:
                return
        except ValueError:
            return  # mitmproxy refuses or reads it its own way
        message.stream = Tap(_keep(message, cap, wire_cap))
        return
    if framed and not chunked:
        return
    hold = 0 if kind is not None and kind.lower().startswith(STREAMING_TYPES) else cap
    message.stream = Tap(_keep(message, cap, wire_cap), hold)


def _keep(message: Any, cap: int, wire_cap: int) -> int:
    encoding = message.data.headers.get("content-encoding", "identity").strip().lower()
    return cap if encoding in ("", "identity") else wire_cap
