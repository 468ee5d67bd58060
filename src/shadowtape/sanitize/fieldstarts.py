"""Where in free text a secret-named field can start: the places textfields tries.

A candidate is a name that the name rules may call secret (``NameMatcher.endings``: its
word runs, then only trailing words, so ``status_code``, ``token_type``, ``shipping`` or
``author`` are not candidates) in a place where a value can follow (``password=x``,
``"token": "``, ``secret: x``, ``pin:1234``, ``--password x``) or that makes it an element
(``<password>``); a tag naming such a field in an attribute (``<input name="csrf_token"
...>``) is one too. RE2 finds them over the lower-cased text at DFA speed, so prose, code
and data without secret-named fields cost no Python work at all.

Each candidate is charged to the work budget (``Context.spend``) as it is found, for all
that textfields then does with it, before any is tried. A large text is sampled first
(``_prepay``): the candidates of its sparsest sample windows, scaled to its length, are
charged up front, so a text packed with candidates fails as too dense at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

import re2

from shadowtape.sanitize import params
from shadowtape.sanitize.detectors import SPACE
from shadowtape.sanitize.names import NameMatcher

if TYPE_CHECKING:
    from shadowtape.sanitize.context import Context

#: Work units per candidate name, measured on this machine: finding it (one RE2 search
#: through the Python wrapper, 4-9 us) and trying the patterns at its start
#: (``_Finder.at``, 3-8 us).
NAME_UNITS = 12
#: ... per further start inside a name (after a ":", as in ``ns:password=x``).
START_UNITS = 6
#: ... per tag naming a secret field in an attribute (found, then read).
TAG_UNITS = 12
#: A text this long is sampled first: ``_SAMPLES`` windows of ``_WINDOW`` bytes.
_SAMPLED = 32 * 1024
_SAMPLES = 8
_WINDOW = 512

#: The characters of a name run, lower-cased (a name starts where they do).
_NAME = r"[a-z0-9_.:\-]"
_NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_-.:"
#: What may follow a name for a value to come: ``: "``, ``: '``, ``: -1``, ``: 12``
#: (JSON and code, blanks of any kind around the colon), ``: x`` (a line), ``:x`` (Java
#: properties, a Go struct dump), ``=x`` and ``= x``. A superset of what textfields'
#: patterns accept, so no value is missed.
_SEP = (
    rf"(?:{SPACE}*:{SPACE}*[\"'\-\p{{Nd}}]|[ \t]*:(?:[ \t]+)?[^\s\"'#{{\[]"
    r"|[ \t]*=(?:[^=\r\n \t]|[ \t]+[^\r\n \t]))"
)
#: What stands between two words of a name: in a bare name, in a quoted one, in a tag.
_BARE = (r"[_.\-]", r"[a-z0-9_.\-]")
_QUOTED = (r"[^a-z0-9\"\\\n]", r"[^\"\\\n]")
_SINGLE_QUOTED = (r"[^a-z0-9'\\\n]", r"[^'\\\n]")
_ATTRIBUTE = (r"[^a-z0-9\"'<>]", r"[^\"'<>\s]")
#: Any name at all (a glob rule without a literal word).
_ANY = r"[a-z0-9_][a-z0-9_.\-]*"


@dataclass(frozen=True, slots=True)
class _Patterns:
    names: re2._Regexp
    tags: re2._Regexp


def _alternatives(runs: str | None, wholes: str | None, *, start: str = "") -> str:
    """``runs`` after anything, ``wholes`` right after ``start``, as one group."""
    parts = []
    if runs is not None:
        parts.append(f"(?:{runs})")
    if wholes is not None:
        parts.append(f"{start}(?:{wholes})")
    return "(?:" + "|".join(parts) + ")" if parts else r"\b\B"


@lru_cache(maxsize=16)
def _patterns(matcher: NameMatcher) -> _Patterns:
    bare = matcher.endings(*_BARE) or (_ANY, None)
    quoted = matcher.endings(*_QUOTED) or (_ANY, None)
    single = matcher.endings(*_SINGLE_QUOTED) or (_ANY, None)
    attribute = matcher.endings(*_ATTRIBUTE) or (_ANY, None)
    end = r"(?:[^a-z0-9_.:\-]|$)"
    names = "|".join(
        (
            # password=x, pin:1234, secret: x, x-api-key: k; "key" as a whole name
            _alternatives(*bare, start=r"(?:^|[^a-z0-9_.]|-d)") + _SEP,
            # "password": "x", "password hash": 1
            rf'"(?:[^"\\\n]*?{_alternatives(quoted[0], None)}|{_alternatives(None, quoted[1])})"'
            + _SEP,
            # 'password': 'x', 'password' => 'x' (Python, PHP, Ruby, JavaScript)
            rf"'(?:[^'\\\n]*?{_alternatives(single[0], None)}|{_alternatives(None, single[1])})'"
            + rf"(?:{_SEP}|{SPACE}*=>)",
            # <password>, <ns:secret>
            rf"<(?:{_NAME}*?{_alternatives(bare[0], None)}"
            rf"|(?:[a-z0-9_.\-]*:)?{_alternatives(None, bare[1])}){end}",
            # <key>password</key><string>x</string> (a plist), <name>password</name><value>
            rf">(?:{_NAME}*?{_alternatives(bare[0], None)}|{_alternatives(None, bare[1])})"
            rf"[ \t]*</",
            # --password x, --db-password=x, -Ddb.password=x, --key x
            rf"(?:^|[^a-z0-9_\-])--?(?:[a-z0-9_.\-]*?{_alternatives(bare[0], None)}"
            rf"|d?{_alternatives(None, bare[1])})[= \t]",
        )
    )
    space = SPACE + "*"
    value = rf"(?:[\"']?[^\"'<>]*?{_alternatives(attribute[0], None)}"
    value += rf"|[\"']?{_alternatives(None, attribute[1])}"
    value += rf"|[\"']?(?:{'|'.join(params.spellings())}))"
    tags = (
        rf"<[a-z][^<>]*?(?:name|key|property){space}={space}{value}"
        r"""(?:["'\s/][^<>]*)?>"""
    )
    return _Patterns(re2.compile(names.encode(), _OPTIONS), re2.compile(tags.encode(), _OPTIONS))


#: RE2's memory for the patterns' DFA. The name pattern holds every secret word, each
#: possibly half-matched at any position of a random text: with the default 8 MiB its
#: state cache overflows and is rebuilt over and over (about 150 ms per MiB, not 2).
_OPTIONS = re2.Options()
_OPTIONS.max_mem = 32 << 20


def any_candidate(lowered: str, matcher: NameMatcher) -> bool:
    """Is there a candidate in ``lowered`` (``names.ascii_lower`` of a text)? Two RE2
    passes at most; texts joined by a character outside names, such as NUL, have one
    when any of them has (the separator reads as a start or end)."""
    patterns = _patterns(matcher)
    data = lowered.encode("utf-8", "surrogatepass")
    if patterns.names.search(data) is not None:
        return True
    return "<" in lowered and patterns.tags.search(data) is not None


def candidate_spans(lowered: str, matcher: NameMatcher) -> Iterator[tuple[int, int]]:
    """Where candidates lie in ``lowered`` (as any_candidate finds them), as spans of
    its UTF-8 bytes: for texts joined by NUL, which of them hold one (a span that takes
    in a separator may also mark the next text)."""
    patterns = _patterns(matcher)
    data = lowered.encode("utf-8", "surrogatepass")
    for found in patterns.names.finditer(data):
        yield found.span()
    if "<" in lowered:
        for found in patterns.tags.finditer(data):
            yield found.span()


class Tries(Protocol):
    """What tries the candidates (textfields' finder); each call says whether it found a
    value to replace."""

    def tag(self, at: int) -> bool: ...

    def at(self, start: int) -> bool: ...


def try_candidates(lowered: str, matcher: NameMatcher, ctx: Context, tries: Tries) -> None:
    """Hand every candidate in ``lowered`` (``names.ascii_lower`` of the text) to
    ``tries``, in order: the tags first, then the name starts; each is charged to ``ctx``
    unless it finds a value to replace (the redaction limit bounds those)."""
    patterns = _patterns(matcher)
    data = lowered.encode("utf-8", "surrogatepass")
    ascii = len(data) == len(lowered)
    meter = Meter(ctx)
    if len(data) >= _SAMPLED:
        meter.prepay((_estimate(data, patterns.names) - (ctx.limit - ctx.replaced)) * NAME_UNITS)
    to_index = None if ascii else _Offsets(data)
    tags = patterns.tags.finditer(data) if "<" in lowered else ()  # a tag opens with "<"
    for found in tags:
        if not tries.tag(found.start() if to_index is None else to_index(found.start())):
            meter.charge(TAG_UNITS)
    for starts in _name_starts(data, lowered, patterns.names, None if ascii else _Offsets(data)):
        found_value = False
        for start in starts:
            found_value = tries.at(start) or found_value
        if not found_value:
            meter.charge(NAME_UNITS + START_UNITS * (len(starts) - 1))


class Meter:
    """Charges work to a context, drawing first on what was paid up front (a scanner
    that counts its candidates in C pays for them all before it examines any)."""

    __slots__ = ("ctx", "prepaid")

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.prepaid = 0

    def prepay(self, units: int) -> None:
        if units > 0:
            self.ctx.spend(units)
            self.prepaid += units

    def charge(self, units: int) -> None:
        if self.prepaid >= units:
            self.prepaid -= units
        else:
            self.ctx.spend(units - self.prepaid)
            self.prepaid = 0


def _estimate(data: bytes, pattern: re2._Regexp) -> int:
    """The candidates in ``data`` as its sparsest sample windows tell, scaled to its size.

    A lower estimate for any text but one whose every window is denser than the rest.
    """
    step = len(data) // _SAMPLES
    fewest = min(_count(data, pattern, i * step, i * step + _WINDOW) for i in range(_SAMPLES))
    return fewest * (len(data) // _WINDOW)


def _count(data: bytes, pattern: re2._Regexp, start: int, end: int) -> int:
    """Candidates wholly inside ``data[start:end]`` (none counted twice)."""
    count = 0
    found = pattern.search(data, start, end)
    while found is not None and found.end() < end:
        count += 1
        found = pattern.search(data, found.end(), end)
    return count


def _name_starts(
    data: bytes, lowered: str, pattern: re2._Regexp, to_index: _Offsets | None
) -> Iterator[list[int]]:
    """For each candidate name run: where it starts, and after each ``:`` inside it
    (``ns:password``).

    A name run is read once however many candidates it holds (``password`` repeated
    without a separator is one run): the search resumes at its end.
    """
    walked = 0  # lowered[:walked] has been read
    found = pattern.search(data)
    while found is not None:
        at = found.start() if to_index is None else to_index(found.start())
        if lowered[at] not in _NAME_CHARS:  # the match opens with what precedes the name
            at += 1
        run_start = walked + len(lowered[walked:at].rstrip(_NAME_CHARS))
        run = _NAME_RUN.match(lowered, at)
        run_end = run.end() if run is not None else at
        starts = [run_start]
        colon = lowered.find(":", run_start, run_end)
        while colon >= 0:
            if colon + 1 < run_end:
                starts.append(colon + 1)
            colon = lowered.find(":", colon + 1, run_end)
        yield starts
        walked = max(run_end, at + 1)
        found = pattern.search(data, walked if to_index is None else to_index.back(walked, lowered))


#: Forward over a name run.
_NAME_RUN = re.compile(_NAME + "*+")


class _Offsets:
    """Byte offsets in UTF-8 ``data`` to character indexes and back, asked for in order."""

    __slots__ = ("_byte", "_char", "_data")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._byte = 0
        self._char = 0

    def __call__(self, offset: int) -> int:
        self._char += len(self._data[self._byte : offset].decode("utf-8", "surrogatepass"))
        self._byte = offset
        return self._char

    def back(self, index: int, text: str) -> int:
        """The byte offset of character ``index`` (at or after the last one asked)."""
        self._byte += len(text[self._char : index].encode("utf-8", "surrogatepass"))
        self._char = index
        return self._byte
