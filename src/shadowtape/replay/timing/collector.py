"""Garbage collection once in a while, in a gap between sends, not wherever the
interpreter decides.

A replay's objects die by reference counting; automatic collections only scanned the
jobs read ahead and the replies waiting to be written, for milliseconds, while sends
fell due (benchmarks/README.md, "Replay"). So during a run automatic collection is off,
the objects from before it are frozen, and the engine collects every ``every`` seconds,
in a gap between sends if one comes within ``grace`` seconds, as a bound on whatever a
cycle might leak. Everything is restored when the run ends.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from types import TracebackType

#: Seconds between collections during a run...
EVERY_S = 10.0
#: ...and how much longer one waits for a gap between sends before it runs anyway.
GRACE_S = 2.0

_depth = 0


class Collector:
    """Takes over garbage collection from ``start()`` (or the ``with`` block) until
    ``stop()``; ``step()`` collects when one is due."""

    def __init__(
        self,
        *,
        every: float = EVERY_S,
        grace: float = GRACE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.every = every
        self.grace = grace
        self.clock = clock
        self.collections = 0
        self._was_enabled = False
        self._owner = False
        self._last = 0.0

    def __enter__(self) -> Collector:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Freeze what exists and turn automatic collection off."""
        global _depth
        _depth += 1
        self._owner = _depth == 1
        if self._owner:  # a run inside a run leaves the outer one in charge
            self._was_enabled = gc.isenabled()
            gc.collect()
            gc.freeze()
            gc.disable()
        self._last = self.clock()

    def stop(self) -> None:
        """Give collection back to the interpreter as it was."""
        global _depth
        _depth -= 1
        if self._owner:
            gc.unfreeze()
            if self._was_enabled:
                gc.enable()

    def step(self, *, force: bool = False) -> bool:
        """Collect if one is due: ``every`` seconds after the last in a gap, ``grace``
        later whatever the schedule (``force``). False when none was due."""
        now = self.clock()
        if now - self._last < self.every + (self.grace if force else 0.0):
            return False
        if self._owner:
            gc.collect()  # the frozen objects from before the run are not scanned
        self._last = now
        self.collections += 1
        return True
