from __future__ import annotations

import asyncio

import pytest

from shadowtape.replay.timing.slots import Slots


def test_a_waiter_cancelled_as_a_slot_frees_up_leaves_the_slot_free() -> None:
    """Ctrl-C lands in the same loop turn as a request finishing: the dispatcher waiting
    for a slot is cancelled, and the freed slot must neither be lost nor crash it."""

    async def main() -> tuple[int, int]:
        slots = Slots(1)
        assert slots.take_now()
        waiting = asyncio.create_task(slots.take())
        await asyncio.sleep(0)
        waiting.cancel()
        slots.give()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        return slots.free, len(slots._waiters)

    assert asyncio.run(main()) == (1, 0)


def test_slots_go_to_waiters_in_arrival_order() -> None:
    async def main() -> list[int]:
        slots = Slots(1)
        assert slots.take_now()
        order: list[int] = []

        async def wait(i: int) -> None:
            await slots.take()
            order.append(i)

        tasks = [asyncio.create_task(wait(i)) for i in range(3)]
        await asyncio.sleep(0)
        for _ in range(3):
            slots.give()
            await asyncio.sleep(0)
        await asyncio.gather(*tasks)
        return order

    assert asyncio.run(main()) == [0, 1, 2]
