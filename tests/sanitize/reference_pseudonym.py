"""Shaping as it was before long values were shaped in whole-text operations, kept as the
reference that test_pseudonym_reference.py holds the faster code to: a pseudonym must
not change when the code that makes it gets faster (tapes recorded before are joined
with tapes recorded after).

Only what changed is kept here (how characters beyond ASCII are told apart, how the
shaped characters are selected, how a hex digest is told); the rest of the pseudonymizer
is the current one (the put-back of short texts, unchanged, too).
"""

from __future__ import annotations

import re
import string

from shadowtape.sanitize import pseudonym
from shadowtape.sanitize.detectors import holds_card

_NON_ASCII_ALNUM = re.compile(r"(?![\x00-\x7f])[^\W_]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_NOT_HEX_LETTER = re.compile(r"[G-Zg-z]")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_ALNUM = re.compile(r"[0-9A-Za-z]")
_HEX = ("0123456789abcdef", "0123456789ABCDEF")


class Pseudonymizer(pseudonym.Pseudonymizer):
    """The current pseudonymizer, shaping as it did before."""

    def _shape(self, value: str, seed: str, domain: str) -> str:
        if value.isascii():
            return self._shape_before(value, value, seed, domain)
        marked = _NON_ASCII_ALNUM.sub("z", value)
        if marked.isascii():
            return self._shape_before(marked, value, seed, domain)
        return self._shape_before(_NON_ASCII.sub("\x00", marked), value, seed, domain, marked)

    def _shape_before(
        self, text: str, value: str, seed: str, domain: str, kept: str | None = None
    ) -> str:
        escaped = _ESCAPE.sub("\x00\x00\x00", text) if "%" in text else text
        if escaped is not text and _ALNUM.search(escaped) is None:
            escaped = text
        hexed = _ESCAPE.sub("", text) if escaped is not text else text
        attempts = (self._stream(seed, domain, n, len(text)) for n in range(16))
        for stream in attempts:
            out = _select(int.from_bytes(text.encode("ascii")), escaped, stream, _alphabet(hexed))
            out = out if kept is None else pseudonym._put_back(out, marked=kept)
            if out != value and not holds_card(out):
                return out
        return self._stream(seed, domain, 99, 16).hex()[: max(8, len(value))]


def _table(alphabet: str) -> bytes:
    return bytes(ord(alphabet[b % len(alphabet)]) for b in range(256))


def _mask(chars: str) -> bytes:
    return bytes(0xFF if chr(c) in chars else 0 for c in range(256))


_CLASSES = [
    (_table(chars), _mask(chars))
    for chars in (string.digits, string.ascii_lowercase, string.ascii_uppercase)
]
_HEX_CLASSES = {alphabet: (_table(alphabet), _mask(_HEX[0] + _HEX[1])) for alphabet in _HEX}


def _select(original: int, marked: str, stream: bytes, alphabet: str | None) -> str:
    classes = marked.encode("ascii")
    out, kept = 0, -1
    for table, mask in [_HEX_CLASSES[alphabet]] if alphabet is not None else _CLASSES:
        where = int.from_bytes(classes.translate(mask))
        out |= int.from_bytes(stream.translate(table)) & where
        kept &= ~where
    return (out | (original & kept)).to_bytes(len(classes)).decode("ascii")


def _alphabet(value: str) -> str | None:
    if _NOT_HEX_LETTER.search(value) is not None:
        return None
    if len(value) - len(value.translate(str.maketrans(dict.fromkeys(_HEX[0] + _HEX[1])))) < 8:
        return None
    lower, upper = any(c in value for c in "abcdef"), any(c in value for c in "ABCDEF")
    return None if lower == upper else _HEX[0] if lower else _HEX[1]
