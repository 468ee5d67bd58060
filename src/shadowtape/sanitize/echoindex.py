"""Finding known secrets again: many search strings at once (echoforms lists them).

``EchoIndex`` searches for all of them at once, so there is no cap on how many secrets
one exchange may hold: a short text in one left-to-right pass with a dict look-up per
position, a long one (a body) with RE2 patterns of the search strings, in C.
"""

from __future__ import annotations

import bisect
import sys
from collections.abc import Callable, Iterable
from typing import TypeAlias

import re2

from shadowtape.sanitize.splice import Edit, splice

#: Search strings are looked up by their first WIDTH characters (all are that long).
WIDTH = 6
#: Trie levels (WIDTH characters each); longer search strings are compared whole.
MAX_DEPTH = 16
#: Texts this long or longer are searched with RE2 patterns (one C pass per pattern);
#: shorter ones with the trie (a dict look-up per position, in Python).
LONG = 512
#: Search strings added since the patterns were last compiled are looked for one by
#: one (``bytes.find``) up to this many; past it they are compiled into a pattern, and
#: patterns of similar size are merged (each string is compiled a logarithmic number of
#: times, and a search runs a logarithmic number of patterns).
PENDING = 32
#: Work units (``Context.spend``, about a microsecond each): a search string compiled
#: into a pattern (~10 us), and an echo found in a long text and replaced (~5 us), or
#: a long search string's first bytes found without the rest.
COMPILE_COST = 10
MATCH_COST = 5
#: ... and a search string found by ``occurring`` (about a microsecond).
HIT_COST = 1
#: ``occurring`` compiles a pattern anew without the strings it found once it has found
#: them again this many times.
REPEATS = 32
#: A search string longer than this many bytes is compiled as its first PREFIX bytes,
#: and checked whole where those occur: RE2 takes about 0.2 us a byte to compile, and
#: its search slows down as the pattern grows, so a few secrets of kilobytes would
#: otherwise cost more than the text they are searched in (and fail to compile).
PREFIX = 64
#: The trie reads about this many characters in the time one string takes to compile:
#: a long text still goes to the trie while compiling what is new would cost more.
CHARS_PER_COMPILE = 64


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False
    options.max_mem = 64 << 20
    # Byte-exact: patterns are search strings' UTF-8 bytes, texts their UTF-8 bytes
    # (or a binary body), so a match is the same as a substring match on the text.
    options.encoding = re2.Options.Encoding.LATIN1
    options.longest_match = True
    return options


_OPTIONS = _options()


class _Node:
    """A trie node: search strings go down WIDTH characters per level. A node is grown
    lazily: the strings that pass through it wait in ``pending`` until a search first
    reaches it, so strings whose first characters never occur cost one dict look-up
    each, not one node per WIDTH characters."""

    __slots__ = ("children", "depth", "ends", "long", "pending")

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.children: dict[str, _Node] = {}
        #: The rest of a search string shorter than WIDTH (possibly "") -> the string.
        self.ends: dict[str, str] = {}
        #: At the deepest level: strings longer than the trie, checked whole, longest first.
        self.long: list[str] = []
        #: Strings that reach this node, not yet put in its children, ends or long.
        self.pending: list[str] = []

    def expand(self) -> None:
        """Put the pending strings one level further down."""
        at = self.depth * WIDTH
        deepest = self.depth >= MAX_DEPTH
        for key in self.pending:
            if len(key) - at < WIDTH:
                self.ends[key[at:]] = key
            elif deepest:
                bisect.insort(self.long, key, key=lambda k: -len(k))
            else:
                chunk = key[at : at + WIDTH]
                child = self.children.get(chunk)
                if child is None:
                    child = self.children[chunk] = _Node(self.depth + 1)
                child.pending.append(key)
        self.pending = []


