"""The inbound queue: stored once, each conversation in order, albums whole, leases, outcomes."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from bot.core.clock import ManualClock
from bot.inbound.queue import Arrival, InboundItem, InboundQueue
from bot.inbound.worker import InboundWorker, RetryLater, Unprocessable
from storage.db import Database, migrate
from tests.harness.settings import START

QUIET = timedelta(seconds=1)


def update(update_id: int, chat: int, album: str | None = None) -> Arrival:
    payload: dict[str, Any] = {"update_id": update_id, "message": {"chat": {"id": chat}}}
    return Arrival(f"tg:{update_id}", "tg", f"tg:{chat}", payload, seq=update_id, album=album)


async def queue_on(url: str) -> tuple[InboundQueue, ManualClock, Database]:
    db = Database(url)
    await migrate(db)
    clock = ManualClock(START)
    return InboundQueue(db, clock), clock, db


async def claimed(queue: InboundQueue, limit: int = 10) -> list[list[int]]:
    items = await queue.claim(["tg"], limit=limit, album_quiet=QUIET)
    return [[int(p["update_id"]) for p in item.payloads] for item in items]


async def test_a_redelivered_update_is_stored_once(database_url: str) -> None:
    queue, _clock, db = await queue_on(database_url)
    try:
        assert await queue.put(update(1, 100)) is True
        # Telegram sends it again (no 2xx reached it), and a second process gets it too.
        assert await queue.put(update(1, 100)) is False
        assert await queue.put_many([update(1, 100), update(2, 100)]) == 1
        assert await queue.backlog() == 2
    finally:
        await db.dispose()


async def test_one_conversation_goes_in_order_others_in_parallel(database_url: str) -> None:
    queue, _clock, db = await queue_on(database_url)
    try:
        # Stored out of order (two webhook connections): processed by update_id.
        await queue.put_many([update(3, 100), update(2, 100), update(4, 200)])
        first = await queue.claim(["tg"], limit=10, album_quiet=QUIET)
        assert sorted([[p["update_id"] for p in i.payloads] for i in first]) == [[2], [4]]
        # While update 2 is being processed, nothing else of chat 100 is handed out.
        assert await claimed(queue) == []
        for item in first:
            await queue.finish(item)
        assert await claimed(queue) == [[3]]
    finally:
        await db.dispose()


async def test_an_album_waits_until_complete_and_goes_as_one_item(database_url: str) -> None:
    queue, clock, db = await queue_on(database_url)
    try:
        await queue.put_many([update(10, 100, album="tg:100:g"), update(11, 100, album="tg:100:g")])
        assert await claimed(queue) == []
        clock.advance(timedelta(seconds=0.5))
        await queue.put(update(12, 100, album="tg:100:g"))
        clock.advance(timedelta(seconds=0.8))
        # The last photo came 0.8 s ago: the album may still grow.
        assert await claimed(queue) == []
        clock.advance(timedelta(seconds=0.3))
        [item] = await queue.claim(["tg"], limit=10, album_quiet=QUIET)
        assert [p["update_id"] for p in item.payloads] == [10, 11, 12]
        await queue.finish(item)
        assert await queue.backlog() == 0
    finally:
        await db.dispose()


async def test_a_lease_keeps_an_update_from_a_second_worker_until_it_runs_out(database_url: str) -> None:
    queue, clock, db = await queue_on(database_url)
    other = InboundQueue(db, clock)
    try:
        await queue.put(update(1, 100))
        assert await claimed(queue) == [[1]]
        # A second process (or this one again) asks while the first is working: nothing.
        assert await claimed(other) == []
        # The first was killed mid-update: once the lease has run out, the update goes again.
        clock.advance(queue.lease + timedelta(seconds=1))
        assert await claimed(other) == [[1]]
    finally:
        await db.dispose()


async def test_two_processes_claiming_at_once_never_share_an_update(database_url: str) -> None:
    queue, clock, db = await queue_on(database_url)
    second_db = Database(database_url)
    other = InboundQueue(second_db, clock)
    try:
        await queue.put_many([update(n, 100 + n) for n in range(1, 41)])
        keys: list[str] = []
        for _ in range(10):
            rounds = [q.claim(["tg"], limit=5, album_quiet=QUIET) for q in [queue, other] * 3]
            keys += [item.key for items in await asyncio.gather(*rounds) for item in items]
            if len(keys) >= 40:
                break
        # Each update leased by exactly one of them.
        assert len(keys) == len(set(keys)) == 40
    finally:
        await second_db.dispose()
        await db.dispose()


async def test_the_worker_retries_what_storage_or_the_platform_failed_and_gives_up_on_bugs(
    database_url: str,
) -> None:
    queue, clock, db = await queue_on(database_url)
    outcomes: dict[str, list[str]] = {}

    async def process(item: InboundItem) -> None:
        tries = outcomes.setdefault(item.key, [])
        tries.append("try")
        if item.key == "tg:1" and len(tries) == 1:
            raise ConnectionRefusedError("database away")
        if item.key == "tg:2" and len(tries) == 1:
            raise RetryLater("telegram 502", delay=5)
        if item.key == "tg:3":
            raise ValueError("a bug")
        if item.key == "tg:4":
            raise Unprocessable("not an update")

    worker = InboundWorker(queue, {"tg": process}, album_quiet=QUIET)
    try:
        await queue.put_many([update(n, 100 + n) for n in range(1, 6)])
        assert await worker.run_once() == 5
        assert await queue.status_of("tg:5") == "done"
        assert await queue.status_of("tg:3") == "dead" and await queue.status_of("tg:4") == "dead"
        # Away storage and the platform's hiccup: still queued, due again later.
        assert await queue.status_of("tg:1") == "pending" and await queue.status_of("tg:2") == "pending"
        clock.advance(timedelta(seconds=6))
        assert await worker.run_once() == 2
        assert await queue.status_of("tg:1") == "done" and await queue.status_of("tg:2") == "done"
        # A bug is not re-run (it would repeat what it did before failing).
        assert outcomes["tg:3"] == ["try"]
        assert await queue.backlog() == 0
    finally:
        await db.dispose()
