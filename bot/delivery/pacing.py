"""Pacing sends under a platform's rate limits: a token bucket, slowed down when the platform complains."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Protocol

# After the platform complained, the rate drops to this share and climbs back over RECOVERY seconds.
SLOW_SHARE = 0.5
RECOVERY_SECONDS = 60.0


class Pacer(Protocol):
    """What a sender needs from a rate limiter."""

    async def take(self) -> None:
        """Wait until one more send is allowed, and count it."""
        ...

    def slow_down(self, seconds: float) -> None:
        """The platform asked to wait `seconds`: pause every sender and lower the rate for a while."""
        ...


def slowed_share(slowed_at: float | None, now: float) -> float | None:
    """The share of the nominal rate allowed `now` after a slow-down at `slowed_at` (None: back to full)."""
    if slowed_at is None:
        return None
    progress = (now - slowed_at) / RECOVERY_SECONDS
    if progress >= 1.0:
        return None
    return SLOW_SHARE + (1.0 - SLOW_SHARE) * progress


class TokenBucket:
    """`rate` sends per second on average, up to `burst` at once (in-process, monotonic time).

    `slow_down` is called when the platform says we are too fast (Telegram 429, VK error 9): no
    token is given out until its wait is over, and the rate is halved, then recovers linearly.
    """

    def __init__(self, rate: float, burst: float) -> None:
        self.nominal_rate = rate
        self.rate = rate
        self.burst = max(burst, 1.0)
        self._tokens = self.burst
        self._stamp = asyncio.get_running_loop().time()
        self._paused_until = 0.0
        self._slowed_at: float | None = None
        self._queue = asyncio.Lock()

    def slow_down(self, seconds: float) -> None:
        """The platform asked to wait `seconds`: pause every sender and lower the rate for a while."""
        now = asyncio.get_running_loop().time()
        self._paused_until = max(self._paused_until, now + max(seconds, 0.0))
        self._tokens = min(self._tokens, 0.0)
        self._slowed_at = now
        self.rate = self.nominal_rate * SLOW_SHARE

    def _recover(self, now: float) -> None:
        share = slowed_share(self._slowed_at, now)
        if share is None:
            self.rate, self._slowed_at = self.nominal_rate, None
        else:
            self.rate = self.nominal_rate * share

    def _refill(self) -> float:
        now = asyncio.get_running_loop().time()
        self._recover(now)
        if now < self._paused_until:
            self._stamp = now
            return self._tokens
        # Nothing accrues while paused: right after a platform's wait, senders restart from empty
        # rather than with a full burst that would trigger the next complaint.
        accrued_since = max(self._stamp, self._paused_until)
        self._tokens = min(self.burst, self._tokens + (now - accrued_since) * self.rate)
        self._stamp = now
        return self._tokens

    @property
    def full(self) -> bool:
        return self._refill() >= self.burst

    async def take(self) -> None:
        """Wait for a token and spend it."""
        # Waiters queue on a lock (first come, first served) so only one of them polls the clock;
        # hundreds of senders each sleeping and re-checking would cost more CPU than the sends.
        async with self._queue:
            while True:
                missing = 1.0 - self._refill()
                if missing <= 0:
                    self._tokens -= 1.0
                    return
                pause = self._paused_until - asyncio.get_running_loop().time()
                await asyncio.sleep(max(pause, 0.0) + missing / self.rate)


class SlidingWindow:
    """At most `limit` sends in any `window` seconds (how VK counts its 20 requests per second).

    Unlike a bucket with no burst, a sender that wakes up late loses nothing: the window only looks
    at when the last `limit` sends happened, so a busy event loop does not lower the achieved rate.
    """

    def __init__(self, limit: int, window: float = 1.0, spacing: float = 0.0) -> None:
        self.nominal_limit = max(limit, 1)
        self.limit = self.nominal_limit
        self.window = window
        # A minimum gap between two sends: a whole window's worth at once would reach the platform
        # bunched up and uneven, and it counts arrivals, not our departures.
        self.spacing = spacing
        self._sent: deque[float] = deque()
        self._paused_until = 0.0
        self._slowed_at: float | None = None
        self._queue = asyncio.Lock()

    @property
    def rate(self) -> float:
        """Sends per second allowed now."""
        self._recover(asyncio.get_running_loop().time())
        return self.limit / self.window

    def slow_down(self, seconds: float) -> None:
        """The platform asked to wait `seconds`: pause every sender and lower the rate for a while."""
        now = asyncio.get_running_loop().time()
        self._paused_until = max(self._paused_until, now + max(seconds, 0.0))
        self._slowed_at = now
        self.limit = max(1, int(self.nominal_limit * SLOW_SHARE))

    def _recover(self, now: float) -> None:
        share = slowed_share(self._slowed_at, now)
        if share is None:
            self.limit, self._slowed_at = self.nominal_limit, None
        else:
            self.limit = max(1, int(self.nominal_limit * share))

    async def take(self) -> None:
        """Wait until fewer than `limit` sends happened in the last `window` seconds, and count one."""
        loop = asyncio.get_running_loop()
        async with self._queue:
            while True:
                now = loop.time()
                if now < self._paused_until:
                    await asyncio.sleep(self._paused_until - now)
                    continue
                self._recover(now)
                while self._sent and self._sent[0] <= now - self.window:
                    self._sent.popleft()
                if self._sent and now < self._sent[-1] + self.spacing:
                    await asyncio.sleep(self._sent[-1] + self.spacing - now)
                    continue
                if len(self._sent) < self.limit:
                    self._sent.append(now)
                    return
                # The oldest of the last `limit` sends leaves the window first.
                await asyncio.sleep(self._sent[-self.limit] + self.window - now)
