"""The forms a secret takes when it comes back encoded, and the same form of its pseudonym.

A value found in a secret position (a cookie, a password field) may come back anywhere
else in the exchange, and not always as it was sent: URL-encoded in a redirect, HTML-
escaped in a page, JSON-escaped in a string, base64-encoded in a blob. Each form is
searched for with the matching form of the pseudonym as its replacement.

A short value's forms are computed at once (``forms``). A long one's are not: each costs
a pass over the value, and a body of hundreds of long secrets would cost that many
passes for forms that almost never occur. ``split`` computes only the first HEAD
characters of each form (from the value's first characters: every encoding here works
character by character, base64 three bytes at a time), as a ``Deferred``; the form is
computed whole only once those characters are found in a text (``Deferred.forms``).
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from shadowtape.sanitize.percent import quote, quote_plus

#: Base64 forms are only searched for values this long (shorter ones collide).
BASE64_MIN = 8
#: The forms of values up to this long are cached: a cache of long values would hold
#: megabytes alive (each entry is a dozen encodings of its value).
FORMS_CACHED = 256
#: A value longer than this many characters has its forms deferred ...
EAGER = 64
#: ... each known by its first HEAD characters (HEAD UTF-8 bytes at most) until they
#: occur in a text. Short: they are compiled into a pattern (about 0.15 us a byte), and
#: at worst they make a form be computed that does not occur whole.
HEAD = 16
#: Base64 of this many bytes is the first HEAD characters of a longer value's base64.
_HEAD_BYTES = HEAD * 3 // 4

#: Characters no encoding below changes (besides base64), as bytes.
_PLAIN = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"


def _but(changed: bytes) -> bytes:
    """Every byte but ``changed``: what ``bytes.translate`` deletes to find them."""
    return bytes(sorted(set(range(256)) - set(changed)))


def _quote(value: str) -> tuple[str, ...]:
    return (quote(value, safe=""),)


def _quote_plus(value: str) -> tuple[str, ...]:
    return (quote_plus(value, safe=""),)


def _html_quoted(value: str) -> tuple[str, ...]:
    return (html.escape(value, quote=True),)


def _html(value: str) -> tuple[str, ...]:
    return (html.escape(value, quote=False),)


def _json(value: str) -> tuple[str, ...]:
    return (json.dumps(value)[1:-1],)


def _json_utf8(value: str) -> tuple[str, ...]:
    return (json.dumps(value, ensure_ascii=False)[1:-1],)


def _b64(value: str) -> tuple[str, ...]:
    encoded = base64.b64encode(value.encode("utf-8", "surrogatepass")).decode("ascii")
    return encoded, encoded.rstrip("=")


def _b64_url(value: str) -> tuple[str, ...]:
    encoded = base64.urlsafe_b64encode(value.encode("utf-8", "surrogatepass")).decode("ascii")
    return encoded, encoded.rstrip("=")


#: A value -> its forms in one encoding (base64: padded, then not), in search order.
Encoding = Callable[[str], tuple[str, ...]]
#: Encodings that leave a value of only _PLAIN characters as it is.
_TEXT: tuple[Encoding, ...] = (_quote, _quote_plus, _html_quoted, _html, _json, _json_utf8)
_BASE64: tuple[Encoding, ...] = (_b64, _b64_url)
#: What JSON escapes in any text (JSON with ``ensure_ascii`` also escapes past "~").
_JSON_ESCAPED = _but(bytes(range(0x20)) + b'"\\')


def _changed_by(value: str, special: bytes) -> tuple[Encoding, ...]:
    """The encodings of _TEXT that change ``value``, whose UTF-8 bytes not in _PLAIN are
    ``special`` (none when it is empty): a few whole-text searches in C."""
    if not special:
        return ()
    json = bool(special.translate(None, _JSON_ESCAPED))
    found = [_quote, _quote_plus]
    if "&" in value or "<" in value or ">" in value:
        found += (_html_quoted, _html)
    elif '"' in value or "'" in value:
        found.append(_html_quoted)
    if json or not value.isascii() or "\x7f" in value:
        found.append(_json)
    if json:
        found.append(_json_utf8)
    return tuple(found)


def forms(value: str, out: str) -> tuple[tuple[str, str], ...]:
    """A secret as it may appear elsewhere, and its replacement in the same encoding:
    the value itself first, then every form that differs from it."""
    if len(value) <= FORMS_CACHED:
        return _cached_forms(value, out)
    return _forms(value, out)


def _forms(value: str, out: str) -> tuple[tuple[str, str], ...]:
    found = {value: out}
    add = found.setdefault
    if not value.isascii() or value.encode("ascii").translate(None, _PLAIN):
        for encode in _TEXT:
            add(encode(value)[0], encode(out)[0])
    if len(value) >= BASE64_MIN:  # as _b64 and _b64_url do, each value encoded once
        raw, new = value.encode("utf-8", "surrogatepass"), out.encode("utf-8", "surrogatepass")
        for b64 in (base64.b64encode, base64.urlsafe_b64encode):
            encoded, replaced = b64(raw).decode("ascii"), b64(new).decode("ascii")
            add(encoded, replaced)
            add(encoded.rstrip("="), replaced.rstrip("="))
    return tuple((key, rep) for key, rep in found.items() if key)


_cached_forms = lru_cache(maxsize=4_096)(_forms)


@dataclass(frozen=True, slots=True)
class Deferred:
    """One encoding of a long secret, known by the first HEAD characters of its form."""

    head: str
    value: str
    out: str
    encode: Encoding

    def forms(self) -> tuple[tuple[str, str], ...]:
        """The form(s) whole, each with the same form of the pseudonym."""
        return tuple(zip(self.encode(self.value), self.encode(self.out), strict=True))


def split(value: str, out: str) -> tuple[tuple[tuple[str, str], ...], tuple[Deferred, ...]]:
    """The forms of ``value`` to search for now, and those deferred.

    A value up to EAGER characters: all of its forms now. A longer one: itself now, and
    each encoding deferred, by its first HEAD characters, unless those are the value's
    own (the form then starts like the value, and would be computed wherever the value
    occurs): such a form is computed now, and kept if it differs from the value.
    """
    if len(value) <= EAGER:
        return forms(value, out), ()
    now = {value: out}
    later = []
    start = value[:HEAD]
    special = value.encode("utf-8", "surrogatepass").translate(None, _PLAIN)
    for encode in _changed_by(value, special) + _BASE64:
        head = _head(encode, value)
        if head != start:
            later.append(Deferred(head, value, out, encode))
            continue
        for key, replacement in zip(encode(value), encode(out), strict=True):
            now.setdefault(key, replacement)
    return tuple(now.items()), tuple(later)


def _head(encode: Encoding, value: str) -> str:
    """The first characters of ``encode(value)``, from the value's first characters:
    HEAD of them, fewer where their UTF-8 would be longer than HEAD bytes (a search
    compiles a string's first HEAD bytes, and checks the rest one by one)."""
    if encode in _BASE64:
        first = value[:_HEAD_BYTES].encode("utf-8", "surrogatepass")[:_HEAD_BYTES]
        b64 = base64.b64encode if encode is _b64 else base64.urlsafe_b64encode
        return b64(first).decode("ascii")
    head = encode(value[:HEAD])[0][:HEAD]
    if head.isascii():
        return head
    data = head.encode("utf-8", "surrogatepass")
    cut = HEAD
    while cut < len(data) and data[cut] & 0xC0 == 0x80:  # inside a character: before it
        cut -= 1
    return data[:cut].decode("utf-8", "surrogatepass")
