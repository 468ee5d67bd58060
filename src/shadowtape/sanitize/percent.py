"""Percent-encoding and decoding with urllib's results, at C speed.

``urllib.parse.quote`` encodes byte by byte in Python, and ``unquote`` decodes escape by
escape (a megabyte of ``%25`` takes a fifth of a second, per decode). Sanitizing encodes
whole values (a secret's URL-encoded forms, a replaced value written back) and decodes
whole URL parts up to three times, so both are done with a few whole-text C operations:
ASCII text is encoded with one ``str.replace`` per distinct character to encode ("%"
first, so no escape is encoded twice), other text as its UTF-8 bytes by a few
translations (see _quote_bytes); text is decoded by binascii's quoted-printable decoder
once each escape's ``%`` is its ``=`` (see unquote).
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


@lru_cache(maxsize=16)
def _byte_tables(safe: str) -> tuple[bytes, bytes, bytes]:
    """Per byte: its first, second and third output byte; a byte kept as it is gives
    itself and two NULs (a NUL is never kept: it is always escaped)."""
    keep = {ord(char) for char in _ALWAYS_SAFE | set(safe)}
    hexes = [f"{byte:02X}".encode("ascii") for byte in range(256)]
    first = bytes(byte if byte in keep else 0x25 for byte in range(256))
    second = bytes(0 if byte in keep else hexes[byte][0] for byte in range(256))
    third = bytes(0 if byte in keep else hexes[byte][1] for byte in range(256))
    return first, second, third


def _quote_bytes(data: bytes, safe: str) -> str:
    """Every byte as itself or its escape, by whole-text C operations: three translations
    interleaved into three bytes per byte, then the NULs of the kept ones deleted."""
    first, second, third = _byte_tables(safe)
    out = bytearray(3 * len(data))
    out[0::3] = data.translate(first)
    out[1::3] = data.translate(second)
    out[2::3] = data.translate(third)
    return out.translate(None, b"\x00").decode("ascii")


def quote(value: str, safe: str = "/") -> str:
    """``urllib.parse.quote(value, safe)`` (a lone surrogate: its surrogatepass bytes)."""
    if not safe.isascii():
        return _quote(value, safe=safe, errors="surrogatepass")
    if not value.isascii():
        return _quote_bytes(value.encode("utf-8", "surrogatepass"), safe)
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
#: An escape's "%" marked in its classes (0x18, "%" ^ "=") -> itself; the rest -> 0.
_ESCAPE_MASK = bytes(0x18 if i == 0x18 else 0 for i in range(256))
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


#: A text with at most one "%" per this many characters is decoded escape by escape
#: (a Python step each, about half a microsecond) rather than in the six whole-text
#: passes below (about 4 ms a MiB).
SPARSE = 256
_HEX_DIGITS = b"0123456789abcdefABCDEF"


def _unquote_utf8(data: bytes, text: str) -> str:
    """Decode UTF-8 ``data`` (``text`` encoded) the way urllib decodes ``text``.

    Decoding the UTF-8 of the whole text with errors="replace" equals urllib's decoding
    of each ASCII run: a non-ASCII character starts with a lead byte, which ends any
    sequence the escapes before it left open, exactly where urllib's run ends.
    ``binascii.a2b_qp`` turns every ``=XX`` into its byte in C and copies the rest, so
    each escape's ``%`` becomes ``=`` once a literal ``=`` became ``=3D``; a ``%`` that
    starts no escape is copied as it is.
    """
    if data.count(b"%") * SPARSE <= len(data):
        return _unquote_sparse(data, text)
    classes = data.translate(_CLASSES)
    escapes = classes.count(b"%hh")
    if not escapes:
        return text
    stray = classes.count(b"%") > escapes
    if b"=" in data:
        data = data.replace(b"=", b"=3D")
        classes = data.translate(_CLASSES) if stray else classes
    if not stray:
        return binascii.a2b_qp(data.translate(_PERCENT_TO_EQUAL)).decode("utf-8", "replace")
    # Only each escape's "%" becomes "=" (a stray one is copied as it is): XOR with a mask
    # that is "%" ^ "=" there and 0 elsewhere (big integers: one C pass each).
    mask = classes.replace(b"%hh", b"\x18hh").translate(_ESCAPE_MASK)
    data = (int.from_bytes(data) ^ int.from_bytes(mask)).to_bytes(len(data))
    return binascii.a2b_qp(data).decode("utf-8", "replace")


def _unquote_sparse(data: bytes, text: str) -> str:
    """``_unquote_utf8`` of a text with few ``%``: each escape's two hex digits become
    their byte, a ``%`` that starts no escape is kept, and the bytes are decoded whole
    (``text`` itself when nothing was an escape)."""
    parts = data.split(b"%")
    out = [parts[0]]
    escaped = False
    for part in parts[1:]:
        pair = part[:2]
        if len(pair) == 2 and not pair.translate(None, _HEX_DIGITS):
            out += (binascii.unhexlify(pair), part[2:])
            escaped = True
        else:
            out += (b"%", part)
    return b"".join(out).decode("utf-8", "replace") if escaped else text
