"""Finding known secrets again: many search strings at once (echoforms lists them).

``EchoIndex`` searches for all of them at once, so there is no cap on how many secrets
one exchange may hold: each text is searched as its UTF-8 bytes in C, leftmost match
first and the longest there, in passes linear in the text whatever the strings are
(strings sharing long beginnings included): a short text by a set look-up of each of
its slices, a longer one by RE2 patterns of the strings, or Aho-Corasick automata
(ahocorasick-rs) when there are many (an automaton is built several times faster).
"""

from __future__ import annotations

import bisect
import sys
from collections.abc import Callable, Iterable
from typing import TypeAlias

import ahocorasick_rs
import re2

from shadowtape.sanitize.splice import Edit, splice

#: Every search string is at least this long (context.ECHO_MIN).
WIDTH = 6
#: Texts this long or longer are long: context remembers which it resolved last.
LONG = 512
#: Search strings added since the searchers were last built are looked for one by one
#: (``bytes.find``) up to this many; past it they are built into a searcher, and
#: searchers of similar size are merged (each string is built a logarithmic number of
#: times, and a search runs a logarithmic number of searchers).
PENDING = 32
#: Work units (``Context.spend``, about a microsecond each): a KiB of search strings
#: compiled into an RE2 pattern and its first search (130-290 ns a byte), or built into
#: an automaton (30-60 ns a byte) ...
PATTERN_PER_KIB = 200
AUTOMATON_PER_KIB = 40
#: ... an echo found in a text and replaced (~5 us), or a long search string's first
#: bytes found without the rest ...
MATCH_COST = 5
#: ... and a search string found by ``occurring`` (about a microsecond).
HIT_COST = 1
#: ``occurring`` builds a searcher anew without the strings it found once it has found
#: them again this many times.
REPEATS = 32
#: A search string longer than this many bytes is built in as its first PREFIX bytes,
#: and checked whole where those occur: RE2 takes about 0.15 us a byte to compile, an
#: automaton about a third of it, so a few secrets of kilobytes would otherwise cost
#: more than the text they are searched in.
PREFIX = 64
#: An automaton is built four to eight times faster than an RE2 pattern of the same
#: strings, but searches a text that is full of the strings' bytes at about 5 ns a byte
#: where RE2 takes less than one: the strings are built into an automaton when their
#: bytes, times this, are more than the text searched when they are built (a text is
#: usually searched again, and other texts of the exchange are about as long).
AUTOMATON_RATIO = 32
#: Long strings sharing their first PREFIX bytes, compared whole at a place where those
#: occur: a unit of work per this many compared.
COMPARED_PER_UNIT = 8
#: A text is looked up slice by slice (each length a search string has, at each
#: position: a set look-up in C each) when that is at most this many look-ups: a header
#: or a short field needs no searcher built for it.
SMALL = 256
#: An automaton searches a text in windows: this many bytes past twice its longest
#: string after a match it was not asked about (another searcher's overlapped it), and
#: FAR bytes at a time on from where it left off.
NEAR = 256
FAR = 64 * 1024


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


