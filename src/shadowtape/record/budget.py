"""The worker's time budget per exchange: a Deadline that a timer enforces.

The sanitizer checks its ``Deadline`` between steps and drops a body it has no time
for; a body step that is already running is stopped only by the deadline's ``guard``.
``TimerDeadline.guard`` arms a one-shot ``SIGALRM`` for the time left, whose handler
raises ``OverBudget`` in the step at its next Python bytecode, so a pathological body
costs at most the budget plus one call into C (one linear regex scan). Signals reach
only a process's main thread: the worker process uses this (``arm``), a pipeline on the
proxy's sender thread uses the plain Deadline, checked between steps and bodies.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from types import FrameType

from shadowtape.sanitize.sanitizer import Deadline, OverBudget

_armed = False


def _alarm(signum: int, frame: FrameType | None) -> None:
    # A late signal (the step finished as the timer fired) is ignored.
    if _armed:
        raise OverBudget()


def arm() -> bool:
    """Install the timer's handler; True when this thread can use TimerDeadline."""
    if threading.current_thread() is not threading.main_thread():
        return False
    signal.signal(signal.SIGALRM, _alarm)
    # Restart system calls the signal interrupts (the tape writer's, on its own thread).
    signal.siginterrupt(signal.SIGALRM, False)
    return True


class TimerDeadline(Deadline):
    """A Deadline whose guard interrupts the step it wraps when time runs out.

    Only on the main thread, after ``arm()``: the timer's handler runs there.
    """

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        global _armed
        left = self.at - time.monotonic()
        if left <= 0:
            raise OverBudget()
        _armed = True
        try:
            signal.setitimer(signal.ITIMER_REAL, left)
            yield
        finally:
            _armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
