"""The dispatcher's timer: never early, and on Linux far closer to the due time than
the loop's own millisecond timers."""

from __future__ import annotations

import asyncio
import statistics
import time

import pytest

from shadowtape.replay.timing.timer import DueTimer


@pytest.mark.timing
@pytest.mark.anyio
async def test_waits_end_at_the_due_time_not_a_millisecond_later() -> None:
    timer = DueTimer(asyncio.get_running_loop())
    precise = timer.precise
    try:
        late = []
        for _ in range(60):
            due = time.monotonic() + 0.0023
            await timer.until(due)
            now = time.monotonic()
            assert now >= due
            late.append(now - due)
        await timer.until(time.monotonic() - 1)  # already due: returns at once
    finally:
        timer.close()
    if not precise:
        pytest.skip("no timerfd here (Python < 3.13 or not Linux): the loop's timers are used")
    # asyncio.sleep(0.0023) wakes at the next whole millisecond of epoll: ~0.7 ms late.
    assert statistics.median(late) < 0.0004, late


@pytest.mark.anyio
async def test_a_cancelled_wait_disarms_the_timer() -> None:
    timer = DueTimer(asyncio.get_running_loop())
    try:
        waiting = asyncio.ensure_future(timer.until(time.monotonic() + 0.05))
        await asyncio.sleep(0.01)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        due = time.monotonic() + 0.01
        await timer.until(due)
        assert time.monotonic() >= due
    finally:
        timer.close()
