"""The token bucket that paces sends: bursts, the wait a platform asks for, and recovery."""

from __future__ import annotations

import asyncio

from bot.pacing import RECOVERY_SECONDS, SLOW_SHARE, TokenBucket


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
