"""When each request is due, and how late the replayer ran against that plan.

Send times are fixed before anything is sent: recorded gaps divided by ``speed``, or
``1/rate`` apart, open loop. Latency is then measured from the time a request was due,
not from when it actually left, so a target that stalls cannot hide its stall by holding
the replayer back (coordinated omission; wrk2 corrects it the same way). With ``asap``
there is no plan: a request is due when a slot frees up.
"""

from __future__ import annotations

import logging
import random
import time
from datetime import UTC, datetime, timedelta

from shadowtape.replay.rules.options import Pace

log = logging.getLogger("shadowtape.replay")

#: The run "fell behind" when more than 1% of requests started later than this.
BEHIND_MS = 10.0
#: Warn while running when a request starts this late.
WARN_LAG_MS = 100.0
#: The first request is due this long after start, so set-up does not count as lag.
LEAD_S = 0.05


class Schedule:
    """Monotonic due times (``time.monotonic()`` seconds) for requests in tape order."""

    def __init__(self, *, pace: Pace, speed: float = 1.0, rate: float | None = None) -> None:
        self.pace = pace
        self.speed = speed
        self.rate = rate
        self.start = 0.0
        self._first: int | None = None
        self._count = 0
        self._last = 0.0

    def begin(self, now: float | None = None) -> None:
        self.start = (time.monotonic() if now is None else now) + LEAD_S
        self._last = self.start

    def due(self, recorded_at: datetime | int) -> float | None:
        """When a request recorded at ``recorded_at`` (a datetime, or microseconds since
        the epoch) is due; None when not paced.

        The plan starts at the first request (unless ``begin`` was called), so reading
        the first part of the tape does not count as lag."""
        if not self.start:
            self.begin()
        if self.rate is not None:
            at = self.start + self._count / self.rate
            self._count += 1
            return at
        if self.pace is not Pace.RECORDED:
            return None
        if isinstance(recorded_at, datetime):
            recorded_at = _micros(recorded_at)
        if self._first is None:
            self._first = recorded_at
        offset = (recorded_at - self._first) / 1e6 / self.speed
        # A tape slightly out of order must not schedule into the past of its neighbours.
        at = max(self.start + offset, self._last)
        self._last = at
        return at


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(at: datetime) -> int:
    return ((at if at.tzinfo else at.replace(tzinfo=UTC)) - _EPOCH) // _MICROSECOND


class LagStats:
    """How late sends started: exact maximum, p99 from a bounded random sample.

    ``warn``: say so, once, when one starts WARN_LAG_MS late. Off for waits that are the
    traffic's own (a request waiting for an earlier one that shares its state)."""

    def __init__(self, sample_size: int = 20_000, *, warn: bool = True) -> None:
        self.count = 0
        self.max_us = 0
        self._sample: list[int] = []
        self._size = sample_size
        self._random = random.Random(0)
        self._warned = not warn

    def add(self, lag_us: int) -> None:
        self.count += 1
        if lag_us > self.max_us:
            self.max_us = lag_us
        if len(self._sample) < self._size:
            self._sample.append(lag_us)
        else:
            slot = self._random.randrange(self.count)
            if slot < self._size:
                self._sample[slot] = lag_us
        if lag_us > WARN_LAG_MS * 1000 and not self._warned:
            self._warned = True
            log.warning(
                "the replayer is %.0f ms behind schedule: the target or this machine cannot "
                "keep up (raise --concurrency, lower --speed/--rate, or shard the replay)",
                lag_us / 1000,
            )

    def percentile(self, q: float) -> int:
        if not self._sample:
            return 0
        ordered = sorted(self._sample)
        index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
        return ordered[index]

    @property
    def fell_behind(self) -> bool:
        return self.percentile(0.99) > BEHIND_MS * 1000

    def figures_ms(self) -> tuple[float, float]:
        """p99 and maximum lag in milliseconds, as run.json (and the last progress line)
        give them."""
        return round(self.percentile(0.99) / 1000, 3), round(self.max_us / 1000, 3)

    def summary(self) -> dict[str, object]:
        p99, most = self.figures_ms()
        return {"max_lag_ms": most, "p99_lag_ms": p99, "fell_behind": self.fell_behind}
