"""Send slots: conversation first, a slow send's slot lent out (within the spare), closing."""

from __future__ import annotations

import asyncio

import pytest

from bot.delivery.slots import Slots, Turn


async def settle() -> None:
    """Let every ready callback and task run (timers due now included)."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_free_slot_goes_to_waiting_conversation_before_waiting_notices() -> None:
    slots = Slots(1, spare=0, slow_after=3600)
    first = await slots.take(urgent=False)
    assert first is not None
    order: list[str] = []

    async def wait(name: str, urgent: bool) -> None:
        turn = await slots.take(urgent=urgent)
        assert turn is not None
        order.append(name)
        turn.done()

    waiting = [
        asyncio.create_task(wait("notice-1", False)),
        asyncio.create_task(wait("notice-2", False)),
        asyncio.create_task(wait("answer", True)),
    ]
    await settle()
    assert order == []
    first.done()
    await asyncio.gather(*waiting)
    assert order == ["answer", "notice-1", "notice-2"]


async def test_a_slow_send_lends_its_slot_up_to_the_spare() -> None:
    slots = Slots(1, spare=1, slow_after=0)
    slow = await slots.take(urgent=True)
    assert slow is not None
    await settle()  # past slow_after: the slot is lent out
    assert slots.slow == 1
    second = await asyncio.wait_for(slots.take(urgent=True), timeout=1)
    assert second is not None
    await settle()
    # The spare is used up: the second slow send keeps its slot, so a third waits.
    assert slots.slow == 1
    third = asyncio.create_task(slots.take(urgent=True))
    await settle()
    assert not third.done()
    slow.done()  # the lent slot comes back to the spare, not to the waiter
    await settle()
    assert slots.slow == 0 and not third.done()
    second.done()
    turn = await asyncio.wait_for(third, timeout=1)
    assert isinstance(turn, Turn)
    turn.done()
    turn.done()  # once only
    assert await slots.take(urgent=False) is not None


async def test_closing_answers_the_waiters_and_refuses_new_turns() -> None:
    slots = Slots(1, spare=0, slow_after=3600)
    held = await slots.take(urgent=True)
    assert held is not None
    waiting = asyncio.create_task(slots.take(urgent=False))
    await settle()
    slots.close()
    assert await asyncio.wait_for(waiting, timeout=1) is None
    assert await slots.take(urgent=True) is None
    held.done()


async def test_a_waiter_cancelled_as_it_is_handed_a_slot_passes_it_on() -> None:
    slots = Slots(1, spare=0, slow_after=3600)
    held = await slots.take(urgent=True)
    assert held is not None
    cancelled = asyncio.create_task(slots.take(urgent=True))
    behind = asyncio.create_task(slots.take(urgent=True))
    await settle()
    held.done()  # handed to `cancelled`, which is cancelled before it runs
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    turn = await asyncio.wait_for(behind, timeout=1)
    assert turn is not None
    turn.done()


async def test_recording_after_the_answer_lends_nothing() -> None:
    # Past the messenger's answer, time is the database's: lending then would only add writers.
    slots = Slots(1, spare=1, slow_after=0)
    turn = await slots.take(urgent=True)
    assert turn is not None
    turn.answered()
    await settle()
    assert slots.slow == 0
    waiting = asyncio.create_task(slots.take(urgent=True))
    await settle()
    assert not waiting.done()
    turn.done()
    second = await asyncio.wait_for(waiting, timeout=1)
    assert second is not None
    second.done()
