"""The results thread's place below the event loop: SCHED_IDLE on Linux, else nicer.

Its compress-and-write bursts need no GIL but do need a core; at the loop's priority they
delayed the replies the loop was due to read (benchmarks/README.md, "Replay", has the
measurements). The reader thread keeps the loop's priority: the loop waits for it.
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
