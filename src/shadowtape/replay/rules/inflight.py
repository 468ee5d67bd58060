"""Mean requests in flight: the recording's and the replay's, to show how much of
production's concurrency the replay kept.

The mean over a run is the time requests spent in flight, summed, over the time from the
first start to the last end: 16 when sixteen requests were always open. The recording's
comes from each request's recorded start and duration, the replay's from when each
exchange was sent and when its last reply ended. Each request adds in O(1).
"""

from __future__ import annotations


class InFlight:
    """Running sums for one mean, in any one unit of time."""

    __slots__ = ("_busy", "_first", "_last")

    def __init__(self) -> None:
        self._busy = 0.0
        self._first: float | None = None
        self._last: float | None = None

    def add(self, start: float, end: float) -> None:
        if end < start:
            end = start
        self._busy += end - start
        if self._first is None or start < self._first:
            self._first = start
        if self._last is None or end > self._last:
            self._last = end

    def mean(self) -> float | None:
        """The mean requests in flight, None before any (or when none took any time)."""
        if self._first is None or self._last is None or self._last <= self._first:
            return None
        return round(self._busy / (self._last - self._first), 2)
