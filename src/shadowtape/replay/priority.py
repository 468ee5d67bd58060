"""The results thread runs below the event loop: SCHED_IDLE on Linux, else ten nice steps.

It compresses and writes row groups: bursts of several milliseconds that need no GIL.
On a small machine those bursts took a core from the event loop, or from the server on
the same machine, and every reply due meanwhile was read late. Measured at 6,000
requests/s on two cores, in interleaved runs: p99 latency 1.4-2.0 ms with the threads at
the loop's priority, 0.6-1.2 ms with the results thread ten steps nicer.

Nicer is not enough under Linux's EEVDF scheduler: a running thread keeps its core until
its slice (about 3 ms) is used, whatever its weight, so a loop woken by a reply could
still wait that long behind it. A SCHED_IDLE thread is preempted at once by any other
that wakes (same-minute runs at 5,000 requests/s: p99 0.55-0.77 ms against 0.75-2.3 ms).
Such a thread only runs on idle cycles. Nothing waits on it while it has a backlog to
work through (the loop hands it finished rows and goes on); when the backlog is full the
loop waits for it, its core falls idle and the thread runs. On a machine kept busy by
other programs it would crawl, as everything there does.

The reader thread keeps the loop's priority: the loop does wait for it when its
read-ahead runs dry, and on a starved machine a lower reader let the replay fall further
behind.
"""

from __future__ import annotations

import logging
import os
import threading

#: How much nicer than the loop the results thread makes itself where SCHED_IDLE is not
#: available (Unix nice steps).
NICER = 10

log = logging.getLogger("shadowtape.replay")


def lower_this_thread(steps: int = NICER) -> None:
    """Put the calling thread below every other (SCHED_IDLE), or ``steps`` nicer where
    that is not possible; where neither is, carry on."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))  # 0: this thread
        return
    except (AttributeError, OSError) as exc:  # not Linux: nice steps instead
        log.debug("SCHED_IDLE not available: %s", exc)
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + steps)
    except (AttributeError, OSError) as exc:  # not Unix, or not allowed: not needed
        log.debug("background thread priority unchanged: %s", exc)
