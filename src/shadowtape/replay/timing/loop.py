"""The event loop a replay runs on: uvloop where it is installed, asyncio's otherwise.

A replay at a fixed rate spends much of its time in the loop's own turns, which are C in
uvloop (measured lower tail latency: benchmarks/README.md, "Replay"). The replay's code is
the same on both, and tests run it on each.
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
