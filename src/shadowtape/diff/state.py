"""Which identical requests may be compared as A/A pairs: none with a write between them.

Two identical requests answer alike only while the state they read stays put. A recorded
mutating request (POST, PUT, PATCH, DELETE) to the same collection between them (the
route's collection prefix: the templated route without a trailing ``{id}`` segment)
changes what they read: comparing their answers would learn a real change as noise.
The analysis streams rows in the order they were replayed, not recorded, so identical
request pairs wait here until every mutation's recorded time is known, and are kept
only when none falls between them.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


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


@dataclass(slots=True)
class Writes:
    """When the tape wrote to each collection (recorded times, in µs)."""

    times: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    _sorted: bool = True

    def add(self, route: str, at_us: int) -> None:
        self.times[collection(route)].append(at_us)
        self._sorted = False

    def between(self, route: str, first_us: int, second_us: int) -> bool:
        """Whether a write to `route`'s collection (or one it holds, or that holds it) was
        recorded strictly after `first_us` and before `second_us`."""
        if not self._sorted:
            for values in self.times.values():
                values.sort()
            self._sorted = True
        lo, hi = min(first_us, second_us), max(first_us, second_us)
        own = collection(route)
        for name, values in self.times.items():
            if not _related(own, name):
                continue
            i = bisect.bisect_right(values, lo)
            if i < len(values) and values[i] < hi:
                return True
        return False
