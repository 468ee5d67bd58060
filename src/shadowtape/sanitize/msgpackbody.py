"""MessagePack bodies, sanitized like the JSON they map to.

A document whose keys are all strings and whose values JSON can hold is written as JSON
for jsonbody's checks of the raw text, then walked by jsonbody as decoded (the same field
names, paths and detectors; not read back from the JSON), and packed again only when
something changed. A document JSON cannot hold (binary values, integer keys, extension
types) is not converted: the caller scans its bytes instead (binary.py).
"""

from __future__ import annotations

import msgpack  # type: ignore[import-untyped]
import orjson

from shadowtape.sanitize.context import Context
from shadowtape.sanitize.jsonbody import sanitize_document

MSGPACK_TYPES = frozenset(
    {"application/msgpack", "application/x-msgpack", "application/vnd.msgpack"}
)


def sanitize_msgpack(body: bytes, ctx: Context, base: str) -> bytes | None:
    """The sanitized body (``body`` itself when unchanged), or None when not convertible."""
    try:
        document = msgpack.unpackb(body, raw=False, strict_map_key=False)
        text = orjson.dumps(document).decode()
    except (ValueError, TypeError, RecursionError, msgpack.UnpackException):
        return None  # orjson.JSONEncodeError and msgpack's ExtraData are ValueErrors
    out = sanitize_document(document, text, ctx, base)
    if out is None or out is document:
        return body
    packed: bytes = msgpack.packb(out, use_bin_type=True)
    return packed
