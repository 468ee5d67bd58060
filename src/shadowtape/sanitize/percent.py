"""Percent-encoding and decoding with urllib's results, at C speed.

``urllib.parse.quote`` encodes byte by byte in Python, and ``unquote`` decodes escape by
escape (a megabyte of ``%25`` takes a fifth of a second, per decode). Sanitizing encodes
whole values (a secret's URL-encoded forms, a replaced value written back) and decodes
whole URL parts up to three times, so both are done with a few whole-text C operations:
ASCII text is encoded with one ``str.replace`` per distinct character to encode ("%"
first, so no escape is encoded twice), and decoded by binascii's quoted-printable
decoder once each escape's ``%`` is its ``=`` (see unquote).
"""

from __future__ import annotations

import binascii
import re
from functools import lru_cache
from urllib.parse import quote as _quote

_ALWAYS_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


@lru_cache(maxsize=16)
def _escapes(safe: str) -> tuple[tuple[str, str], ...]:
    keep = _ALWAYS_SAFE | set(safe)
    chars = sorted((chr(c) for c in range(128) if chr(c) not in keep), key=lambda c: c != "%")
    return tuple((char, f"%{ord(char):02X}") for char in chars)


def quote(value: str, safe: str = "/") -> str:
    """``urllib.parse.quote(value, safe)`` (a lone surrogate: its surrogatepass bytes)."""
    if not (value.isascii() and safe.isascii()):
        return _quote(value, safe=safe, errors="surrogatepass")
    for char, escape in _escapes(safe):
        if char in value:
            value = value.replace(char, escape)
    return value


def quote_plus(value: str, safe: str = "") -> str:
    """``urllib.parse.quote_plus(value, safe)``."""
    if " " not in value:
        return quote(value, safe)
    return quote(value, safe + " ").replace(" ", "+")


#: Each byte's class: "%" itself, "h" for a hex digit, "." for anything else.
_CLASSES = bytes(
    0x25 if i == 0x25 else ord("h") if chr(i) in "0123456789abcdefABCDEF" else ord(".")
    for i in range(256)
)
#: Bytes UTF-8 never holds: markers for "=" and for a "%" that starts no escape.
_NEVER_UTF8 = (0xFF, 0xFE, 0xFD, 0xFC, 0xFB, 0xFA, 0xF9, 0xF8, 0xF7, 0xF6, 0xF5, 0xC1, 0xC0)
#: Each escape's "%" -> "=" (a table: cheaper than bytes.replace with many matches).
_PERCENT_TO_EQUAL = bytes(0x3D if i == 0x25 else i for i in range(256))
_SURROGATES = re.compile("[\ud800-\udfff]+")


def unquote(text: str, *, plus: bool = False) -> str:
    """``urllib.parse.unquote(text)`` (``unquote_plus`` with ``plus``), exactly."""
    if plus and "+" in text:
        text = text.replace("+", " ")
    if "%" not in text:
        return text
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: urllib keeps them, between decoded runs
        parts = _SURROGATES.split(text)
        runs = _SURROGATES.findall(text)
        out = [_unquote_utf8(part.encode("utf-8"), part) for part in parts]
        return "".join(p for pair in zip(out, [*runs, ""], strict=True) for p in pair)
    return _unquote_utf8(data, text)


def _unquote_utf8(data: bytes, text: str) -> str:
    """Decode UTF-8 ``data`` (``text`` encoded) the way urllib decodes ``text``.

    Decoding the UTF-8 of the whole text with errors="replace" equals urllib's decoding
    of each ASCII run: a non-ASCII character starts with a lead byte, which ends any
    sequence the escapes before it left open, exactly where urllib's run ends.
    ``binascii.a2b_qp`` turns every ``=XX`` into its byte in C and copies the rest, so
    each escape's ``%`` becomes ``=``; a literal ``=`` and a ``%`` that starts no escape
    are first set to bytes nothing decodes to (see _marks), and set back after.
    """
    classes = data.translate(_CLASSES)
    escapes = classes.count(b"%hh")
    if not escapes:
        return text
    stray = classes.count(b"%") - escapes
    equals = b"=" in data
    if not stray:  # a literal "=" is escaped itself (a bytes.replace: cheaper than marks)
        if equals:
            data = data.replace(b"=", b"=3D")
        return binascii.a2b_qp(data.translate(_PERCENT_TO_EQUAL)).decode("utf-8", "replace")
    marks = _marks(data)
    if stray:
        # The stray "%" bytes, told apart from the escapes' by their classes: XOR with a
        # mask that is 0x25 ^ mark there and 0 elsewhere (big integers: one C pass each).
        mark = marks[1] if marks is not None else 0xFF
        mask = classes.replace(b"%hh", b".hh").translate(_mask_table(mark))
        data = (int.from_bytes(data) ^ int.from_bytes(mask)).to_bytes(len(data))
    if marks is None:  # every marker is also an escape here: escape both instead
        data = data.replace(b"=", b"=3D").replace(b"%", b"=").replace(b"\xff", b"=25")
        return binascii.a2b_qp(data).decode("utf-8", "replace")
    equal, percent = marks
    data = data.translate(_swap_table(equal))
    decoded = binascii.a2b_qp(data).translate(_unswap_table(equal, percent))
    return decoded.decode("utf-8", "replace")


def _marks(data: bytes) -> tuple[int, int] | None:
    """Two bytes no escape in ``data`` decodes to (UTF-8 holds neither), if there are."""
    lowered = data.lower()
    free = (b for b in _NEVER_UTF8 if b"%%%02x" % b not in lowered)
    first, second = next(free, None), next(free, None)
    return None if first is None or second is None else (first, second)


@lru_cache(maxsize=16)
def _mask_table(mark: int) -> bytes:
    return bytes(0x25 ^ mark if i == 0x25 else 0 for i in range(256))


@lru_cache(maxsize=16)
def _swap_table(equal: int) -> bytes:
    """ "%" -> "=" (an escape for a2b_qp), "=" -> ``equal``."""
    table = bytearray(range(256))
    table[0x25], table[0x3D] = 0x3D, equal
    return bytes(table)


@lru_cache(maxsize=16)
def _unswap_table(equal: int, percent: int) -> bytes:
    table = bytearray(range(256))
    table[equal], table[percent] = 0x3D, 0x25
    return bytes(table)
