"""The event loop a replay runs on: uvloop where it is installed, asyncio's otherwise.

A replay at a fixed rate spends much of its loop's time in the loop itself (a turn per
send and per reply), and uvloop's turns are C. Measured against nginx, same minutes,
eight alternating 2.5 s rounds at ``--rate 8000`` (benchmarks/bench_replay.py's setup):
uncorrected p99 latency had a median of 1.0 ms on uvloop against 2.7 ms on asyncio's
loop, lower in six rounds of eight; ``--pace asap`` used about 7% less loop CPU per
request. The replay's code is the same on both (tests run it on each).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """What ``asyncio.Runner`` makes the replay's loop with."""
    try:
        import uvloop
    except ImportError:  # not on Windows: asyncio's loop does the same work, more slowly
        return asyncio.new_event_loop
    return uvloop.new_event_loop
