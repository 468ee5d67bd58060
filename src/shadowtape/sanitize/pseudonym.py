"""Keyed, format-preserving pseudonyms.

A pseudonym is derived from HMAC-SHA256 of the value under the deployment's key, so the
same value always gets the same pseudonym (sessions stay coherent across a replayed
sequence, joins still work) while the value cannot be recovered without the key, and not
even guessed from a list of candidates unless the key is known too.

The output keeps the value's shape where that helps a replay or a reader: each ASCII
digit, lower- and upper-case letter is replaced by one of the same class (hex stays hex),
punctuation is kept, an e-mail stays a valid e-mail (top-level domain kept), a card number
keeps its length, separators and first digit but fails Luhn, a JWT stays three
dot-separated base64url parts (its header, which holds no secret, is kept), and a known
API key keeps its prefix (``sk_live_``, ``AKIA``...). A pseudonym never equals its input.
A value longer than ``SHAPED_MAX`` (a key block cut by the body cap, a header failed
closed) has no shape worth keeping: it gets ``long_form`` instead, bounded in size, keyed,
made of letters only (no detector can take it for a card or a phone number when it is
scanned again), with the value's first character kept when it is punctuation (a path
keeps its ``/``, so a replayed request still has a valid target). This is the only rule
for long values: every replacement, failed-closed values included, comes from here.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import string
from collections.abc import Callable
from functools import lru_cache, partial

from shadowtape.sanitize.beyondascii import KEPT, LETTER, NON_ASCII, NON_ASCII_ALNUM, Marked
from shadowtape.sanitize.detectors import (
    api_key_prefix,
    card_digits,
    holds_card,
    is_card,
    is_email,
    is_jwt,
    luhn_check_digit,
)

_DIGITS = string.digits
_LOWER = string.ascii_lowercase
_UPPER = string.ascii_uppercase
_HEX_LOWER = "0123456789abcdef"
_HEX_UPPER = "0123456789ABCDEF"
_CACHE_SIZE = 16_384
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
#: Values longer than this are not shaped but get ``long_form``. No real token, cookie or
#: SAML response is that long (servers cap a header line well below it): past it, a
#: value is a cut body or an attack, and its shape is of no use to a replay.
SHAPED_MAX = 64 * 1024
#: No card number is longer (19 digits and a separator between each two), nor has
#: fewer digits.
_CARD_REACH = 37
_CARD_DIGITS = 13
#: Per byte: "0" for what may be part of a card number in a shaped text (a digit, or a
#: space, dash or dot between digits; for hex, a letter a-f too, which may become a digit),
#: "x" for the rest. A card number is a run of at least _CARD_DIGITS of them, and a
#: shaped text has them where its input has: one translation and one search in C tell
#: whether the card check (a slower scan) can find anything, whatever the attempt.
_CARD_RUN = bytes(0x30 if chr(c) in _DIGITS + " -." else 0x78 for c in range(256))
_CARD_RUN_HEX = bytes(0x30 if chr(c) in _DIGITS + "abcdefABCDEF -." else 0x78 for c in range(256))
_RUN = b"0" * _CARD_DIGITS
#: Keyed letters in ``long_form``.
LONG_LETTERS = 32
#: Values up to this long are cached by the thousand; longer ones (up to SHAPED_MAX) by
#: the dozen: a large cache of long values would hold gigabytes alive.
_CACHED_MAX = 1024
_CACHE_SIZE_LONG = 64
#: Text beyond ASCII this long or longer is told apart by beyondascii.Marked, in a few
#: whole-text operations; shorter text by two regular expressions (cheaper below it).
WHOLE_TEXT = 512
_PUNCTUATION = frozenset(string.punctuation)


class Pseudonymizer:
    """Maps values to pseudonyms under one key. Thread-safe; results are cached."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("a pseudonym key must not be empty")
        self._key = key
        self._cached: Callable[[str], str] = lru_cache(maxsize=_CACHE_SIZE)(self._compute)
        self._cached_long: Callable[[str], str] = lru_cache(maxsize=_CACHE_SIZE_LONG)(self._compute)

    def __call__(self, value: str) -> str:
        """The pseudonym of a string value, shaped like it (``long_form`` past SHAPED_MAX)."""
        if len(value) <= _CACHED_MAX:
            return self._cached(value)
        if len(value) <= SHAPED_MAX:
            return self._cached_long(value)
        return self.long_form(value)

    def long_form(self, value: str) -> str:
        """What stands for a value too long to shape: its first character when that is
        punctuation, then LONG_LETTERS keyed lower-case letters."""
        data = b"long\x00" + value.encode("utf-8", "surrogatepass")
        letters = "".join(_LOWER[b % 26] for b in hmac.digest(self._key, data, "sha256"))
        return (value[0] if value[0] in _PUNCTUATION else "") + letters[:LONG_LETTERS]

    def number(self, value: int) -> int:
        """The pseudonym of an integer: same sign and number of digits, never equal."""
        sign = -1 if value < 0 else 1
        text = str(abs(value))
        if len(text) == 1:
            return sign * int(self._shape(text, text, "int")) if text != "0" else 0
        out = self(text)
        if out[0] == "0":
            out = "1" + out[1:]
        if out == text:  # "1" forced over a "0" could land back on the input
            out = str(int(out) + 1)
        return sign * int(out)

    def digest(self, data: bytes) -> str:
        """A hex pseudonym for raw bytes that are not text (a binary secret)."""
        return hmac.digest(self._key, b"bytes\x00" + data, "sha256").hex()[:32]

    def _compute(self, value: str) -> str:
        if not value:
            return value
        if len(value) > SHAPED_MAX:
            return self.long_form(value)
        if "@" in value and is_email(value):
            return self._email(value)
        if value[0].isdigit() and len(value) <= _CARD_REACH and is_card(value):
            return self._card(value)
        if value.startswith("eyJ") and is_jwt(value):
            return self._jwt(value)
        prefix = api_key_prefix(value)
        if prefix is not None:
            return prefix + self._shape(value[len(prefix) :], value, "key")
        return self._shape(value, value, "text")

    def _stream(self, seed: str, domain: str, attempt: int, size: int) -> bytes:
        message = f"{domain}\x00{attempt}\x00{seed}".encode("utf-8", "surrogatepass")
        block = hmac.digest(self._key, message, "sha256")
        return block[:size] if size <= len(block) else hashlib.shake_256(block).digest(size)

    def _shape(self, value: str, seed: str, domain: str) -> str:
        """Replace every letter and digit by one of its class; never return ``value``, nor
        text in which the card detector would find a card number (a pseudonym sanitized
        again, as a late echo is, must stay as it is, whatever the key).

        Percent-escapes (``%3A``) are kept as they are, like the punctuation they encode,
        so a URL-encoded value stays validly encoded. A letter or digit beyond ASCII
        becomes a lower-case ASCII letter; any other character beyond ASCII is kept.
        """
        if value.isascii():
            return self._shape_ascii(value, value, seed, domain)
        # Shaped as ASCII, whole-value operations only: a letter or digit beyond ASCII
        # stands as "z" (a lower-case letter, not hex), any other character as "\x00"
        # (kept, like punctuation), and is put back afterwards.
        if len(value) >= WHOLE_TEXT:
            marked = Marked(value)
            back = marked.put_back if marked.kept else None
            return self._shape_ascii(marked.marked, value, seed, domain, back)
        lettered = NON_ASCII_ALNUM.sub(LETTER, value)
        if lettered.isascii():
            return self._shape_ascii(lettered, value, seed, domain)
        text = NON_ASCII.sub(KEPT, lettered)
        return self._shape_ascii(text, value, seed, domain, partial(_put_back, marked=lettered))

    def _shape_ascii(
        self,
        text: str,
        value: str,
        seed: str,
        domain: str,
        put_back: Callable[[str], str] | None = None,
    ) -> str:
        """``_shape`` of ``value`` as ASCII ``text`` (``value`` itself, or marked as
        ``_shape`` says); ``put_back``: puts the characters beyond ASCII that ``text``
        holds as "\x00" back into a shaped text."""
        marked = text
        if "%" in text:
            marked = _ESCAPE.sub("\x00\x00\x00", text)  # escapes are kept, like punctuation
            if _ALNUM.search(marked) is None:
                marked = text  # escapes alone ("%00"): shape them rather than digest
        alphabet = _hex_alphabet_ascii(_ESCAPE.sub("", text) if marked is not text else text)
        classes = marked.encode("ascii")
        data = classes if marked is text else text.encode("ascii")
        original = int.from_bytes(data)
        # A card number needs a run of 13 digits (spaces or dashes between): a digit of
        # the result is where the text has one (hex: a digit or a letter a-f).
        may_card = _RUN in data.translate(_CARD_RUN if alphabet is None else _CARD_RUN_HEX)
        for attempt in range(16):
            stream = self._stream(seed, domain, attempt, len(text))
            out = _select(original, classes, stream, alphabet)
            # Told on the ASCII text: the characters put back are no letter, digit, "_",
            # "." or separator, so the card detector tells "\x00" from them no better.
            if may_card and holds_card(out):
                continue
            if put_back is not None:
                out = put_back(out)
            if out != value:
                return out
        # Nothing to shape (only punctuation and spaces): fall back to a plain digest.
        return self._stream(seed, domain, 99, 16).hex()[: max(8, len(value))]

    def _email(self, value: str) -> str:
        local, _, domain = value.rpartition("@")
        seed = value.lower()
        labels = domain.split(".")
        shaped = [self._shape(label, f"{seed}\x00{i}", "email") for i, label in enumerate(labels)]
        return f"{self._shape(local, seed, 'email-local')}@{'.'.join([*shaped[:-1], labels[-1]])}"

    def _card(self, value: str) -> str:
        digits = card_digits(value) or ""
        stream = self._stream(digits, "card", 0, len(digits))
        body = digits[0] + "".join(_DIGITS[b % 10] for b in stream[1 : len(digits) - 1])
        good = luhn_check_digit(body)
        bad = (good + 1 + stream[-1] % 9) % 10
        new_digits = iter(body + str(bad))
        return "".join(next(new_digits) if char.isdigit() else char for char in value)

    def _jwt(self, value: str) -> str:
        header, _, rest = value.partition(".")
        return f"{header}.{self._shape(rest, value, 'jwt')}"


