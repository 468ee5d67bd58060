"""The results thread runs at a lower OS priority than the event loop.

It compresses and writes row groups: bursts of several milliseconds that need no GIL.
On a small machine those bursts took a core from the event loop, or from the server on
the same machine, and every reply due meanwhile was read late. Measured at 6,000
requests/s on two cores, in interleaved runs: p99 latency 1.4-2.0 ms with the threads at
the loop's priority, 0.6-1.2 ms with the results and reader threads ten steps nicer.
Nothing waits on the results thread while it has a backlog to work through (the loop
hands it finished rows and goes on), and a nicer thread still gets every idle cycle.
The reader thread keeps the loop's priority: the loop does wait for it when its
read-ahead runs dry, and on a starved machine nicer threads let the replay fall further
behind.
"""

from __future__ import annotations

import logging
import os
import threading

#: How much nicer than the loop the results thread makes itself (Unix nice steps).
NICER = 10

log = logging.getLogger("shadowtape.replay")


def lower_this_thread(steps: int = NICER) -> None:
    """Make the calling thread ``steps`` nicer; where that is not possible, carry on."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + steps)
    except (AttributeError, OSError) as exc:  # not Linux, or not allowed: not needed
        log.debug("background thread priority unchanged: %s", exc)
