"""Finding known secrets again: every encoded form of a value, and many values at once.

A value found in a secret position (a cookie, a password field) may come back anywhere
else in the exchange, and not always as it was sent: URL-encoded in a redirect, HTML-
escaped in a page, JSON-escaped in a string, base64-encoded in a blob. ``forms`` lists
those forms with the matching form of the pseudonym, so an echo is replaced by the
replacement a reader would expect in that place.

``EchoIndex`` searches for all of them in one left-to-right pass, a dict look-up per
position (see EchoIndex), so there is no cap on how many secrets one exchange may hold
and no search costs more than a pass over its text.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterable
from functools import lru_cache

import re2

from shadowtape.sanitize.percent import quote, quote_plus

#: Search strings are looked up by their first WIDTH characters (all are that long).
WIDTH = 6
#: Search strings sharing a prefix tried one by one, up to this many.
BUCKET_LIST = 8
#: Base64 forms are only searched for values this long (shorter ones collide).
BASE64_MIN = 8


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False
    options.max_mem = 32 << 20
    return options


_OPTIONS = _options()


#: Characters no encoding below changes (besides base64).
_PLAIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


@lru_cache(maxsize=4_096)
def forms(value: str, out: str) -> tuple[tuple[str, str], ...]:
    """A secret as it may appear elsewhere, and its replacement in the same encoding."""
    found = {value: out}
    add = found.setdefault
    if not (value.isascii() and set(value) <= _PLAIN):
        for encode in (quote, quote_plus):
            add(encode(value, safe=""), encode(out, safe=""))
        add(html.escape(value, quote=True), html.escape(out, quote=True))
        add(html.escape(value, quote=False), html.escape(out, quote=False))
        add(json.dumps(value)[1:-1], json.dumps(out)[1:-1])
        add(json.dumps(value, ensure_ascii=False)[1:-1], json.dumps(out, ensure_ascii=False)[1:-1])
    if len(value) >= BASE64_MIN:
        raw, new = value.encode("utf-8", "surrogatepass"), out.encode("utf-8", "surrogatepass")
        for b64 in (base64.b64encode, base64.urlsafe_b64encode):
            encoded, replaced = b64(raw).decode("ascii"), b64(new).decode("ascii")
            add(encoded, replaced)
            add(encoded.rstrip("="), replaced.rstrip("="))
    return tuple((key, rep) for key, rep in found.items() if key)


class _Bucket:
    """The search strings that share their first WIDTH characters, longest first.

    A few are tried one by one; past BUCKET_LIST (secrets made to share a prefix), they
    are tried at once with an anchored RE2 alternation, so a position costs at most the
    length of the longest string, however many share its prefix.
    """

    __slots__ = ("_pattern", "keys")

    def __init__(self) -> None:
        self.keys: list[str] = []
        self._pattern: re2._Regexp | None = None

    def add(self, key: str) -> None:
        self.keys.append(key)
        self.keys.sort(key=len, reverse=True)
        self._pattern = None

    def match(self, text: str, at: int) -> str | None:
        if len(self.keys) <= BUCKET_LIST:
            for key in self.keys:
                if text.startswith(key, at):
                    return key
            return None
        if self._pattern is None:
            self._pattern = re2.compile("|".join(map(re2.escape, self.keys)), _OPTIONS)
        found = self._pattern.match(text, at)
        return None if found is None else str(found.group(0))


class EchoIndex:
    """Search strings -> replacements, found in one left-to-right pass over a text.

    Every search string is at least WIDTH characters long (context.ECHO_MIN), so each
    position of a text is looked up by the WIDTH characters that start there: one dict
    look-up per position, whatever the number of secrets. Strings are added as they are
    found, between searches, at no more cost than a dict insert.
    """

    __slots__ = ("_buckets", "_echo", "_short")

    def __init__(self, echo: dict[str, str]) -> None:
        self._echo = echo
        self._buckets: dict[str, _Bucket] = {}
        self._short: list[str] = []
        self.add(echo)

    def add(self, keys: Iterable[str]) -> None:
        for key in keys:
            if len(key) < WIDTH:
                self._short.append(key)
                continue
            bucket = self._buckets.get(key[:WIDTH])
            if bucket is None:
                bucket = self._buckets[key[:WIDTH]] = _Bucket()
            bucket.add(key)

    def _find(self, text: str, start: int) -> tuple[int, str] | None:
        get = self._buckets.get
        for at in range(start, len(text) - WIDTH + 1):
            bucket = get(text[at : at + WIDTH])
            if bucket is not None:
                key = bucket.match(text, at)
                if key is not None:
                    return at, key
        return None

    def contains(self, text: str) -> bool:
        if self._short and any(map(text.__contains__, self._short)):
            return True
        return self._find(text, 0) is not None

    def sub(self, text: str) -> str:
        echo = self._echo
        pieces: list[str] = []
        done = 0
        found = self._find(text, 0)
        while found is not None:
            at, key = found
            pieces += (text[done:at], echo[key])
            done = at + len(key)
            found = self._find(text, done)
        if pieces:
            pieces.append(text[done:])
            text = "".join(pieces)
        for key in sorted(self._short, key=len, reverse=True):
            if key in text:
                text = text.replace(key, echo[key])
        return text

    def sub_bytes(self, data: bytes) -> bytes:
        """Bytes that are not text: searched as Latin-1, each string as its UTF-8 bytes."""
        as_latin1 = {
            key.encode("utf-8", "surrogatepass").decode("latin-1"): value.encode(
                "utf-8", "surrogatepass"
            ).decode("latin-1")
            for key, value in self._echo.items()
        }
        text = data.decode("latin-1")
        new = EchoIndex(as_latin1).sub(text)
        return data if new == text else new.encode("latin-1")
