"""Dialog state stores (memory | SQL | Redis) and the per-citizen lock that serialises their updates."""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol

from redis.asyncio import Redis
from sqlalchemy import delete

from storage.db import Database
from storage.models import DialogStateRow, utcnow
from storage.unit import open_unit

StatePayload = dict[str, Any]


class StateStore(Protocol):
    """Where dialog state lives between updates."""

    async def get(self, key: str) -> StatePayload | None: ...
    async def set(self, key: str, payload: StatePayload) -> None: ...
    async def delete(self, key: str) -> None: ...
    def lock(self, key: str) -> Any:
        """An async context manager held while one update of this key is handled."""
        ...


class _LocalLocks:
    """Per-key asyncio locks that vanish when nobody holds or waits for them."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        async with lock:
            yield


class MemoryStateStore(_LocalLocks):
    """In-process state: for tests and throwaway runs (a restart forgets every dialog)."""

    def __init__(self) -> None:
        super().__init__()
        self._data: dict[str, str] = {}

    async def get(self, key: str) -> StatePayload | None:
        raw = self._data.get(key)
        return None if raw is None else dict(json.loads(raw))

    async def set(self, key: str, payload: StatePayload) -> None:
        # Serialised like the other stores so a non-JSON value fails here too, not only in production.
        self._data[key] = json.dumps(payload, ensure_ascii=False)

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)


class SqlStateStore(_LocalLocks):
    """State in the application database: the embedded default, survives restarts."""

    def __init__(self, db: Database) -> None:
        super().__init__()
        self._db = db

    async def get(self, key: str) -> StatePayload | None:
        async with self._db.session() as session:
            row = await session.get(DialogStateRow, key)
            return None if row is None else dict(row.payload)

    async def set(self, key: str, payload: StatePayload) -> None:
        async with self._db.session() as session:
            row = await session.get(DialogStateRow, key)
            if row is None:
                session.add(DialogStateRow(key=key, payload=payload, updated_at=utcnow()))
            else:
                row.payload = payload
                row.updated_at = utcnow()

    async def delete(self, key: str) -> None:
        async with self._db.session() as session:
            await session.execute(delete(DialogStateRow).where(DialogStateRow.key == key))


async def _once_committed(write: Callable[[], Awaitable[None]]) -> None:
    """Redis is not in the SQL transaction: state moves on only once the update's unit of work
    (its reply, its being done) is committed, so a rolled-back update finds the state it started
    from. Without a unit, now."""
    unit = open_unit()
    if unit is None:
        await write()
    else:
        unit.after_commit(write)


class RedisStateStore:
    """State in Redis: shared by several stateless workers; keys expire on their own."""

    def __init__(self, redis: Redis, *, ttl_seconds: int, prefix: str = "tsur:state:") -> None:
        self._redis = redis
        # Kept longer than the dialog TTL so the engine can still say "your draft expired".
        self._ttl = ttl_seconds * 2
        self._prefix = prefix

    async def get(self, key: str) -> StatePayload | None:
        raw = await self._redis.get(self._prefix + key)
        return None if raw is None else dict(json.loads(raw))

    async def set(self, key: str, payload: StatePayload) -> None:
        raw = json.dumps(payload, ensure_ascii=False)

        async def write() -> None:
            await self._redis.set(self._prefix + key, raw, ex=self._ttl)

        await _once_committed(write)

    async def delete(self, key: str) -> None:
        async def remove() -> None:
            await self._redis.delete(self._prefix + key)

        await _once_committed(remove)

    @asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        # A cross-process lock: two workers must not interleave one citizen's updates.
        async with self._redis.lock(self._prefix + "lock:" + key, timeout=30, blocking_timeout=30):
            yield