class EchoIndex:
    """Search strings -> replacements, found all at once, leftmost and longest first.

    A short text is searched in one left-to-right pass: every search string is at least
    WIDTH characters long (context.ECHO_MIN), so the strings form a trie with WIDTH
    characters per edge, and each position costs a dict look-up, and one more per WIDTH
    characters of a string that starts there, up to MAX_DEPTH levels; longer strings
    are compared whole once their first WIDTH * MAX_DEPTH characters matched.

    A long text (LONG characters or more) would cost that per character in Python, so
    it is searched in C: the search strings are compiled into RE2 patterns in batches
    (see PENDING), each pattern runs over the text's UTF-8 bytes, and the earliest
    match among them wins. Compiling and each echo found are paid for with ``spend``.
    Adding a string, between searches, costs a few dict inserts (the trie is grown when
    a short text needs it). A string of LONG characters or more is never in the trie
    (no shorter text can hold it): once there is one, a long text is always searched
    with patterns.
    """

    __slots__ = (
        "_compile_cost",
        "_compiled",
        "_echo",
        "_giant",
        "_keys",
        "_levels",
        "_patterns",
        "_root",
        "_short",
        "_shortest",
        "_spend",
        "_untried",
    )

    def __init__(
        self,
        echo: dict[str, str],
        spend: Callable[[int], None] | None = None,
        *,
        patterns: bool = False,
        compile_cost: int = COMPILE_COST,
    ) -> None:
        """``patterns``: search every text with patterns, a short one too (never grow a
        trie: for strings that are searched for in long texts far more than in short).
        ``compile_cost``: work units per string compiled (for strings shorter than PREFIX
        bytes, less: RE2 compiles about 0.15 us a byte)."""
        self._echo = echo
        self._compile_cost = compile_cost
        self._root = _Node(0)
        self._short: list[str] = []
        #: The length of the shortest search string: no shorter text holds one.
        self._shortest = sys.maxsize
        #: Strings added but not yet in the trie (``_grow``) ...
        self._untried: list[str] = []
        #: ... and whether any is LONG or longer: those are only searched with patterns.
        self._giant = patterns
        self._patterns = patterns
        #: Every search string as UTF-8 bytes, in the order added ...
        self._keys: list[bytes] = []
        #: ... the first ``_compiled`` of them in patterns: (first, end, searchers).
        self._levels: list[tuple[int, int, list[Searcher]]] = []
        self._compiled = 0
        self._spend = spend
        self.add(echo)

    def add(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._keys.append(key.encode("utf-8", "surrogatepass"))
            self._shortest = min(self._shortest, len(key))
            if len(key) < WIDTH:
                self._short.append(key)
            elif len(key) < LONG:
                self._untried.append(key)
            else:
                self._giant = True  # never in the trie: only a long text can hold it

    def _grow(self) -> None:
        """Put the strings added since into the trie (only a short text needs it: a body
        of long secrets is searched with patterns, and never pays for their trie). Each
        goes under its first WIDTH characters; deeper levels are made when a search
        first reaches them (``_Node.expand``)."""
        root = self._root
        for key in self._untried:
            chunk = key[:WIDTH]
            child = root.children.get(chunk)
            if child is None:
                child = root.children[chunk] = _Node(1)
            child.pending.append(key)
        self._untried.clear()

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
            if node.pending:
                node.expand()
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
        if self._untried:
            self._grow()
        get = self._root.children.get
        for at in range(start, len(text) - WIDTH + 1):
            if get(text[at : at + WIDTH]) is not None:
                key = self._match(text, at)
                if key is not None:
                    return at, key
        return None

    def contains(self, text: str | bytes) -> bool:
        """Does ``text`` hold a search string (bytes: as its UTF-8 bytes)?"""
        if len(text) < self._shortest:  # a string's UTF-8 is no shorter than it
            return False
        if isinstance(text, bytes):
            decoded = self._as_text(text)
            if decoded is not None:
                return self.contains(decoded)
            if any(key.encode("utf-8", "surrogatepass") in text for key in self._short):
                return True
            return self._next(text, 0, self._searchers()) is not None
        if self._short and any(map(text.__contains__, self._short)):
            return True
        if self._long(text):
            data = text.encode("utf-8", "surrogatepass")
            return self._next(data, 0, self._searchers()) is not None
        return self._find(text, 0) is not None

    def _long(self, text: str) -> bool:
        """Search ``text`` with the patterns? (Else with the trie, in Python.)"""
        if self._patterns:
            return True
        if len(text) < LONG:
            return False
        new = len(self._keys) - self._compiled
        return self._giant or new <= PENDING or len(text) >= new * CHARS_PER_COMPILE

    def occurring(self, text: str | bytes) -> set[str]:
        """The search strings found in ``text`` (or in bytes, as their UTF-8 bytes),
        overlapping ones too, but only the longest at each position. Each occurrence
        found is paid for (HIT_COST: a set insert, no replacement); a pattern that finds
        the same strings again and again (a text that repeats them) is compiled anew
        without them once it has found REPEATS occurrences of those it knows."""
        if not (isinstance(text, bytes) or self._long(text)):
            found = {key for key in self._short if key in text}
            at = self._find(text, 0)
            while at is not None:
                found.add(at[1])
                self._pay(HIT_COST)
                at = self._find(text, at[0] + 1)
            return found
        data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
        seen = {key for key in map(_utf8, self._short) if key in data}
        self._searchers()  # compiles what is pending past PENDING
        groups = [(self._keys[first:end], level) for first, end, level in self._levels]
        groups += [([key], [key]) for key in self._keys[self._compiled :]]
        for keys, level in groups:
            for searcher in level:
                self._occurring(data, searcher, keys, seen)
        return {key.decode("utf-8", "surrogatepass") for key in seen}

    def _occurring(
        self, data: bytes, searcher: Searcher, keys: list[bytes], seen: set[bytes]
    ) -> None:
        """Add to ``seen`` what ``searcher`` (one of ``keys``' searchers) finds in ``data``."""
        pos = 0
        repeats = 0
        while (hit := _search(searcher, data, pos)) is not None:
            start, end = hit
            self._pay(HIT_COST)
            key = data[start:end]
            if key not in seen:
                seen.add(key)
            elif (repeats := repeats + 1) >= REPEATS:
                rest = _alike(searcher, keys, seen)
                if not rest:
                    return
                self._pay(len(rest) * self._compile_cost)
                searcher = _searcher_like(searcher, rest, self._spend)
                repeats = 0
            pos = start + 1

    def _pay(self, units: int) -> None:
        if self._spend is not None:
            self._spend(units)

    def sub(self, text: str) -> str:
        return splice(text, self.edits(text))

    def edits(self, text: str) -> list[Edit]:
        """Where search strings occur in ``text`` (leftmost, then longest) and their
        replacements, in ``text``'s offsets."""
        if len(text) < self._shortest:
            return []
        echo = self._echo
        if self._long(text):
            data = text.encode("utf-8", "surrogatepass")
            spans = self._spans(data)
            if not spans:
                return []
            if len(data) != len(text):
                spans = _char_spans(data, spans)
            return [(start, end, echo[text[start:end]]) for start, end in spans]
        found: list[Edit] = []
        at = self._find(text, 0)
        while at is not None:
            start, key = at
            found.append((start, start + len(key), echo[key]))
            at = self._find(text, start + len(key))
        if self._short:  # strings shorter than the trie's steps: all searched one by one
            return scan(text, list(echo), echo)
        return found

    def sub_bytes(self, data: bytes) -> bytes:
        """Bytes that are not text: each string is searched for as its UTF-8 bytes."""
        if len(data) < self._shortest:
            return data
        decoded = self._as_text(data)
        if decoded is not None:
            return self.sub(decoded).encode("utf-8", "surrogatepass")
        pieces: list[bytes] = []
        done = 0
        for start, end in self._spans(data):
            key = data[start:end].decode("utf-8", "surrogatepass")
            pieces += (data[done:start], self._echo[key].encode("utf-8", "surrogatepass"))
            done = end
        if not pieces:
            return data
        pieces.append(data[done:])
        return b"".join(pieces)

    def _as_text(self, data: bytes) -> str | None:
        """Short bytes as the text they spell, to be searched without patterns (a match
        of a string's UTF-8 bytes in valid UTF-8 starts and ends on character
        boundaries, so it is the same match in the text); None: search the bytes."""
        if self._patterns or len(data) >= LONG:
            return None
        try:
            return data.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            return None

    # -- long texts ------------------------------------------------------------------

    def _searchers(self) -> list[Searcher]:
        """The patterns, then the strings not compiled yet (compiling them past PENDING)."""
        if len(self._keys) - self._compiled > PENDING:
            self._levels.append(self._compile(self._compiled, len(self._keys)))
            self._compiled = len(self._keys)
            levels = self._levels
            while len(levels) >= 2 and _size(levels[-2]) <= _size(levels[-1]):
                first = levels[-2][0]
                levels[-2:] = [self._compile(first, levels[-1][1])]
        searchers = [searcher for _first, _end, level in self._levels for searcher in level]
        return searchers + self._keys[self._compiled :]

    def _compile(self, first: int, end: int) -> tuple[int, int, list[Searcher]]:
        """Strings ``first`` to ``end``: those up to PREFIX bytes in one pattern, the
        longer ones by their first PREFIX bytes in another."""
        if self._spend is not None:
            self._spend((end - first) * self._compile_cost)
        keys = dict.fromkeys(self._keys[first:end])
        whole = [key for key in keys if len(key) <= PREFIX]
        longer: dict[bytes, list[bytes]] = {}
        for key in keys:
            if len(key) > PREFIX:
                longer.setdefault(key[:PREFIX], []).append(key)
        level: list[Searcher] = []
        if whole:
            level.append(_pattern(whole))
        if longer:
            level.append(_Prefixed(longer, self._spend))
        return first, end, level

    def _next(self, data: bytes, pos: int, searchers: list[Searcher]) -> tuple[int, int] | None:
        """The earliest (then longest) match at or after ``pos``."""
        best: tuple[int, int] | None = None
        for searcher in searchers:
            found = _search(searcher, data, pos)
            if found is not None and (
                best is None or found[0] < best[0] or (found[0] == best[0] and found[1] > best[1])
            ):
                best = found
        return best

    def _spans(self, data: bytes) -> list[tuple[int, int]]:
        """Where the search strings occur in ``data`` (leftmost, then longest).

        Each searcher's next match is remembered and looked for again only once the
        search has moved past its start, so each searcher reads the data about once.
        """
        searchers = self._searchers()
        ahead: list[tuple[int, int] | None] = [(-1, -1)] * len(searchers)
        spans: list[tuple[int, int]] = []
        done = 0
        replaced = 0
        while True:
            best: tuple[int, int] | None = None
            for i, searcher in enumerate(searchers):
                found = ahead[i]
                if found is not None and found[0] < done:
                    found = ahead[i] = _search(searcher, data, done)
                if found is not None and (
                    best is None
                    or found[0] < best[0]
                    or (found[0] == best[0] and found[1] > best[1])
                ):
                    best = found
            if best is None:
                break
            spans.append(best)
            done = best[1]
            replaced += 1
            if self._spend is not None and replaced % 64 == 0:
                self._spend(64 * MATCH_COST)
        return spans


def scan(text: str, keys: list[str], echo: dict[str, str]) -> list[Edit]:
    """Where ``keys`` occur in ``text``, leftmost then longest, none overlapping, with
    their replacements: the next occurrence of each key is remembered and looked for
    again (``str.find``, in C) once the scan has passed it."""
    ahead = [text.find(key) for key in keys]
    found: list[Edit] = []
    done = 0
    while True:
        best = -1
        for i, at in enumerate(ahead):
            if 0 <= at < done:
                at = ahead[i] = text.find(keys[i], done)
            if at >= 0 and (
                best < 0
                or at < ahead[best]
                or (at == ahead[best] and len(keys[i]) > len(keys[best]))
            ):
                best = i
        if best < 0:
            return found
        at, key = ahead[best], keys[best]
        found.append((at, at + len(key), echo[key]))
        done = at + len(key)


def _char_spans(data: bytes, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Byte spans of UTF-8 ``data`` (each on character boundaries) as character spans."""
    out = []
    byte = char = 0
    for start, end in spans:
        char += len(data[byte:start].decode("utf-8", "surrogatepass"))
        size = len(data[start:end].decode("utf-8", "surrogatepass"))
        out.append((char, char + size))
        char += size
        byte = end
    return out


def _pattern(keys: list[bytes]) -> re2._Regexp:
    return re2.compile(b"|".join(map(re2.escape, keys)), _OPTIONS)


class _Prefixed:
    """Search strings longer than PREFIX bytes, found by their first PREFIX bytes (one
    pattern) and checked whole where those occur, longest first."""

    __slots__ = ("_keys", "_pattern", "_spend")

    def __init__(self, keys: dict[bytes, list[bytes]], spend: Callable[[int], None] | None):
        self._keys = {prefix: sorted(same, key=len, reverse=True) for prefix, same in keys.items()}
        self._pattern = _pattern(list(keys))
        self._spend = spend

    def search(self, data: bytes, pos: int) -> tuple[int, int] | None:
        """The first string found whole at or after ``pos`` (longest at its start)."""
        while (found := self._pattern.search(data, pos)) is not None:
            start = found.start()
            for key in self._keys[data[start : start + PREFIX]]:
                if data.startswith(key, start):
                    return start, start + len(key)
            if self._spend is not None:
                self._spend(MATCH_COST)  # the first bytes of a secret, not the secret
            pos = start + 1
        return None


#: What searches a long text: a pattern, long strings by their first bytes, or a string
#: not compiled yet.
Searcher: TypeAlias = "re2._Regexp | _Prefixed | bytes"


def _size(level: tuple[int, int, list[Searcher]]) -> int:
    return level[1] - level[0]


def _utf8(key: str) -> bytes:
    return key.encode("utf-8", "surrogatepass")


def _alike(searcher: Searcher, keys: list[bytes], seen: set[bytes]) -> list[bytes]:
    """The strings of ``keys`` that ``searcher`` looks for, but for those ``seen``."""
    if isinstance(searcher, bytes):
        return [] if searcher in seen else [searcher]
    longer = isinstance(searcher, _Prefixed)
    mine = (key for key in dict.fromkeys(keys) if (len(key) > PREFIX) == longer)
    return [key for key in mine if key not in seen]


def _searcher_like(
    searcher: Searcher, keys: list[bytes], spend: Callable[[int], None] | None
) -> Searcher:
    """A searcher of the same kind as ``searcher`` for ``keys``."""
    if isinstance(searcher, _Prefixed):
        longer: dict[bytes, list[bytes]] = {}
        for key in keys:
            longer.setdefault(key[:PREFIX], []).append(key)
        return _Prefixed(longer, spend)
    return keys[0] if isinstance(searcher, bytes) else _pattern(keys)


def _search(searcher: Searcher, data: bytes, pos: int) -> tuple[int, int] | None:
    if isinstance(searcher, bytes):
        at = data.find(searcher, pos)
        return None if at < 0 else (at, at + len(searcher))
    if isinstance(searcher, _Prefixed):
        return searcher.search(data, pos)
    found = searcher.search(data, pos)
    return None if found is None else found.span()
