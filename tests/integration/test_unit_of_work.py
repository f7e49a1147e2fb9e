"""One update, one transaction: sessions inside a unit of work join it, commit once, roll back together;
dialog state in Redis moves on only after the commit; a full queue turns updates away."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.core.clock import ManualClock
from bot.inbound.queue import Arrival, InboundQueue
from storage.db import TRANSIENT_ERRORS, Database, StorageBusy, migrate
from storage.models import DialogStateRow, utcnow
from storage.state import RedisStateStore
from storage.unit import commit_unit
from tests.harness.settings import START
from tests.harness.stores import redis_url


async def _migrated(url: str) -> Database:
    db = Database(url)
    await migrate(db)
    return db


async def _rows(db: Database) -> int:
    # A connection of its own: what other processes see.
    async with db.engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(DialogStateRow)) or 0)


def _state(key: str) -> DialogStateRow:
    return DialogStateRow(key=key, payload={"step": "text"}, updated_at=utcnow())


async def test_sessions_inside_a_unit_commit_once_at_its_end(database_url: str) -> None:
    db = await _migrated(database_url)
    try:
        async with db.unit() as unit:
            async with db.session() as first:
                first.add(_state("tg:1"))
            async with db.session() as second:
                assert second is first
                second.add(_state("tg:2"))
            assert await _rows(db) == 0
        assert unit.commits == 1
        assert await _rows(db) == 2
    finally:
        await db.dispose()


async def test_a_failure_anywhere_in_the_unit_stores_nothing(database_url: str) -> None:
    db = await _migrated(database_url)
    woken: list[str] = []
    try:
        with pytest.raises(RuntimeError):
            async with db.unit():
                async with db.session() as session:
                    session.add(_state("tg:1"))
                db.after_commit(lambda: woken.append("delivery"))
                raise RuntimeError("the handler failed after its first write")
        assert await _rows(db) == 0
        assert woken == []
    finally:
        await db.dispose()


async def test_commit_unit_commits_midway_and_later_work_joins_again(database_url: str) -> None:
    db = await _migrated(database_url)
    woken: list[int] = []
    try:
        async with db.unit() as unit:
            async with db.session() as session:
                session.add(_state("tg:1"))
            db.after_commit(lambda: woken.append(unit.commits))
            await commit_unit()
            assert await _rows(db) == 1 and woken == [1]
            async with db.session() as session:
                session.add(_state("tg:2"))
        assert unit.commits == 2 and await _rows(db) == 2
    finally:
        await db.dispose()


async def test_another_task_gets_a_session_of_its_own(database_url: str) -> None:
    db = await _migrated(database_url)
    try:
        async with db.unit() as unit:

            async def elsewhere() -> bool:
                async with db.session() as session:
                    return session is unit.session

            # A task copies the context, unit included; sharing the session would be unsafe.
            assert await asyncio.create_task(elsewhere()) is False
    finally:
        await db.dispose()


async def test_a_savepoint_lets_a_constraint_error_be_caught_inside_a_unit(postgres_db_url: str) -> None:
    db = await _migrated(postgres_db_url)
    try:
        async with db.unit():
            async with db.session() as session:
                session.add(_state("tg:1"))
            with pytest.raises(IntegrityError):
                async with db.session(savepoint=True) as session:
                    session.add(_state("tg:1"))
            async with db.session() as session:
                session.add(_state("tg:2"))
        assert await _rows(db) == 2
    finally:
        await db.dispose()


async def test_redis_state_moves_on_only_once_the_unit_commits(postgres_db_url: str) -> None:
    url = redis_url()
    if url is None:
        pytest.skip("Redis not configured (REDIS_URL)")
    from redis.asyncio import Redis

    redis = Redis.from_url(url)
    await redis.flushdb()
    store = RedisStateStore(redis, ttl_seconds=3600)
    db = await _migrated(postgres_db_url)
    try:
        await store.set("tg:7", {"step": "text"})
        with pytest.raises(RuntimeError):
            async with db.unit():
                await store.set("tg:7", {"step": "photos"})
                assert await store.get("tg:7") == {"step": "text"}
                raise RuntimeError("the reply could not be stored")
        # Rolled back: the citizen's next update starts from where this one did.
        assert await store.get("tg:7") == {"step": "text"}
        async with db.unit():
            await store.set("tg:7", {"step": "photos"})
        assert await store.get("tg:7") == {"step": "photos"}
    finally:
        await db.dispose()
        await redis.aclose()


def _arrival(update_id: int) -> Arrival:
    payload = {"update_id": update_id, "message": {"chat": {"id": 100 + update_id}}}
    return Arrival(f"tg:{update_id}", "tg", f"tg:{100 + update_id}", payload, seq=update_id)


async def test_past_its_backlog_limit_the_queue_turns_updates_away_until_it_drains(database_url: str) -> None:
    db = await _migrated(database_url)
    queue = InboundQueue(db, ManualClock(START), backlog_limit=3, backlog_every=0.0)
    try:
        for update_id in (1, 2, 3):
            assert await queue.put(_arrival(update_id))
        with pytest.raises(StorageBusy) as refused:
            await queue.put(_arrival(4))
        # Receivers treat it like storage that is away: 503, the platform redelivers.
        assert isinstance(refused.value, TRANSIENT_ERRORS)
        assert await queue.backlog() == 3
        for item in await queue.claim(["tg"], limit=2, album_quiet=timedelta(seconds=1)):
            await queue.finish(item)
        assert await queue.put(_arrival(4))
        assert await queue.backlog() == 2
    finally:
        await db.dispose()
