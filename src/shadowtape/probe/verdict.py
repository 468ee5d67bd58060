"""Whether an answer given under concurrency differs from the answer given alone, beyond
what the endpoint varies on its own.

The rule: each seed is sent alone twice, once before and once after the concurrent round
(``alone`` and ``again``). A location (noise group and JSON path pattern, as the differ
names it) whose value differs between the two alone answers of *any* seed of the endpoint
varies on its own there: ids, timestamps, counters, random order. Because the two alone
rounds bracket the concurrent one in time, a value that drifts with the clock has drifted
by the second alone round too. Only differences at locations that were stable alone count:
a concurrent answer that differs from its own seed's alone answer at such a location is a
race on that target. The comparison is the differ's own (diff/compare.py), so a race is
described in the report's words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shadowtape.diff.compare import DEFAULT_SETTINGS, DiffSettings, Side, compare
from shadowtape.diff.model import Difference, noise_group, pattern_of
from shadowtape.replay.http.client import Reply

#: (noise group, location pattern) of a difference.
Location = tuple[str, str]


def side(reply: Reply) -> Side:
    """A reply as the differ sees it."""
    return Side(
        status=reply.status,
        headers=reply.headers or (),
        body=reply.body or b"",
        truncated=bool(reply.body_truncated),
        error_kind=reply.error_kind.value if reply.error_kind is not None else None,
        error_message=reply.error_message,
    )


def location_of(diff: Difference) -> Location:
    return noise_group(diff.kind), pattern_of(diff.location)


def unstable(
    pairs: Iterable[tuple[Side, Side]], settings: DiffSettings = DEFAULT_SETTINGS
) -> set[Location]:
    """The locations at which some seed's two alone answers differ."""
    out: set[Location] = set()
    for first, again in pairs:
        out.update(location_of(d) for d in compare(first, again, settings).differences)
    return out


@dataclass(frozen=True, slots=True)
class Race:
    """One concurrent answer unlike its seed's alone answer, at a stable location."""

    difference: Difference
    location: Location


def races(
    alone: Side,
    concurrent: Side,
    varies: set[Location],
    settings: DiffSettings = DEFAULT_SETTINGS,
) -> list[Race]:
    """The differences of ``concurrent`` from ``alone`` that noise does not explain."""
    found = []
    for diff in compare(alone, concurrent, settings).differences:
        where = location_of(diff)
        if where not in varies:
            found.append(Race(diff, where))
    return found
