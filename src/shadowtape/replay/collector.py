"""Garbage collection in the gaps between sends, not wherever the interpreter decides.

The interpreter collects when allocations pass a threshold, wherever the program is. At
thousands of requests a second that is many times a second, each pause from a fraction of
a millisecond (the youngest generation) to 15 ms (all of them, with everything a big
import graph left behind), and every send due meanwhile leaves late. During a run the
objects that existed before it are frozen (never scanned again), automatic collection is
off, and the engine collects when it has a gap, or when too much has piled up to wait.
Everything is restored when the run ends.
"""

from __future__ import annotations

import gc
import time
from types import TracebackType

#: Allocations (less deallocations) of tracked objects before a collection is asked for,
#: as the interpreter's own first threshold...
YOUNG = 2_000
#: ...and before one is made whatever the schedule (a replay with no gaps).
FORCE = 6_000
#: Young collections before one that also takes the middle generation.
OLDER = 10
#: Seconds between full collections (cheap with the old objects frozen).
FULL_EVERY_S = 30.0

_depth = 0


class Collector:
    """Takes over garbage collection from ``start()`` (or the ``with`` block) until
    ``stop()``; ``step()`` collects."""

    def __init__(
        self, *, young: int = YOUNG, force: int = FORCE, full_every: float = FULL_EVERY_S
    ) -> None:
        self.young = young
        self.force = force
        self.full_every = full_every
        self.collections = 0
        self._was_enabled = False
        self._owner = False
        self._last_full = 0.0

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
        self._last_full = time.monotonic()

    def stop(self) -> None:
        """Give collection back to the interpreter as it was."""
        global _depth
        _depth -= 1
        if self._owner:
            gc.unfreeze()
            if self._was_enabled:
                gc.enable()

    def step(self, *, force: bool = False) -> bool:
        """Collect if enough has been allocated; False when nothing was due."""
        young, older, _ = gc.get_count()
        if young < (self.force if force else self.young):
            return False
        now = time.monotonic()
        if now - self._last_full >= self.full_every:
            generation, self._last_full = 2, now
        else:
            generation = 1 if older >= OLDER else 0
        gc.collect(generation)
        self.collections += 1
        return True
