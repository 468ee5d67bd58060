"""Background threads run at a lower OS priority than the event loop.

The reader and results threads do bursts of work that needs no GIL (decompressing
Parquet, compressing it), several milliseconds at a time. On a small machine those
bursts took a core from the event loop, or from the server on the same machine, and
every reply due meanwhile was read late: measured at 6,000 requests/s on two cores, p99
latency 1.4-1.8 ms with the threads at the loop's priority, 0.6-0.9 ms with them ten
steps nicer, in interleaved runs. A nicer thread still gets every idle cycle, so nothing
is starved while the loop waits; and it holds the GIL only between its Arrow calls, so
the loop seldom waits on a thread the OS put aside.
"""

from __future__ import annotations

import logging
import os
import threading

#: How much nicer than the process a background thread makes itself (Unix nice steps).
NICER = 10

log = logging.getLogger("shadowtape.replay")


def lower_this_thread(steps: int = NICER) -> None:
    """Make the calling thread ``steps`` nicer; where that is not possible, carry on."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + steps)
    except (AttributeError, OSError) as exc:  # not Linux, or not allowed: not needed
        log.debug("background thread priority unchanged: %s", exc)
