"""Delivery lanes: a slow recipient holds up only itself, and each recipient's messages stay in order.

The messenger here is a fake with one (or a few) paced group chats: a send into one of them waits,
as behind Telegram's 20-messages-a-minute pacer, until the test lets it through; every other chat
gets its message at once. The tests wait on conditions, never on the clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core.clock import ManualClock
from bot.core.messages import View
from bot.delivery.outbox import LEASE, LEASE_MARGIN, Kind, enqueue, envelope
from bot.delivery.ports import Delivery, Outcome, RetryAfter, Sent
from bot.delivery.worker import Claim, OutboxWorker
from storage.db import Database, migrate
from storage.models import OutboxMessage

GROUP = "-1001:7"  # a report's topic in a body's forum chat
# A safety net against a hang, not a measurement: every wait below is for a condition.
HANG = 20.0


@dataclass
class PacedChats:
    """A messenger whose `paced` chats let a send through only when the test opens their pacer."""

    paced: Collection[str] = (GROUP,)
    platform: str = "tg"
    sent: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    retry: dict[str, float] = field(default_factory=dict)
    pacer: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(0))
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def deliver(self, delivery: Delivery) -> Outcome:
        await self._note(self.started, delivery.key)
        if delivery.key in self.retry:
            return RetryAfter(self.retry.pop(delivery.key))
        if delivery.target in self.paced:
            await self.pacer.acquire()
        else:
            await asyncio.sleep(0)  # a real send yields to the loop at least once
        await self._note(self.sent, delivery.key)
        return Sent()

    async def _note(self, where: list[str], key: str) -> None:
        async with self.changed:
            where.append(key)
            self.changed.notify_all()

    async def until(self, condition: Callable[[], bool]) -> None:
        async def wait() -> None:
            async with self.changed:
                await self.changed.wait_for(condition)

        await asyncio.wait_for(wait(), timeout=HANG)

    def sent_to(self, prefix: str) -> list[str]:
        return [key for key in self.sent if key.startswith(prefix)]


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await migrate(database)
    yield database
    await database.dispose()


async def put(db: Database, clock: ManualClock, key: str, target: str, kind: Kind = Kind.CITIZEN) -> None:
    async with db.session() as session:
        await enqueue(
            session,
            key=key,
            platform="tg",
            kind=kind,
            target=target,
            payload=envelope([View.of("notify-status", number=key)], "ru"),
            now=clock.now(),
        )


async def follow_up(db: Database, clock: ManualClock, n: int, target: str = GROUP) -> None:
    await put(db, clock, f"follow-up:{target}:{n}", target, Kind.TOPIC)


async def answer(db: Database, clock: ManualClock, n: int) -> None:
    await put(db, clock, f"answer:{n}", str(5000 + n))


async def statuses(db: Database) -> dict[str, str]:
    async with db.session() as session:
        rows = await session.execute(select(OutboxMessage.idempotency_key, OutboxMessage.status))
        return {key: status for key, status in rows.all()}


async def stopped(worker: OutboxWorker, stop: asyncio.Event, running: asyncio.Task[None]) -> None:
    stop.set()
    await asyncio.wait_for(running, timeout=HANG)


async def test_answers_go_out_while_a_paced_group_chat_is_still_being_sent_to(
    db: Database, clock: ManualClock
) -> None:
    chats = PacedChats()
    # A citizen's five follow-ups reach the body's topic first; thirty other citizens' answers after.
    for n in range(5):
        await follow_up(db, clock, n)
    for n in range(30):
        await answer(db, clock, n)
    worker = OutboxWorker(db, {"tg": chats}, clock, concurrency=4, idle_seconds=0.05)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))

    # Every answer goes out while the group chat's first follow-up is still waiting for its pacer.
    await chats.until(lambda: len(chats.sent_to("answer:")) == 30)
    assert chats.sent_to("follow-up:") == []
    assert [k for k in chats.started if k.startswith("follow-up:")] == [f"follow-up:{GROUP}:0"]

    # Rows queued now are claimed and sent while that chain is still held: no pass waits for it.
    for n in range(30, 40):
        await answer(db, clock, n)
    await follow_up(db, clock, 5)
    worker.wake()
    await chats.until(lambda: len(chats.sent_to("answer:")) == 40)
    assert chats.sent_to("follow-up:") == []

    # The pacer lets the group chat's messages through one by one: they arrive in order.
    for _ in range(6):
        chats.pacer.release()
    await chats.until(lambda: len(chats.sent_to("follow-up:")) == 6)
    assert chats.sent_to("follow-up:") == [f"follow-up:{GROUP}:{n}" for n in range(6)]
    await stopped(worker, stop, running)
    assert set((await statuses(db)).values()) == {"sent"}
    assert len(chats.sent) == len(set(chats.sent)) == 46


async def test_more_paced_chats_than_send_slots_do_not_stall_everyone_else(
    db: Database, clock: ManualClock
) -> None:
    # Three busy topics, two send slots: without lending the slots of slow sends, the first two
    # topics would hold both slots and no answer would go out until their pacer moved.
    topics = [f"-1001:{thread}" for thread in (7, 8, 9)]
    chats = PacedChats(paced=topics)
    for target in topics:
        for n in range(3):
            await follow_up(db, clock, n, target)
    for n in range(20):
        await answer(db, clock, n)
    worker = OutboxWorker(db, {"tg": chats}, clock, concurrency=2, slow_after=0.01, idle_seconds=0.05)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    await chats.until(lambda: len(chats.sent_to("answer:")) == 20)
    assert chats.sent_to("follow-up:") == []

    for _ in range(9):
        chats.pacer.release()
    await chats.until(lambda: len(chats.sent_to("follow-up:")) == 9)
    for target in topics:
        assert chats.sent_to(f"follow-up:{target}:") == [f"follow-up:{target}:{n}" for n in range(3)]
    await stopped(worker, stop, running)
    assert set((await statuses(db)).values()) == {"sent"}


async def test_a_long_lane_gives_its_rows_back_near_the_lease_end_and_they_go_on_in_order(
    db: Database, clock: ManualClock
) -> None:
    chats = PacedChats()
    for n in range(3):
        await follow_up(db, clock, n)
    worker = OutboxWorker(db, {"tg": chats}, clock, idle_seconds=0.05)
    given_back: list[tuple[list[int], datetime]] = []
    release = worker._recorder.release

    async def watched(ids: list[int], lease_until: datetime) -> None:
        given_back.append((sorted(ids), lease_until))
        await release(ids, lease_until)

    worker._recorder.release = watched  # type: ignore[method-assign]
    first_lease = clock.now() + LEASE
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    await chats.until(lambda: len(chats.started) == 1)
    # The first send waits for the pacer until the lease is nearly over: the next must not start
    # under that lease (another worker could take the row), so it and the one behind go back.
    clock.advance(LEASE - LEASE_MARGIN)
    chats.pacer.release()
    await chats.until(lambda: len(chats.started) == 2)
    async with db.session() as session:
        ids = sorted((await session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id))).all()[1:])
    assert given_back == [(ids, first_lease)]
    # Claimed again under a new lease, they follow in order.
    chats.pacer.release()
    chats.pacer.release()
    await chats.until(lambda: len(chats.sent) == 3)
    assert chats.sent == [f"follow-up:{GROUP}:{n}" for n in range(3)]
    await stopped(worker, stop, running)


async def test_a_row_whose_lease_ran_out_mid_send_is_not_sent_again_beside_itself(
    db: Database, clock: ManualClock
) -> None:
    chats = PacedChats()
    await follow_up(db, clock, 0)
    worker = OutboxWorker(db, {"tg": chats}, clock, idle_seconds=0.05)
    claims: list[Claim] = []
    claim = worker._claim_due

    async def watched(*, with_notices: bool = True) -> Claim:
        claims.append(await claim(with_notices=with_notices))
        return claims[-1]

    worker._claim_due = watched  # type: ignore[method-assign]
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    await chats.until(lambda: len(chats.started) == 1)
    # The send hangs past its lease: the row is due again, and this worker's next claim takes it.
    clock.advance(LEASE + timedelta(seconds=1))
    worker.wake()
    for _ in range(500):
        if sum(len(c.deliveries) for c in claims) == 2:
            break
        await asyncio.sleep(0.01)
    assert sum(len(c.deliveries) for c in claims) == 2
    # Room for a second send at once: a copy of the row queued behind the first would go out now.
    chats.pacer.release()
    chats.pacer.release()
    await chats.until(lambda: len(chats.sent) == 1)
    for _ in range(500):
        if (await statuses(db)) == {f"follow-up:{GROUP}:0": "sent"}:
            break
        await asyncio.sleep(0.01)
    seen = len(claims)
    for _ in range(500):
        if len(claims) > seen:
            break
        await asyncio.sleep(0.01)
    await stopped(worker, stop, running)
    # It was in flight already: the second lease did not start a second send.
    assert chats.started == [f"follow-up:{GROUP}:0"]
    async with db.session() as session:
        stored = await session.scalar(select(OutboxMessage))
    assert stored is not None and (stored.status, stored.attempts) == ("sent", 1)


async def test_wake_claims_at_once_instead_of_at_the_next_poll(db: Database, clock: ManualClock) -> None:
    chats = PacedChats(paced=())
    # The poll is an hour away: only wake() can make the worker look before then.
    worker = OutboxWorker(db, {"tg": chats}, clock, idle_seconds=3600)
    idle = asyncio.Event()
    claim = worker._claim_due

    async def watched(*, with_notices: bool = True) -> Claim:
        found = await claim(with_notices=with_notices)
        if not found.deliveries:
            idle.set()
        return found

    worker._claim_due = watched  # type: ignore[method-assign]
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(idle.wait(), timeout=HANG)
    await answer(db, clock, 1)
    worker.wake()
    await chats.until(lambda: chats.sent == ["answer:1"])
    await stopped(worker, stop, running)


async def test_a_database_error_while_recording_stops_nothing_and_loses_nothing(
    db: Database, clock: ManualClock
) -> None:
    chats = PacedChats(paced=())
    worker = OutboxWorker(db, {"tg": chats}, clock, idle_seconds=0.05)
    record = worker._recorder.record
    failures = 0

    async def flaky(results: list[tuple[Delivery, Outcome]]) -> None:
        nonlocal failures
        if any(delivery.key == "answer:0" for delivery, _ in results) and failures == 0:
            failures += 1
            raise ConnectionError("database went away")
        await record(results)

    worker._recorder.record = flaky  # type: ignore[method-assign]
    await answer(db, clock, 0)
    await answer(db, clock, 1)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    await chats.until(lambda: sorted(chats.sent) == ["answer:0", "answer:1"])
    # The worker goes on: a row queued now is sent as usual.
    await answer(db, clock, 2)
    worker.wake()
    await chats.until(lambda: "answer:2" in chats.sent)
    # What went out unrecorded stays leased, and goes again once the lease is over: at least once.
    clock.advance(LEASE + timedelta(seconds=1))
    worker.wake()
    await chats.until(lambda: chats.sent.count("answer:0") == 2)
    await stopped(worker, stop, running)
    assert not running.exception() and failures == 1
    assert set((await statuses(db)).values()) == {"sent"}


async def test_in_flight_counts_what_is_claimed_and_not_yet_recorded(
    db: Database, clock: ManualClock
) -> None:
    chats = PacedChats()
    for n in range(3):
        await follow_up(db, clock, n)
    worker = OutboxWorker(db, {"tg": chats}, clock, idle_seconds=0.05)
    assert worker.in_flight == 0
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    await chats.until(lambda: len(chats.started) == 1)
    assert worker.in_flight == 3  # one being sent, two behind it in its lane
    for _ in range(3):
        chats.pacer.release()
    await chats.until(lambda: len(chats.sent) == 3)
    for _ in range(500):
        if worker.in_flight == 0:
            break
        await asyncio.sleep(0.01)
    assert worker.in_flight == 0
    assert set((await statuses(db)).values()) == {"sent"}
    await stopped(worker, stop, running)