_ALNUM = re.compile(r"[0-9A-Za-z]")


def _put_back(shaped: str, *, marked: str) -> str:
    """``shaped`` (ASCII) with each character of ``marked`` (as long) beyond ASCII put
    back in its place. As UTF-32 lanes in big integers: a lane of ``marked`` is at least
    0x80 when adding 0x7FFFFF80 sets its top bit (a code point is below 0x110000, so no
    carry leaves the lane), and that bit, moved down and multiplied by 0xFFFFFFFF,
    selects the whole lane. A few whole-value operations, whatever the length."""
    size = len(marked)
    wide = int.from_bytes(marked.encode("utf-32-le", "surrogatepass"), "little")
    bias = int.from_bytes(b"\x80\xff\xff\x7f" * size, "little")
    tops = int.from_bytes(b"\x00\x00\x00\x80" * size, "little")
    mask = (((wide + bias) & tops) >> 31) * 0xFFFFFFFF
    narrow = int.from_bytes(shaped.encode("utf-32-le"), "little")
    out = (wide & mask) | (narrow & ~mask)
    return out.to_bytes(4 * size, "little").decode("utf-32-le", "surrogatepass")


_NOT_HEX_LETTER = re.compile(r"[G-Zg-z]")
#: Every byte but the letters after F and f.
_NOT_G_TO_Z = bytes(sorted(set(range(256)) - set(b"GHIJKLMNOPQRSTUVWXYZghijklmnopqrstuvwxyz")))
_DROP_HEX = str.maketrans(dict.fromkeys(_HEX_LOWER + _HEX_UPPER))


