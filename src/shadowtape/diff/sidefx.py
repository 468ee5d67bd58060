"""The side-effect ledger: the outbound calls each target made for one request, compared.

A candidate that charges a card twice answers its own client exactly as the baseline
does; only its calls show it. Per request, the calls each target's build made
(``diff.attribution``) are counted by (method, host[:port], route). What is compared
between baseline and candidate, as ``side_effect`` differences:

- only calls that can change something: every method but GET, HEAD, OPTIONS and TRACE.
  Reads have no side effects, and their numbers move with caches, pagination and
  prefetching; what a read changes in the answer the response diff already sees;
- only calls the dependency took (answered below 500; a mock's "no recording" 502 counts,
  the service made the call): a 5xx, a timeout or an injected fault is a failed attempt,
  and a retry after one is the service doing its job, not a second charge;
- every difference in number: a call missing, an extra one, one made more or fewer times.

Whether such a difference is noise is the noise model's (``diff.noise``): the baseline
and the secondary are compared the same way on the same requests, and a call whose count
varies there about as often is noise. Per endpoint, the ledger also counts every call
per target and status (reads included), for the report's "Side effects" section.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from shadowtape.diff.attribution import DependencyCall
from shadowtape.diff.model import Difference, Kind

#: Methods that change nothing (RFC 9110 "safe"): never a side effect.
SAFE = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
#: Distinct (call, status, target) counted per endpoint; more fold into OTHER.
MAX_CALLS = 200
OTHER = "… other calls"

#: One line of an endpoint's ledger: (call name, status, target) -> calls.
CallCounts = Counter[tuple[str, int | None, str]]


def effects(calls: Iterable[DependencyCall]) -> Counter[str]:
    """Call name -> how many calls that can change something the dependency took."""
    return Counter(c.name for c in calls if c.took and c.method not in SAFE)


def differences(
    baseline: Iterable[DependencyCall], candidate: Iterable[DependencyCall]
) -> list[Difference]:
    """One ``side_effect`` difference per call made a different number of times; its
    values are the two counts."""
    b, c = effects(baseline), effects(candidate)
    return [
        Difference(Kind.SIDE_EFFECT, name, b[name], c[name])
        for name in sorted(b.keys() | c.keys())
        if b[name] != c[name]
    ]


def count(ledger: CallCounts, target: str, calls: Iterable[DependencyCall]) -> None:
    """Add one request's calls on `target` to an endpoint's ledger."""
    for call in calls:
        key = (call.name, call.status, target)
        if key not in ledger and len(ledger) >= MAX_CALLS:
            key = (OTHER, None, target)
        ledger[key] += 1
