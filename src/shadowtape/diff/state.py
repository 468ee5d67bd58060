"""Which identical requests may be compared as A/A pairs: none with a write between them.

Two identical requests answer alike only while the state they read stays put. Any
recorded mutating request (POST, PUT, PATCH, DELETE) to the same host between them may
have changed what they read: ``POST /orders`` changes the balance ``GET /users/{id}``
shows, and no route name says so. Comparing their answers would learn a real change as
noise, so any write on the host between them breaks the pair (conservative: a pair lost
is a little less noise measured; a change learned as noise is a missed regression).
The analysis streams rows in the order they were replayed, not recorded, so identical
request pairs wait here until every mutation's recorded time is known, and are kept
only when none falls between them.
"""

from __future__ import annotations

import bisect
from array import array
from dataclasses import dataclass, field

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(slots=True)
class Writes:
    """When the tape wrote to each host (recorded times, in µs, 8 bytes each)."""

    times: dict[str, array[int]] = field(default_factory=dict)
    _sorted: bool = True

    def add(self, host: str, at_us: int) -> None:
        values = self.times.get(host.lower())
        if values is None:
            values = self.times[host.lower()] = array("q")
        values.append(at_us)
        self._sorted = False

    def between(self, host: str, first_us: int, second_us: int) -> bool:
        """Whether a write to `host` was recorded strictly after `first_us` and before
        `second_us` (in either order)."""
        if not self._sorted:
            for name, values in self.times.items():
                self.times[name] = array("q", sorted(values))
            self._sorted = True
        found = self.times.get(host.lower())
        if not found:
            return False
        times: array[int] = found
        lo, hi = min(first_us, second_us), max(first_us, second_us)
        i = bisect.bisect_right(times, lo)
        return i < len(times) and times[i] < hi