def _table(alphabet: str) -> bytes:
    """Stream byte -> the character of ``alphabet`` it picks."""
    return bytes(ord(alphabet[b % len(alphabet)]) for b in range(256))


def _mask(chars: str) -> bytes:
    """Character -> 0xFF if it is one of ``chars``, else 0."""
    return bytes(0xFF if chr(c) in chars else 0 for c in range(256))


_DIGIT_PICK = _table(_DIGITS)
_LOWER_PICK = _table(_LOWER)  # an upper-case pick is the lower-case one less 0x20
_DIGIT_MASK = _mask(_DIGITS)
#: A letter -> every bit but its case bit (0x20): a pick takes its case from the letter.
_LETTER_BUT_CASE = bytes(0xDF if chr(c) in _LOWER + _UPPER else 0 for c in range(256))
_PICK_HEX = {
    _HEX_LOWER: (_table(_HEX_LOWER), _mask(_HEX_LOWER + _HEX_UPPER)),
    _HEX_UPPER: (_table(_HEX_UPPER), _mask(_HEX_LOWER + _HEX_UPPER)),
}


def _select(original: int, classes: bytes, stream: bytes, alphabet: str | None) -> str:
    """Each character of a class replaced by the stream's pick, the rest kept.

    Byte strings as big integers: masks select, per position, the stream's character or
    the original one, in a few whole-value operations.
    """
    if alphabet is not None:
        table, mask = _PICK_HEX[alphabet]
        where = int.from_bytes(classes.translate(mask))
        out = (int.from_bytes(stream.translate(table)) & where) | (original & ~where)
    else:
        digits = int.from_bytes(classes.translate(_DIGIT_MASK))
        letters = int.from_bytes(classes.translate(_LETTER_BUT_CASE))
        out = int.from_bytes(stream.translate(_DIGIT_PICK)) & digits
        out |= int.from_bytes(stream.translate(_LOWER_PICK)) & letters
        # The rest of the original: its other characters, and each letter's case bit.
        out |= original & ~(digits | letters)
    return out.to_bytes(len(classes)).decode("ascii")


def _past_f(text: str) -> bool:
    """Does ``text`` hold a letter after F or f?"""
    return bool(text.encode("utf-8", "surrogatepass").translate(None, _NOT_G_TO_Z))


def _hex_alphabet_ascii(value: str) -> str | None:
    """``_hex_alphabet`` for ASCII text."""
    # Most tokens hold a letter past F early; a long hex-like text is read in C.
    if _NOT_HEX_LETTER.search(value, 0, 64) or (len(value) > 64 and _past_f(value)):
        return None
    if len(value) - len(value.translate(_DROP_HEX)) < 8:
        return None
    has_lower = any(c in value for c in "abcdef")
    has_upper = any(c in value for c in "ABCDEF")
    if has_lower == has_upper:
        return None
    return _HEX_LOWER if has_lower else _HEX_UPPER


def _hex_alphabet(value: str) -> str | None:
    """Hex digests and UUIDs (8+ hex digits, letters from one case): the alphabet to keep.
    A letter or digit beyond ASCII is no hex digit."""
    return None if NON_ASCII_ALNUM.search(value) else _hex_alphabet_ascii(value)
