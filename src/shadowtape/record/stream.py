"""Streaming bodies through the proxy, keeping a capped copy for the tape.

Left alone, mitmproxy reads a whole body into memory before it sends any of it on: a
100 MB download costs the proxy 100 MB, and a server-sent event reaches the client only
when its stream ends. The ``requestheaders`` and ``responseheaders`` hooks call ``plan``,
which decides from the headers alone, so small bodies of known length keep mitmproxy's
usual path and cost nothing more:

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
    "text/event-stream",
    "application/x-ndjson",
    "application/stream+json",
    "application/grpc",
    "multipart/x-mixed-replace",
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


def plan(message: Any, cap: int, wire_cap: int, *, bodyless: bool = False) -> None:
    """Give ``message`` (a request or response at its headers) a Tap when it should stream.

    ``cap`` is the body cap, ``wire_cap`` what is kept of a content-encoded body.
    ``bodyless`` says the message has no body whatever its headers say (a HEAD response).
    """
    stream = message.stream
    if stream:
        if stream is True:  # mitmproxy's stream_large_bodies: keep a copy all the same
            message.stream = Tap(_keep(message, cap, wire_cap))
        return  # another addon's callable is left alone
    if bodyless:
        return
    headers = message.data.headers
    length = headers.get("content-length")
    if length is not None:
        try:
            if int(length) <= cap:
                return
        except ValueError:
            return  # mitmproxy refuses or reads it its own way
        message.stream = Tap(_keep(message, cap, wire_cap))
        return
    kind = headers.get("content-type", "").lower()
    hold = 0 if kind.startswith(STREAMING_TYPES) else cap
    message.stream = Tap(_keep(message, cap, wire_cap), hold)


def request_bodyless(request: Any) -> bool:
    """An HTTP/1 request with neither Content-Length nor Transfer-Encoding has no body."""
    data = request.data
    if not data.http_version.startswith(b"HTTP/1"):
        return False
    for name, _ in data.headers.fields:  # one pass: the hook runs for every request
        name = name.lower()
        if name == b"content-length" or name == b"transfer-encoding":
            return False
    return True


def response_bodyless(flow: Any) -> bool:
    status = flow.response.data.status_code
    return status < 200 or status in _NO_BODY_STATUS or flow.request.data.method == b"HEAD"


def _keep(message: Any, cap: int, wire_cap: int) -> int:
    encoding = message.data.headers.get("content-encoding", "identity").strip().lower()
    return cap if encoding in ("", "identity") else wire_cap