class EchoIndex:
    """Search strings -> replacements, found all at once, leftmost and longest first.

    Every text is searched as its UTF-8 bytes (a binary body as it is). A short one is
    looked up slice by slice (see SMALL); otherwise the search strings are built into
    searchers in batches (see PENDING): RE2 patterns, or Aho-Corasick automata for
    many strings (see AUTOMATON_RATIO). Each runs over the bytes in C, and the earliest
    match among them wins (the longest there). Building and each echo found are paid
    for with ``spend``. Adding a string, between searches, costs a few inserts.
    """

    __slots__ = (
        "_compiled",
        "_echo",
        "_keys",
        "_known",
        "_lengths",
        "_levels",
        "_shortest",
        "_spend",
    )

    def __init__(
        self,
        echo: dict[str, str],
        spend: Callable[[int], None] | None = None,
    ) -> None:
        self._echo = echo
        #: The length of the shortest search string: no shorter text holds one.
        self._shortest = sys.maxsize
        #: Every search string as UTF-8 bytes, in the order added; those a short text
        #: may hold (SMALL bytes at most) as a set, and the lengths they have (longest
        #: first) ...
        self._keys: list[bytes] = []
        self._known: set[bytes] = set()
        self._lengths: list[int] = []
        #: ... the first ``_compiled`` of them built: (first, end, searchers).
        self._levels: list[tuple[int, int, list[Searcher]]] = []
        self._compiled = 0
        self._spend = spend
        self.add(echo)

    def add(self, keys: Iterable[str]) -> None:
        for key in keys:
            if key:
                data = key.encode("utf-8", "surrogatepass")
                self._keys.append(data)
                if len(data) <= SMALL:  # no text short enough for _small holds a longer one
                    self._known.add(data)
                    if len(data) not in self._lengths:
                        bisect.insort(self._lengths, len(data), key=lambda size: -size)
                self._shortest = min(self._shortest, len(key))

    def contains(self, text: str | bytes) -> bool:
        """Does ``text`` hold a search string (bytes: as its UTF-8 bytes)?"""
        if len(text) < self._shortest:  # a string's UTF-8 is no shorter than it
            return False
        data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
        small = self._small(data, first=True)
        if small is not None:
            return bool(small)
        return self._next(data, 0, self._searchers(len(data))) is not None

    def occurring(self, text: str | bytes) -> set[str]:
        """The search strings found in ``text`` (or in bytes, as their UTF-8 bytes),
        overlapping ones too, but only the longest at each position. Each occurrence
        found is paid for (HIT_COST: a set insert, no replacement); a searcher that finds
        the same strings again and again (a text that repeats them) is built anew
        without them once it has found REPEATS occurrences of those it knows."""
        if len(text) < self._shortest:
            return set()
        data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
        seen: set[bytes] = set()
        self._searchers(len(data))  # builds what is pending past PENDING
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
                searcher = self._like(searcher, rest, len(data))
                repeats = 0
            pos = start + 1

    def _like(self, searcher: Searcher, keys: list[bytes], text: int) -> Searcher:
        """A searcher of the same kind as ``searcher`` for ``keys`` (paid for)."""
        if isinstance(searcher, bytes):
            return keys[0]
        if isinstance(searcher, _Prefixed):
            longer: dict[bytes, list[bytes]] = {}
            for key in keys:
                longer.setdefault(key[:PREFIX], []).append(key)
            return _Prefixed(self._built(list(longer), text), longer, self._spend)
        return self._built(keys, text)

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
        data = text.encode("utf-8", "surrogatepass")
        spans = self._spans(data)
        if not spans:
            return []
        if len(data) != len(text):
            spans = _char_spans(data, spans)
        return [(start, end, echo[text[start:end]]) for start, end in spans]

    def sub_bytes(self, data: bytes) -> bytes:
        """Bytes that are not text: each string is searched for as its UTF-8 bytes."""
        if len(data) < self._shortest:
            return data
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

    # -- searchers -------------------------------------------------------------------

    def _searchers(self, text: int) -> list[Searcher]:
        """The searchers, then the strings not built in yet (building them past PENDING)."""
        if len(self._keys) - self._compiled > PENDING:
            self._levels.append(self._compile(self._compiled, len(self._keys), text))
            self._compiled = len(self._keys)
            levels = self._levels
            while len(levels) >= 2 and _size(levels[-2]) <= _size(levels[-1]):
                first = levels[-2][0]
                levels[-2:] = [self._compile(first, levels[-1][1], text)]
        searchers = [searcher for _first, _end, level in self._levels for searcher in level]
        return searchers + self._keys[self._compiled :]

    def _compile(self, first: int, end: int, text: int) -> tuple[int, int, list[Searcher]]:
        """Strings ``first`` to ``end``: those up to PREFIX bytes in one searcher, the
        longer ones by their first PREFIX bytes in another."""
        keys = dict.fromkeys(self._keys[first:end])
        whole = [key for key in keys if len(key) <= PREFIX]
        longer: dict[bytes, list[bytes]] = {}
        for key in keys:
            if len(key) > PREFIX:
                longer.setdefault(key[:PREFIX], []).append(key)
        level: list[Searcher] = []
        if whole:
            level.append(self._built(whole, text))
        if longer:
            level.append(_Prefixed(self._built(list(longer), text), longer, self._spend))
        return first, end, level

    def _built(self, keys: list[bytes], text: int) -> _Pattern | _Automaton:
        """An RE2 pattern of ``keys``, or an automaton when they are many for a text of
        ``text`` bytes (see AUTOMATON_RATIO); paid for."""
        size = sum(map(len, keys))
        if size * AUTOMATON_RATIO > text:
            self._pay(size * AUTOMATON_PER_KIB // 1024 + 1)
            return _Automaton(keys)
        self._pay(size * PATTERN_PER_KIB // 1024 + 1)
        return _Pattern(keys)

    def _small(self, data: bytes, *, first: bool = False) -> list[tuple[int, int]] | None:
        """Where the search strings occur in a short ``data`` (leftmost, then longest),
        by a set look-up of each slice as long as a search string; only the first with
        ``first``. None: ``data`` is too long for that (see SMALL)."""
        lengths = self._lengths
        if len(data) * max(1, len(lengths)) > SMALL:
            return None
        known = self._known
        spans: list[tuple[int, int]] = []
        at = 0
        end = len(data)
        while at < end:
            for size in lengths:
                if at + size <= end and data[at : at + size] in known:
                    spans.append((at, at + size))
                    if first:
                        return spans
                    at += size
                    break
            else:
                at += 1
        return spans

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
        small = self._small(data)
        if small is not None:
            return small
        searchers = self._searchers(len(data))
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


class _Pattern:
    """Search strings in one RE2 pattern: the leftmost match at or after a position,
    the longest there."""

    __slots__ = ("_regexp",)

    def __init__(self, keys: list[bytes]) -> None:
        self._regexp = re2.compile(b"|".join(map(re2.escape, keys)), _OPTIONS)

    def search(self, data: bytes, pos: int) -> tuple[int, int] | None:
        found = self._regexp.search(data, pos)
        return None if found is None else found.span()


class _Automaton:
    """Search strings (none empty, each PREFIX bytes at most) in one Aho-Corasick
    automaton: the leftmost match at or after a position, the longest there.

    The library reports every match of a text, none overlapping, leftmost-longest from
    its start. A search from a position that is not inside a match reported is
    answered from those (the greedy walk from the start passes through it); from inside
    one (another automaton's match overlapped it), the text is searched again from
    there, NEAR bytes first. A window of the text is searched at a time; a match is
    taken only where no longer string could run past the window's end."""

    __slots__ = ("_certain", "_data", "_ends", "_from", "_longest", "_matcher", "_starts")

    def __init__(self, keys: list[bytes]) -> None:
        self._matcher = ahocorasick_rs.BytesAhoCorasick(
            keys,
            matchkind=ahocorasick_rs.MatchKind.LeftmostLongest,
            implementation=ahocorasick_rs.Implementation.ContiguousNFA,
        )
        self._longest = max(map(len, keys))
        #: The text last searched; the matches found in it from ``_from``, their starts
        #: and ends, and where they stop being known (no match starts in between).
        self._data = b""
        self._from = self._certain = 0
        self._starts: list[int] = []
        self._ends: list[int] = []

    def search(self, data: bytes, pos: int) -> tuple[int, int] | None:
        window = 2 * self._longest + NEAR
        if data is self._data and self._from <= pos:
            i = bisect.bisect_left(self._starts, pos)
            if i == 0 or self._ends[i - 1] <= pos:  # not inside a match found
                if i < len(self._starts):
                    return self._starts[i], self._ends[i]
                if self._certain >= len(data):
                    return None
                pos, window = max(pos, self._certain), FAR
        return self._scan(data, pos, window)

    def _scan(self, data: bytes, pos: int, window: int) -> tuple[int, int] | None:
        size = len(data)
        view = memoryview(data)
        while True:
            end = min(size, pos + window)
            found = self._matcher.find_matches_as_indexes(view[pos:end])
            # A match starting before ``certain`` is whole, and so is the longest there.
            certain = end if end == size else end - self._longest + 1
            starts = [pos + start for _, start, _ in found if pos + start < certain]
            if starts or end == size:
                self._data, self._from, self._certain = data, pos, certain
                self._starts = starts
                self._ends = [pos + stop for _, _, stop in found[: len(starts)]]
                return (starts[0], self._ends[0]) if starts else None
            pos, window = certain, max(window, FAR)


class _Prefixed:
    """Search strings longer than PREFIX bytes, found by their first PREFIX bytes (one
    searcher) and checked whole where those occur, longest first. Each one compared is
    paid for (strings sharing their first bytes are compared one by one)."""

    __slots__ = ("_heads", "_keys", "_spend")

    def __init__(
        self,
        heads: _Pattern | _Automaton,
        keys: dict[bytes, list[bytes]],
        spend: Callable[[int], None] | None,
    ) -> None:
        """``heads``: a searcher of ``keys``' first PREFIX bytes (its keys)."""
        self._keys = {prefix: sorted(same, key=len, reverse=True) for prefix, same in keys.items()}
        self._heads = heads
        self._spend = spend

    def search(self, data: bytes, pos: int) -> tuple[int, int] | None:
        """The first string found whole at or after ``pos`` (longest at its start)."""
        while (found := self._heads.search(data, pos)) is not None:
            start = found[0]
            same = self._keys[data[start : start + PREFIX]]
            for tried, key in enumerate(same, 1):
                if data.startswith(key, start):
                    if self._spend is not None and tried >= COMPARED_PER_UNIT:
                        self._spend(tried // COMPARED_PER_UNIT)
                    return start, start + len(key)
            if self._spend is not None:
                # The first bytes of a secret, not the secret.
                self._spend(MATCH_COST + len(same) // COMPARED_PER_UNIT)
            pos = start + 1
        return None


#: What searches a text: a pattern or an automaton, long strings by their first bytes,
#: or a string not built in yet.
Searcher: TypeAlias = "_Pattern | _Automaton | _Prefixed | bytes"


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


def _search(searcher: Searcher, data: bytes, pos: int) -> tuple[int, int] | None:
    if isinstance(searcher, bytes):
        at = data.find(searcher, pos)
        return None if at < 0 else (at, at + len(searcher))
    return searcher.search(data, pos)
