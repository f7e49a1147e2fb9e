"""Pacing sends under a platform's rate limits: a token bucket, slowed down when the platform complains."""

from __future__ import annotations

import asyncio

# After the platform complained, the rate drops to this share and climbs back over RECOVERY seconds.
SLOW_SHARE = 0.5
RECOVERY_SECONDS = 60.0


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
        if self._slowed_at is None:
            return
        progress = (now - self._slowed_at) / RECOVERY_SECONDS
        if progress >= 1.0:
            self.rate, self._slowed_at = self.nominal_rate, None
        else:
            self.rate = self.nominal_rate * (SLOW_SHARE + (1.0 - SLOW_SHARE) * progress)

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
