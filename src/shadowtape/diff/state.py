"""Which identical requests may be compared as A/A pairs: none with a write between them.

Two identical requests answer alike only while the state they read stays put. A recorded
mutating request (POST, PUT, PATCH, DELETE) between them may have changed what they
read, and comparing their answers would learn a real change as noise. A write to the
same collection (the route's prefix without a trailing ``{id}``) surely did; a write
elsewhere on the same host may have (``POST /orders`` debits the balance
``GET /users/{id}`` shows, and no route name says so). The analysis streams rows in the
order they were replayed, not recorded, so identical request pairs wait here until every
mutation's recorded time is known.
"""

from __future__ import annotations

import bisect
import enum
from array import array
from dataclasses import dataclass, field

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Change(enum.Enum):
    """What was written between two reads."""

    NONE = "none"
    #: A write to the host, none to the read's collection: may have changed what it reads.
    ELSEWHERE = "elsewhere"
    #: A write to the read's collection, or one it holds or that holds it.
    RELATED = "related"


def collection(route: str) -> str:
    """``/items/{id}`` -> ``/items``; ``/items`` stays ``/items``."""
    route = route.rstrip("/") or "/"
    head, _, last = route.rpartition("/")
    if last.startswith("{") and last.endswith("}"):
        return head or "/"
    return route


def _related(a: str, b: str) -> bool:
    """One collection holds the other (``/items`` and ``/items/{id}/notes``)."""
    if a == b:
        return True
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return short == "/" or long.startswith(short + "/")


def _any_between(values: array[int], lo: int, hi: int) -> bool:
    i = bisect.bisect_right(values, lo)
    return i < len(values) and values[i] < hi


@dataclass(slots=True)
class Writes:
    """When the tape wrote, per host and collection (recorded times in µs, 8 bytes each)."""

    times: dict[tuple[str, str], array[int]] = field(default_factory=dict)
    _sorted: bool = True

    def add(self, host: str, route: str, at_us: int) -> None:
        key = (host.lower(), collection(route))
        values = self.times.get(key)
        if values is None:
            values = self.times[key] = array("q")
        values.append(at_us)
        self._sorted = False

    def between(self, host: str, route: str, first_us: int, second_us: int) -> Change:
        """What was written to `host` strictly after `first_us` and before `second_us`
        (in either order), as seen by a read of `route`."""
        if not self._sorted:
            for key, found in self.times.items():
                self.times[key] = array("q", sorted(found))
            self._sorted = True
        lo, hi = min(first_us, second_us), max(first_us, second_us)
        own, host = collection(route), host.lower()
        change = Change.NONE
        for (where, name), values in self.times.items():
            if where != host or not _any_between(values, lo, hi):
                continue
            if _related(own, name):
                return Change.RELATED
            change = Change.ELSEWHERE
        return change
