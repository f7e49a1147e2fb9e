"""Test databases and state stores: which servers the environment offers, an empty PostgreSQL
schema per test, and a state store of each kind."""

from __future__ import annotations

import os

from sqlalchemy import text

from storage.db import Database
from storage.state import MemoryStateStore, RedisStateStore, SqlStateStore, StateStore


def postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


def redis_url() -> str | None:
    return os.environ.get("REDIS_URL") or None


async def reset_postgres(url: str) -> None:
    """Drop everything so each test starts from an empty schema, as on a fresh install."""
    db = Database(url)
    async with db.engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await db.dispose()


async def make_state(kind: str, app_db: Database) -> StateStore:
    if kind == "memory":
        return MemoryStateStore()
    if kind == "sql":
        return SqlStateStore(app_db)
    from redis.asyncio import Redis

    url = redis_url()
    assert url is not None
    redis = Redis.from_url(url)
    await redis.flushdb()
    return RedisStateStore(redis, ttl_seconds=3600)
