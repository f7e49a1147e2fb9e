"""The token bucket that paces sends: bursts, the wait a platform asks for, and recovery."""

from __future__ import annotations

import asyncio

from bot.delivery.pacing import RECOVERY_SECONDS, SLOW_SHARE, SlidingWindow, TokenBucket


async def test_burst_then_steady_rate() -> None:
    bucket = TokenBucket(rate=50, burst=3)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for _ in range(3):
        await bucket.take()
    assert loop.time() - started < 0.02  # the burst is free
    for _ in range(5):
        await bucket.take()
    # Five more at 50/s need at least 100 ms.
    assert loop.time() - started >= 0.095


async def test_slow_down_pauses_everyone_and_halves_the_rate() -> None:
    bucket = TokenBucket(rate=100, burst=5)
    loop = asyncio.get_running_loop()
    bucket.slow_down(0.3)
    assert bucket.rate == 100 * SLOW_SHARE
    started = loop.time()
    # Several senders at once: none of them gets through before the pause is over.
    times = await asyncio.gather(*(_take_at(bucket) for _ in range(3)))
    assert min(times) - started >= 0.29
    # After the pause the halved rate applies: 3 sends at 50/s, starting from an empty bucket.
    assert max(times) - started >= 0.29 + 2 / 50 - 0.005


async def test_rate_recovers_linearly_after_slow_down() -> None:
    bucket = TokenBucket(rate=30, burst=1)
    bucket.slow_down(0)
    assert bucket.rate == 15
    # Halfway through the recovery window the rate is halfway back.
    bucket._slowed_at = asyncio.get_running_loop().time() - RECOVERY_SECONDS / 2
    bucket.full  # noqa: B018 - reading refreshes the rate
    assert abs(bucket.rate - 22.5) < 0.1
    bucket._slowed_at = asyncio.get_running_loop().time() - RECOVERY_SECONDS
    bucket.full  # noqa: B018 - reading refreshes the rate
    assert bucket.rate == 30


async def _take_at(bucket: TokenBucket) -> float:
    await bucket.take()
    return asyncio.get_running_loop().time()


async def test_sliding_window_never_exceeds_its_limit_in_any_window() -> None:
    window = SlidingWindow(limit=5, window=0.2)
    times = [await _take_at(window) for _ in range(16)]
    # Any 6 consecutive sends span more than one window: never 6 inside 0.2 s.
    assert all(times[i + 5] - times[i] >= 0.2 - 1e-6 for i in range(len(times) - 5))
    # The first 5 go at once: a window has no reason to spread sends it can afford.
    assert times[4] - times[0] < 0.1


async def test_sliding_window_lets_a_late_sender_catch_up() -> None:
    window = SlidingWindow(limit=4, window=0.2)
    for _ in range(4):
        await window.take()
    # The loop was busy for longer than a window: the next 4 sends are owed at once, not paced out.
    await asyncio.sleep(0.25)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for _ in range(4):
        await window.take()
    assert loop.time() - started < 0.1


async def test_sliding_window_slow_down_pauses_and_halves() -> None:
    window = SlidingWindow(limit=10, window=0.5)
    assert window.rate == 20
    loop = asyncio.get_running_loop()
    started = loop.time()
    window.slow_down(0.2)
    assert window.rate == 10  # 5 per 0.5 s
    times = [await _take_at(window) for _ in range(6)]
    assert times[0] - started >= 0.19
    # Only 5 fit in the first window after the pause.
    assert times[5] - times[0] >= 0.5 - 1e-6
