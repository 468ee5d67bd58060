"""What the client reads in a response's head as it arrives: where it ends, how the body
is framed, the reason phrase, whether the connection persists.

Reading a head as header pairs (for the results and the API) is shadowtape.results.heads.
"""

from __future__ import annotations

_SPACE = b" \t"


def split_head(received: bytes) -> tuple[bytes, bytes] | None:
    """The head at the start of ``received`` (without its blank line), and what follows;
    None while the head is incomplete. Lines end in CRLF: llhttp refuses a bare LF
    before the head gets here."""
    end = received.find(b"\r\n\r\n")
    if end < 0:
        return None
    return received[:end], received[end + 4 :]


def framing(head: bytes) -> tuple[bool, str]:
    """Whether the body's length is given, and its Content-Encoding (the last one, as it
    is applied last). It is given by Content-Length, or by a Transfer-Encoding whose final
    coding is chunked; after any other transfer coding the body ends with the connection
    (RFC 9112 section 6.3), as llhttp reads it. llhttp refuses a response with both."""
    low = head.lower()
    framed = b"\ncontent-length:" in low
    if not framed:
        at = low.rfind(b"\ntransfer-encoding:")
        if at >= 0:
            codings = _value(low, at + len(b"\ntransfer-encoding:"))
            framed = codings.rpartition(b",")[2].strip(_SPACE) == b"chunked"
    at = low.rfind(b"\ncontent-encoding:")
    if at < 0:
        return framed, ""
    start = at + len(b"\ncontent-encoding:")
    end = low.find(b"\r\n", start)
    return framed, head[start : None if end < 0 else end].decode("latin-1").strip()


def reason_phrase(head: bytes) -> str:
    """The reason phrase in a head's status line (llhttp has checked its shape)."""
    parts = head.split(b"\r\n", 1)[0].split(b" ", 2)
    return parts[2].decode("latin-1") if len(parts) > 2 else ""


def persistent(head: bytes) -> bool:
    """Whether the connection stays open after this response (RFC 9112 section 9.3): not
    if a Connection header lists close; else from HTTP/1.1 on, and in HTTP/1.0 if one
    lists keep-alive. llhttp says so only of a response whose end it saw, which a
    response to HEAD does not show it."""
    low = head.lower()
    options: set[bytes] = set()
    at = low.find(b"\nconnection:")
    while at >= 0:
        value = _value(low, at + len(b"\nconnection:"))
        options.update(option.strip(_SPACE) for option in value.split(b","))
        at = low.find(b"\nconnection:", at + 1)
    if b"close" in options:
        return False
    return low[5:8] >= b"1.1" or b"keep-alive" in options  # after "http/"


def _value(head: bytes, start: int) -> bytes:
    end = head.find(b"\r\n", start)
    return head[start : None if end < 0 else end]
