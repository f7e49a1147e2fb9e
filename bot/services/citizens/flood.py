"""Flood control: a citizen sending faster than a person types gets one warning, then silence
until the window passes. Platform-neutral; the counter lives in memory or in Redis."""

from __future__ import annotations

import time
from collections import deque
from enum import Enum

from redis.asyncio import Redis


class FloodVerdict(Enum):
    OK = "ok"
    WARN = "warn"  # the first message over the limit: say why we stop answering
    DROP = "drop"  # the rest of the burst: already warned


class FloodGuard:
    """Sliding-window limit per key, in process memory."""

    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._hits: dict[str, deque[float]] = {}

    async def hit(self, key: str) -> FloodVerdict:
        now = time.monotonic()
        hits = self._hits.setdefault(key, deque())
        while hits and now - hits[0] > self.window_seconds:
            hits.popleft()
        hits.append(now)
        if len(self._hits) > 50_000:
            # Forget idle keys so memory stays bounded under a crowd of one-message citizens.
            for stale in [k for k, v in self._hits.items() if not v or now - v[-1] > self.window_seconds]:
                del self._hits[stale]
        return _verdict(len(hits), self.limit)

    async def forget(self, key: str) -> None:
        """Drop the counter of `key` (a citizen asked to be forgotten: it holds their user id)."""
        self._hits.pop(key, None)


class RedisFloodGuard(FloodGuard):
    """Fixed-window counter in Redis, shared by all workers."""

    def __init__(self, redis: Redis, limit: int, window_seconds: float, prefix: str = "tsur:flood:") -> None:
        super().__init__(limit, window_seconds)
        self._redis = redis
        self._prefix = prefix

    async def hit(self, key: str) -> FloodVerdict:
        window = int(time.time() // self.window_seconds)
        redis_key = f"{self._prefix}{key}:{window}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(redis_key)
            pipe.expire(redis_key, int(self.window_seconds) + 1)
            count, _ = await pipe.execute()
        return _verdict(int(count), self.limit)

    async def forget(self, key: str) -> None:
        # The current window's counter, and the previous one if it has not expired yet.
        window = int(time.time() // self.window_seconds)
        await self._redis.delete(*(f"{self._prefix}{key}:{w}" for w in (window - 1, window)))


def _verdict(count: int, limit: int) -> FloodVerdict:
    if count <= limit:
        return FloodVerdict.OK
    return FloodVerdict.WARN if count == limit + 1 else FloodVerdict.DROP
