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
from shadowtape.sanitize.names import NameMatcher, ascii_lower

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

    def kept(self, token: str) -> bool:
        """Would a try at the name in ``token`` (a ``TOKEN``) find nothing to replace,
        wherever the token stands?"""
        ...


def try_candidates(
    text: str, lowered: str, matcher: NameMatcher, ctx: Context, tries: Tries
) -> None:
    """Hand every candidate in ``text`` (``lowered``: its ``names.ascii_lower``) to
    ``tries``, in order: the tags first, then the name starts; each is charged to ``ctx``
    unless it finds a value to replace (the redaction limit bounds those). A token seen
    again that holds nothing to replace is hidden from the search (see _Repeats)."""
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
    repeats = _Repeats(text, data, ctx, tries)
    names = _name_starts(repeats, lowered, patterns.names, None if ascii else _Offsets(data))
    for starts in names:
        found_value = False
        for start in starts:
            found_value = tries.at(start) or found_value
        if not found_value:
            meter.charge(NAME_UNITS + START_UNITS * (len(starts) - 1))
            if len(starts) == 1:
                repeats.seen(starts[0])


#: A ``name=value`` token standing alone between blanks (a log line's ``user_key=email``):
#: a blank, a name of ASCII letters, digits and ``_`` (no ``-``, ``.`` or ``:``, which
#: could open another candidate inside it: ``a.-password``), ``=``, a value of the same
#: characters, then a blank or a line break. A try at its name reads only the token
#: (textfields._Finder.kept says why), so each copy of it has the same verdict.
TOKEN = re.compile(r"[ \t][A-Za-z_][A-Za-z0-9_]{0,63}=[A-Za-z0-9_]{1,64}[ \t\r\n]")
#: A token is looked at when seen a second time, for this many distinct tokens a text.
REPEATS = 16
#: Work units per MiB of text to count a token's copies (``str.count``), and to hide
#: them (``str.replace``, lower-cased and encoded again): C passes, measured at about
#: 0.3 and 0.9 ms per MiB.
COUNT_PER_MIB = 400
HIDE_PER_MIB = 1500


class _Repeats:
    """Tokens (``TOKEN``) repeated in a text and holding nothing to replace, hidden from
    the candidate search: a log of 5,000 lines each with ``user_key=email`` costs one
    try, not 5,000.

    A token is hidden by writing its ``=`` as ``~`` in the searched copy (``data``), in
    its exact copies only (same case: ``user_key=ABCDEFGH`` may hold a device code that
    ``user_key=abcdefgh`` does not). That removes its own candidate and no other: in the
    name pattern, ``~`` falls in every character class ``=`` does but the separator
    after a name, so any other match reads the same (a quoted name across the token, a
    separator before it, a name in its value: ``user_key=password :1234``). Its copies
    then cost no Python work. Hiding is paid for, and done only when the copies counted
    save twice its cost."""

    __slots__ = ("_counts", "_ctx", "_hidden", "_left", "_tries", "data")

    def __init__(self, text: str, data: bytes, ctx: Context, tries: Tries) -> None:
        self._hidden = text
        self.data = data
        self._ctx = ctx
        self._tries = tries
        self._counts: dict[str, int] = {}
        self._left = REPEATS

    def seen(self, start: int) -> None:
        """A candidate at ``start`` found nothing: hide its token's further copies when
        it is a token seen for the second time, holding nothing, and copied enough."""
        if not self._left or start == 0:
            return
        found = TOKEN.match(self._hidden, start - 1)
        if found is None:
            return
        token = found.group()
        count = self._counts[token] = self._counts.get(token, 0) + 1
        if count != 2:
            return
        self._left -= 1
        self._ctx.spend(NAME_UNITS)
        if not self._tries.kept(token):
            return
        size = len(self.data)
        self._ctx.spend(size * COUNT_PER_MIB // (1 << 20) + 1)
        copies = self._hidden.count(token, found.end() - 1)
        cost = size * HIDE_PER_MIB // (1 << 20) + 1
        if copies * NAME_UNITS < 2 * cost:
            return
        self._ctx.spend(cost)
        self._hidden = self._hidden.replace(token, token.replace("=", "~", 1))
        self.data = ascii_lower(self._hidden).encode("utf-8", "surrogatepass")


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
    A token (``TOKEN``) that occurs in more than one window is left out, as its copies
    may be hidden (_Repeats: each one tried is charged as it is); a token in one window
    counts once, however often it occurs there.
    """
    step = len(data) // _SAMPLES
    samples = [_count(data, pattern, i * step, i * step + _WINDOW) for i in range(_SAMPLES)]
    seen: dict[bytes, int] = {}
    for _, tokens in samples:
        for token in tokens:
            seen[token] = seen.get(token, 0) + 1
    fewest = min(others + sum(seen[t] == 1 for t in tokens) for others, tokens in samples)
    return fewest * (len(data) // _WINDOW)


def _count(data: bytes, pattern: re2._Regexp, start: int, end: int) -> tuple[int, set[bytes]]:
    """Candidates wholly inside ``data[start:end]`` (none counted twice) but tokens,
    and the tokens."""
    count = 0
    tokens = set()
    found = pattern.search(data, start, end)
    while found is not None and found.end() < end:
        token = _token(data, found.start())
        if token is None:
            count += 1
        else:
            tokens.add(token)
        found = pattern.search(data, found.end(), end)
    return count, tokens


#: TOKEN in lower-cased bytes, and the characters of a name run.
_TOKEN_BYTES = re.compile(rb"[ \t][a-z_][a-z0-9_]{0,63}=[a-z0-9_]{1,64}[ \t\r\n]")
_NAME_BYTES = _NAME_CHARS.encode()


def _token(data: bytes, at: int) -> bytes | None:
    """The token named by the candidate found at ``at``, if it names one."""
    if data[at : at + 1] not in _NAME_BYTES:
        at += 1
    before = data[max(0, at - 64) : at]
    start = at - (len(before) - len(before.rstrip(_NAME_BYTES)))
    found = _TOKEN_BYTES.match(data, start - 1) if start > 0 else None
    return None if found is None else found.group()


def _name_starts(
    source: _Repeats, lowered: str, pattern: re2._Regexp, to_index: _Offsets | None
) -> Iterator[list[int]]:
    """For each candidate name run: where it starts, and after each ``:`` inside it
    (``ns:password``). ``source.data`` is searched, as it is after each yield.

    A name run is read once however many candidates it holds (``password`` repeated
    without a separator is one run): the search resumes at its end.
    """
    walked = 0  # lowered[:walked] has been read
    found = pattern.search(source.data)
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
        resume = walked if to_index is None else to_index.back(walked, lowered)
        found = pattern.search(source.data, resume)


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
