"""Test databases and state stores: which servers the environment offers, an empty PostgreSQL
schema per test, and a state store of each kind."""

from __future__ import annotations

import asyncio
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


def isolate_worker(worker: str | None) -> None:
    """Under pytest-xdist, give worker `gwN` its own PostgreSQL database (`<name>_gwN`, created
    when missing) and Redis db (the configured one minus N), so parallel workers never reset each
    other's data. Subprocesses the tests start inherit the environment, and so the same stores."""
    if not worker or not worker.startswith("gw"):
        return
    index = int(worker[2:])
    url = postgres_url()
    if url is not None:
        from sqlalchemy.engine import make_url

        base = make_url(url)
        own = base.set(database=f"{base.database}_{worker}")
        asyncio.run(_create_database(base.render_as_string(hide_password=False), str(own.database)))
        os.environ["DATABASE_URL"] = own.render_as_string(hide_password=False)
    redis = redis_url()
    if redis is not None:
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(redis)
        number = int(parts.path.strip("/") or 0)
        os.environ["REDIS_URL"] = urlunsplit(parts._replace(path=f"/{max(0, number - index)}"))


async def _create_database(url: str, name: str) -> None:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unexpected database name {name!r}")
    db = Database(url)
    try:
        # CREATE DATABASE cannot run inside a transaction block.
        engine = db.engine.execution_options(isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            query = text("SELECT 1 FROM pg_database WHERE datname = :n")
            if not await connection.scalar(query, {"n": name}):
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await db.dispose()
