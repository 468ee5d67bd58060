"""Whether answers given under concurrency differ from the answers given alone more often
than the endpoint's answers differ on their own.

The rule: each seed's first answer alone is its reference. The same requests are then sent
K at once and, as many again, one at a time (the sequential round). At each location (noise
group and JSON path pattern, as the differ names it) we count how many answers at once and
how many sequential answers differ from their seed's reference. A location is a race only
if the at-once count is at least ``MIN_DIFFERING`` and significantly above the sequential
count (one-sided Fisher exact test, at ``ALPHA`` divided by the number of locations
suspects). So a field that varies only sometimes (a replica name, a cache flag, the order of
a small set, a clock) varies about as often in both rounds and is not a race, however
often it shows. Answers that say the target is overloaded (429, 503, a transport error)
are set aside and reported as overload, not compared. The comparison is the differ's own
(diff/compare.py), so a race is described in the report's words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from math import comb

from shadowtape.diff.compare import DEFAULT_SETTINGS, DiffSettings, Side, compare
from shadowtape.diff.model import Difference, noise_group, pattern_of
from shadowtape.replay.http.client import Reply

#: (noise group, location pattern) of a difference.
Location = tuple[str, str]
#: The family-wise false-alarm rate of the race test, per target and probe run.
ALPHA = 0.01
#: A race needs at least this many answers at once that differ.
MIN_DIFFERING = 2
#: Statuses that say "too much at once" rather than a wrong answer.
OVERLOAD_STATUSES = frozenset({429, 503})


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


def overloaded(answer: Side) -> bool:
    """An answer that says the target shed load: 429, 503 or a transport error."""
    return answer.error_kind is not None or answer.status in OVERLOAD_STATUSES


def location_of(diff: Difference) -> Location:
    return noise_group(diff.kind), pattern_of(diff.location)


def unstable(
    pairs: Iterable[tuple[Side, Side]], settings: DiffSettings = DEFAULT_SETTINGS
) -> set[Location]:
    """The locations at which some pair's two answers differ (the shapes probe's rule)."""
    out: set[Location] = set()
    for first, again in pairs:
        out.update(location_of(d) for d in compare(first, again, settings).differences)
    return out


def differences(
    reference: Side, answer: Side, settings: DiffSettings = DEFAULT_SETTINGS
) -> dict[Location, Difference]:
    """The first difference of ``answer`` from ``reference`` at each location."""
    out: dict[Location, Difference] = {}
    for diff in compare(reference, answer, settings).differences:
        out.setdefault(location_of(diff), diff)
    return out


@dataclass(slots=True)
class Count:
    """At one location: how many answers at once and sequential answers differed."""

    concurrent: int = 0
    sequential: int = 0
    #: The first answer at once that differed: its index among the answers, and how.
    example: tuple[int, Difference] | None = None


@dataclass(slots=True)
class Tally:
    """One target's answers on one endpoint, counted per location."""

    #: Answers compared (not overloaded, with a reference that was not either).
    concurrent: int = 0
    sequential: int = 0
    #: Answers at once, and sequential ones, set aside as overloaded.
    overloaded: int = 0
    overloaded_sequential: int = 0
    at: dict[Location, Count] = field(default_factory=dict)

    def p_value(self, location: Location) -> float:
        count = self.at.get(location, Count())
        return fisher_greater(count.concurrent, self.concurrent, count.sequential, self.sequential)

    def rate(self, location: Location) -> float:
        count = self.at.get(location, Count())
        return count.concurrent / self.concurrent if self.concurrent else 0.0


def tally(
    sequential: Iterable[tuple[Side, Side]],
    concurrent: Iterable[tuple[Side, Side]],
    settings: DiffSettings = DEFAULT_SETTINGS,
) -> Tally:
    """Count, per location, the (reference, answer) pairs of each round that differ."""
    out = Tally()
    counted, out.overloaded_sequential = _counted(sequential)
    out.sequential = len(counted)
    for _, reference, answer in counted:
        for where in differences(reference, answer, settings):
            out.at.setdefault(where, Count()).sequential += 1
    counted, out.overloaded = _counted(concurrent)
    out.concurrent = len(counted)
    for index, reference, answer in counted:
        for where, diff in differences(reference, answer, settings).items():
            count = out.at.setdefault(where, Count())
            count.concurrent += 1
            if count.example is None:
                count.example = (index, diff)
    return out


def _counted(pairs: Iterable[tuple[Side, Side]]) -> tuple[list[tuple[int, Side, Side]], int]:
    """The pairs a round counts, each with its place in the round, and how many were set
    aside because the answer was overloaded (an overloaded reference drops the pair)."""
    counted: list[tuple[int, Side, Side]] = []
    set_aside = 0
    for index, (reference, answer) in enumerate(pairs):
        if overloaded(reference):
            continue
        if overloaded(answer):
            set_aside += 1
            continue
        counted.append((index, reference, answer))
    return counted, set_aside


def suspects(tally: Tally, alpha: float = ALPHA) -> list[Location]:
    """The locations that could be a race: enough answers at once differ there, and the
    test could reach ``alpha`` at all (a location that differs in nearly every answer of
    both rounds cannot, and does not dilute the others' correction; Tarone's rule)."""
    out = []
    for where, c in tally.at.items():
        hits = c.concurrent + c.sequential
        best = min(hits, tally.concurrent)
        floor = fisher_greater(best, tally.concurrent, hits - best, tally.sequential)
        if c.concurrent >= MIN_DIFFERING and floor < alpha:
            out.append(where)
    return out


def races(tally: Tally, tests: int, alpha: float = ALPHA) -> list[Location]:
    """The locations at which answers at once differ significantly more often than
    sequential ones, with ``alpha`` shared by ``tests`` locations (Bonferroni)."""
    level = alpha / max(tests, 1)
    return [where for where in suspects(tally, alpha) if tally.p_value(where) < level]


def shared(candidate: Tally, baseline: Tally, location: Location, alpha: float = ALPHA) -> bool:
    """Whether the baseline races at ``location`` too, at a comparable rate: its own
    answers at once differ there significantly more than its sequential ones, and not
    significantly less often than the candidate's answers at once."""
    mine = baseline.at.get(location, Count())
    if mine.concurrent < MIN_DIFFERING or baseline.p_value(location) >= alpha:
        return False
    theirs = candidate.at.get(location, Count())
    lower = fisher_greater(
        theirs.concurrent, candidate.concurrent, mine.concurrent, baseline.concurrent
    )
    return lower >= alpha


def fisher_greater(a: int, n1: int, b: int, n2: int) -> float:
    """One-sided Fisher exact test: the chance that ``a`` or more of ``n1`` differ in the
    first group when ``a + b`` of the ``n1 + n2`` differ and the rate is the same."""
    total, hits = n1 + n2, a + b
    if n1 <= 0 or hits == 0:
        return 1.0
    whole = comb(total, hits)
    top = min(n1, hits)
    return sum(comb(n1, k) * comb(n2, hits - k) for k in range(a, top + 1)) / whole
