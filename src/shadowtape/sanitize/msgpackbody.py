"""MessagePack bodies, sanitized like the JSON they map to.

A document whose keys are all strings is written as JSON for jsonbody's checks of the
raw text, then walked by jsonbody as decoded (the same field names, paths and detectors;
not read back from the JSON), and packed again only when something changed. A binary
value is walked as the text its bytes are in Latin-1 (one character a byte), and packed
back as binary. A document JSON cannot hold even so (integer keys, extension types) is
not converted: the caller scans its bytes instead (binary.py).
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
        document = _textual(msgpack.unpackb(body, raw=False, strict_map_key=False))
        text = orjson.dumps(document).decode()
    except (ValueError, TypeError, RecursionError, msgpack.UnpackException):
        return None  # orjson.JSONEncodeError and msgpack's ExtraData are ValueErrors
    out = sanitize_document(document, text, ctx, base)
    if out is None or out is document:
        return body
    packed: bytes = msgpack.packb(_binary(document, out), use_bin_type=True)
    return packed


class _Bin(str):
    """A binary value, as the Latin-1 text of its bytes."""

    __slots__ = ()


def _textual(node: object) -> object:
    """``node`` with each binary value as a _Bin (the same object when it has none)."""
    if isinstance(node, bytes):
        return _Bin(node.decode("latin-1"))
    if isinstance(node, dict):
        items = {key: _textual(value) for key, value in node.items()}
        return node if all(items[k] is v for k, v in node.items()) else items
    if isinstance(node, list):
        values = [_textual(value) for value in node]
        return node if all(a is b for a, b in zip(values, node, strict=True)) else values
    return node


def _binary(before: object, after: object) -> object:
    """``after`` (the walked ``before``) with what was binary in ``before`` binary again:
    the walk keeps the shape of a document, so the two are read side by side."""
    if isinstance(before, _Bin) and isinstance(after, str):
        return after.encode("latin-1", "replace")
    if isinstance(before, dict) and isinstance(after, dict):
        pairs = zip(before.values(), after.items(), strict=True)
        return {key: _binary(old, new) for old, (key, new) in pairs}
    if isinstance(before, list) and isinstance(after, list):
        return [_binary(old, new) for old, new in zip(before, after, strict=True)]
    return after
