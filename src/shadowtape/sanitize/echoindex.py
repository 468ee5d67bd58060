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
import bisect
import html
import json
from collections.abc import Iterable
from functools import lru_cache

import re2

from shadowtape.sanitize.percent import quote, quote_plus

#: Search strings are looked up by their first WIDTH characters (all are that long).
WIDTH = 6
#: Trie levels (WIDTH characters each); longer search strings are compared whole.
MAX_DEPTH = 16
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


class _Node:
    """A trie node: search strings go down WIDTH characters per level."""

    __slots__ = ("children", "ends", "long")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        #: The rest of a search string shorter than WIDTH (possibly "") -> the string.
        self.ends: dict[str, str] = {}
        #: At the deepest level: strings longer than the trie, checked whole, longest first.
        self.long: list[str] = []


class EchoIndex:
    """Search strings -> replacements, found in one left-to-right pass over a text.

    Every search string is at least WIDTH characters long (context.ECHO_MIN), so the
    strings form a trie with WIDTH characters per edge: each position of a text costs a
    dict look-up, and one more per WIDTH characters of a string that starts there, up
    to MAX_DEPTH levels; longer strings are compared whole once their first
    WIDTH * MAX_DEPTH characters matched. Strings sharing a prefix (``tok0001``,
    ``tok0002``...) cost no more than one. Adding a string, between searches, costs a
    few dict inserts.
    """

    __slots__ = ("_echo", "_root", "_short")

    def __init__(self, echo: dict[str, str]) -> None:
        self._echo = echo
        self._root = _Node()
        self._short: list[str] = []
        self.add(echo)

    def add(self, keys: Iterable[str]) -> None:
        for key in keys:
            if len(key) < WIDTH:
                self._short.append(key)
                continue
            node = self._root
            at = 0
            depth = 0
            while len(key) - at >= WIDTH and depth < MAX_DEPTH:
                chunk = key[at : at + WIDTH]
                child = node.children.get(chunk)
                if child is None:
                    child = node.children[chunk] = _Node()
                node, at, depth = child, at + WIDTH, depth + 1
            if len(key) - at < WIDTH:
                node.ends[key[at:]] = key
            else:
                bisect.insort(node.long, key, key=lambda k: -len(k))

    def _match(self, text: str, start: int) -> str | None:
        """The longest search string that starts at ``start``, if any."""
        node = self._root
        at = start
        best = None
        for _ in range(MAX_DEPTH):
            child = node.children.get(text[at : at + WIDTH])
            if child is None:
                break
            node, at = child, at + WIDTH
            ends = node.ends
            if ends:
                for size in range(min(WIDTH - 1, len(text) - at), -1, -1):
                    key = ends.get(text[at : at + size])
                    if key is not None:
                        best = key
                        break
        else:
            for key in node.long:
                if text.startswith(key, start):
                    return key
        return best

    def _find(self, text: str, start: int) -> tuple[int, str] | None:
        get = self._root.children.get
        for at in range(start, len(text) - WIDTH + 1):
            if get(text[at : at + WIDTH]) is not None:
                key = self._match(text, at)
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
