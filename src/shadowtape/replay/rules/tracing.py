"""The W3C ``traceparent`` each replayed request carries: a fresh trace id per request and
per target.

A service that propagates trace context passes it to its outbound calls, so the deps
proxy can tell which replayed request caused each call. Every request to every target
(baseline, candidate, secondary, the repeat, a probe's) gets its own
``traceparent: 00-<trace id>-<span id>-<flags>``; the recorded one is dropped, so
production's trace id is never sent, but its trace flags are kept when it was valid
(else ``01``, sampled).

Requests are serialized ahead, on reader threads, with a placeholder as their first
header line: an all-zero trace and span id, which W3C Trace Context calls invalid, so no
real request carries one. ``fill`` puts random ids in just before a client sends: a
search for the end of the request line, 24 bytes from ``os.urandom`` and one copy.
"""

from __future__ import annotations

import os
import re

HEADER = "traceparent"
ZERO_TRACE = "0" * 32
ZERO_SPAN = "0" * 16
#: Trace flags when the recorded request had no valid traceparent: sampled.
DEFAULT_FLAGS = "01"
_FIELDS = r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}"
#: A whole version-00 traceparent, for Arrow (RE2's ``$`` is the end of the text only).
VALID = f"^{_FIELDS}$"
_VALID = re.compile(_FIELDS)
#: What a serialized request has right after its request line when it is to be filled.
_MARK = f"\r\n{HEADER}: 00-{ZERO_TRACE}-{ZERO_SPAN}-".encode()
#: Where the ids start after the request line's end, and how long they are.
_IDS_AT = len(f"\r\n{HEADER}: 00-")
_IDS_LEN = len(ZERO_TRACE) + 1 + len(ZERO_SPAN)


def flags_of(recorded: str | None) -> str:
    """The trace flags to send: the recorded traceparent's when it is valid, else 01."""
    if (
        recorded is None
        or not _VALID.fullmatch(recorded)
        or recorded.startswith("ff")
        or recorded[3:35] == ZERO_TRACE
        or recorded[36:52] == ZERO_SPAN
    ):
        return DEFAULT_FLAGS
    return recorded[-2:]


def placeholder(flags: str) -> str:
    """The header value a request is serialized with, ids to be filled by ``fill``."""
    return f"00-{ZERO_TRACE}-{ZERO_SPAN}-{flags}"


def fill(data: bytes) -> tuple[bytes, str | None]:
    """``data`` with fresh ids in its placeholder, and the trace id; unchanged, and None,
    when it has none (tracing is off)."""
    end = data.find(b"\r\n")
    if end < 0 or not data.startswith(_MARK, end):
        return data, None
    ids = os.urandom(24).hex()
    at = end + _IDS_AT
    filled = b"".join((data[:at], f"{ids[:32]}-{ids[32:]}".encode(), data[at + _IDS_LEN :]))
    return filled, ids[:32]
