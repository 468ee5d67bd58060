"""Waiting until a send is due, to the tens of microseconds.

asyncio's timers wake up to a millisecond late (epoll takes whole milliseconds, rounded
up). On Linux with Python 3.13+ a timerfd set to the due time (CLOCK_MONOTONIC, which
``time.monotonic()`` reads) wakes the loop through epoll, as precisely as the kernel
schedules; elsewhere the loop's own timer is used.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from typing import Any

#: The timerfd functions are new in Python 3.13 (type-checked against 3.11).
_os: Any = os
#: Waits shorter than this are spent yielding to the loop instead of sleeping: waking
#: up costs about as much.
YIELD_BELOW_S = 0.0001


class DueTimer:
    """``await timer.until(due)``: one at a time (the dispatcher's)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._fd: int | None = None
        self._waiter: asyncio.Future[None] | None = None
        create = getattr(_os, "timerfd_create", None)
        if create is None:
            return
        try:
            fd = create(time.CLOCK_MONOTONIC, flags=_os.TFD_NONBLOCK | _os.TFD_CLOEXEC)
        except OSError:
            return
        try:
            loop.add_reader(fd, self._fired)
        except (NotImplementedError, RuntimeError, ValueError):  # a loop without readers
            os.close(fd)
            return
        self._fd = fd

    @property
    def precise(self) -> bool:
        return self._fd is not None

    def _fired(self) -> None:
        assert self._fd is not None
        with contextlib.suppress(BlockingIOError):
            os.read(self._fd, 8)
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def until(self, due: float) -> None:
        """Return at ``due`` (a ``time.monotonic()`` time), or at once if it has passed."""
        wait = due - time.monotonic()
        if wait <= 0:
            return
        if wait < YIELD_BELOW_S:
            while time.monotonic() < due:
                await asyncio.sleep(0)
            return
        if self._fd is None:
            await asyncio.sleep(wait)
            return
        self._waiter = waiter = self._loop.create_future()
        _os.timerfd_settime(self._fd, flags=_os.TFD_TIMER_ABSTIME, initial=due)
        try:
            await waiter
        finally:
            if self._waiter is waiter:  # cancelled: disarm
                self._waiter = None
                _os.timerfd_settime(self._fd, initial=0)

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self._fd)
            os.close(self._fd)
            self._fd = None
