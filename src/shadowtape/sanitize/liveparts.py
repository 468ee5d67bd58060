"""Which chunks of a multipart body sanitizing may change, told for all of them at once.

A form of thousands of tiny fields costs tens of Python calls per part when each part is
parsed and scanned on its own, almost all of them for nothing. What can change a part is
known beforehand: a detector's literal, a hint of a secret-looking name, a known secret
(echo), a shape that a detector without a literal looks for (card numbers, IBANs, SSNs),
or something that makes a part read otherwise than as its bytes (``%``, ``\\``, a
``charset``, a transfer encoding, a form or MessagePack part, a cookie in a JSON header
list). The chunks are joined by NUL, which no literal holds; literals are found by one
RE2 search per chunk that holds one, each resumed after it, and shapes and echoes by
halving the chunks while a range holds one. Every other chunk is kept byte for byte,
unparsed. Each chunk found is paid for (``LIVE_COST``) before it is handled, so a body
whose every part holds a literal is dropped as too dense instead of read part by part.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, count
from operator import add

import re2

from shadowtape.sanitize.context import Context
from shadowtape.sanitize.detectors import Detector
from shadowtape.sanitize.rules import Policy

#: Literals (any case) that make a part read otherwise than as its bytes, or that name
#: what is replaced whatever its name (a cookie in a JSON list of header pairs).
TRIGGERS = ("%", "\\", "://", "charset", "transfer-encoding", "urlencoded", "msgpack", "cookie")
#: Work units (``Context.spend``) each chunk that may change costs to parse and sanitize
#: on its own, besides what its scanners spend: about a microsecond each.
LIVE_COST = 14
#: Chunks skimmed per work unit (splitting, joining and searching them all, in C).
SKIMMED_PER_UNIT = 8
#: Live chunks paid for at a time while they are found.
_BATCH = 256


@dataclass(frozen=True, slots=True)
class Skim:
    """What a policy's rules may change, as one search and a few prefilters."""

    literals: re2._Regexp
    #: Detectors with no literal, told by their own prefilter (card shapes...).
    shapes: tuple[Detector, ...]


@lru_cache(maxsize=16)
def _skim(policy: Policy) -> Skim | None:
    """None when some rule may change a part whatever it holds (a JSON path rule, a name
    glob or a user pattern with no literal): then every chunk is live."""
    names = policy.secret_field.hints
    if policy.secret_paths or names is None:
        return None
    exact: list[str] = []
    shapes: list[Detector] = []
    for detector in policy.detectors:
        if detector.literals:
            exact.extend(detector.literals)
        elif detector.prefilter is not None:
            shapes.append(detector)
        else:
            return None
    folded = "|".join(map(re.escape, (*names, *TRIGGERS)))
    pattern = "|".join((f"(?i:{folded})", *map(re.escape, dict.fromkeys(exact))))
    return Skim(re2.compile(pattern), tuple(shapes))


def live_chunks(chunks: list[bytes], ctx: Context) -> list[int]:
    """The indexes, in order, of the chunks that sanitizing may change; every index when
    the rules cannot tell. Paid for: the skim, and ``LIVE_COST`` per index returned."""
    skim = _skim(ctx.policy)
    if skim is None:
        ctx.spend(len(chunks) * LIVE_COST)
        return list(range(len(chunks)))
    ctx.spend(len(chunks) // SKIMMED_PER_UNIT)
    data = b"\x00".join(chunks)
    ends = list(map(add, accumulate(map(len, chunks)), count()))  # a NUL before each
    live: set[int] = set()
    if not ctx.echo_only:
        _literal_hits(skim.literals, data, ends, live, ctx)
        if skim.shapes:
            text = data.decode("latin-1")  # one character per byte: offsets hold
            shapes = skim.shapes
            _halve(lambda s, e: any(d.may_occur(text[s:e]) for d in shapes), ends, live, ctx)
    if ctx.echo:
        _halve(lambda s, e: ctx.has_echo(data[s:e]), ends, live, ctx)
    return sorted(live)


def _literal_hits(
    pattern: re2._Regexp, data: bytes, ends: list[int], live: set[int], ctx: Context
) -> None:
    """Add each chunk holding a literal: one search per such chunk, resumed after it."""
    found = 0
    at = 0
    last = len(ends) - 1
    while (match := pattern.search(data, at)) is not None:
        index = bisect_right(ends, match.start())
        live.add(index)
        found += 1
        if found % _BATCH == 0:
            ctx.spend(_BATCH * LIVE_COST)
        if index >= last:
            break
        at = ends[index] + 1
    ctx.spend(found % _BATCH * LIVE_COST)


def _halve(
    holds: Callable[[int, int], bool], ends: list[int], live: set[int], ctx: Context
) -> None:
    """Add each chunk for which ``holds(start, end)`` of its bytes, for a test that holds
    for a range whenever it holds for a chunk in it: ranges that hold are halved."""
    ranges = [(0, len(ends))]
    while ranges:
        first, stop = ranges.pop()
        start = ends[first - 1] + 1 if first else 0
        if not holds(start, ends[stop - 1]):
            continue
        if stop - first == 1:
            if first not in live:
                live.add(first)
                ctx.spend(LIVE_COST)
            continue
        ctx.spend(2)
        middle = (first + stop) // 2
        ranges += [(middle, stop), (first, middle)]
