"""Finding known secrets again: every encoded form of a value, and many values at once.

A value found in a secret position (a cookie, a password field) may come back anywhere
else in the exchange, and not always as it was sent: URL-encoded in a redirect, HTML-
escaped in a page, JSON-escaped in a string, base64-encoded in a blob. ``forms`` lists
those forms with the matching form of the pseudonym, so an echo is replaced by the
replacement a reader would expect in that place.

``EchoIndex`` searches for all of them in one pass per group of about 8 KiB of search
strings: RE2 alternations of literals (linear in the text, no backtracking), grouped so
each automaton stays small enough for RE2's DFA. There is no cap on how many secrets
one exchange may hold.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable, Iterator
from functools import lru_cache

import re2

from shadowtape.sanitize.percent import quote, quote_plus

#: Search strings per RE2 alternation, counted in characters (keeps its DFA in memory).
GROUP_CHARS = 8_192
#: Base64 forms are only searched for values this long (shorter ones collide).
BASE64_MIN = 8


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False
    options.max_mem = 32 << 20
    return options


_OPTIONS = _options()


@lru_cache(maxsize=4_096)
def forms(value: str, out: str) -> tuple[tuple[str, str], ...]:
    """A secret as it may appear elsewhere, and its replacement in the same encoding."""
    found = {value: out}
    add = found.setdefault
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


class EchoIndex:
    """Search strings -> replacements, searched in one pass per group (built lazily)."""

    __slots__ = ("_bytes", "_echo", "_text")

    def __init__(self, echo: dict[str, str]) -> None:
        self._echo = echo
        self._text: list[re2._Regexp] | None = None
        self._bytes: list[re2._Regexp] | None = None

    def _groups(self) -> Iterator[str]:
        keys = sorted(self._echo, key=len, reverse=True)
        group: list[str] = []
        size = 0
        for key in keys:
            escaped = re2.escape(key)
            if group and size + len(escaped) > GROUP_CHARS:
                yield "|".join(group)
                group, size = [], 0
            group.append(escaped)
            size += len(escaped) + 1
        if group:
            yield "|".join(group)

    def _text_patterns(self) -> list[re2._Regexp]:
        if self._text is None:
            self._text = [re2.compile(p, _OPTIONS) for p in self._groups()]
        return self._text

    def _bytes_patterns(self) -> list[re2._Regexp]:
        if self._bytes is None:
            self._bytes = [
                re2.compile(p.encode("utf-8", "surrogatepass"), _OPTIONS) for p in self._groups()
            ]
        return self._bytes

    def contains(self, text: str) -> bool:
        if text.isascii():
            raw = text.encode("ascii")
            return any(p.search(raw) is not None for p in self._bytes_patterns())
        return any(p.search(text) is not None for p in self._text_patterns())

    def sub(self, text: str) -> str:
        echo = self._echo
        if text.isascii():
            raw = text.encode("ascii")
            new = self._sub_bytes(raw, _bytes_lookup(echo))
            return new.decode("utf-8", "surrogatepass") if new is not raw else text
        for pattern in self._text_patterns():
            if pattern.search(text) is not None:
                text = pattern.sub(lambda m: echo[m.group(0)], text)
        return text

    def sub_bytes(self, data: bytes) -> bytes:
        return self._sub_bytes(data, _bytes_lookup(self._echo))

    def _sub_bytes(self, data: bytes, lookup: Callable[[bytes], bytes]) -> bytes:
        for pattern in self._bytes_patterns():
            if pattern.search(data) is not None:
                data = pattern.sub(lambda m: lookup(m.group(0)), data)
        return data


def _bytes_lookup(echo: dict[str, str]) -> Callable[[bytes], bytes]:
    def lookup(found: bytes) -> bytes:
        key = found.decode("utf-8", "surrogatepass")
        return echo[key].encode("utf-8", "surrogatepass")

    return lookup
