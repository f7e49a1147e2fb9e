"""The outbox without a messenger: enqueue in the caller's transaction, claim, lease, outcomes, order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import ManualClock
from bot.core.messages import Ask, Button, Text, View
from bot.delivery.outbox import DONE_PARTS, Kind, enqueue, envelope, views_of
from bot.delivery.ports import Delivery, Failed, Outcome, RetryAfter, Sent, Unreachable
from bot.delivery.worker import Claim, OutboxWorker
from bot.services.catalog import seed_catalog
from storage.db import Database, migrate
from storage.models import Citizen, OutboxMessage, Report

USER = "1001"


@dataclass
class ScriptedMessenger:
    """Records deliveries; answers from a script per idempotency key (Sent when nothing is left)."""

    platform: str = "tg"
    script: dict[str, list[Outcome]] = field(default_factory=dict)
    delivered: list[Delivery] = field(default_factory=list)

    async def deliver(self, delivery: Delivery) -> Outcome:
        self.delivered.append(delivery)
        queue = self.script.get(delivery.key) or []
        return queue.pop(0) if queue else Sent()

    def keys(self) -> list[str]:
        return [d.key for d in self.delivered]


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await migrate(database)
    await seed_catalog(database)
    yield database
    await database.dispose()


async def make_report(db: Database, now: datetime, user_id: str = USER) -> int:
    """A citizen and one report of theirs; returns the report id."""
    async with db.session() as session:
        citizen = await session.scalar(select(Citizen).where(Citizen.platform_user_id == user_id))
        if citizen is None:
            citizen = Citizen(platform="tg", platform_user_id=user_id, language="ru", consent_at=now)
            session.add(citizen)
            await session.flush()
        report = Report(
            intake_key=f"intake-{user_id}-{now.timestamp()}-{id(session)}",
            citizen_id=citizen.id,
            platform="tg",
            text="Яма на дороге",
            sector_id="roads",
            body_id="tsur",
            status="routed",
            language="ru",
            first_reaction_due=now + timedelta(hours=4),
            answer_due=now + timedelta(days=5),
            created_at=now,
            updated_at=now,
        )
        session.add(report)
        await session.flush()
        return report.id


async def put(
    db: Database,
    clock: ManualClock,
    key: str,
    *,
    target: str = USER,
    kind: Kind = Kind.CITIZEN,
    report_id: int | None = None,
) -> bool:
    async with db.session() as session:
        return await enqueue(
            session,
            key=key,
            platform="tg",
            kind=kind,
            target=target,
            payload=envelope([View.of("notify-status", number=key)], "ru"),
            report_id=report_id,
            now=clock.now(),
        )


async def row(db: Database, key: str) -> OutboxMessage:
    async with db.session() as session:
        found = await session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
        assert found is not None
        return found


def test_envelope_round_trips_views() -> None:
    views = [
        View(
            (Text("intake-ask-place", {"n": 3}), Text.raw("улица Ленина, 5")),
            buttons=((Button("geo:skip", Text("btn-skip")),), (Button("x", Text("btn-x", {"a": "b"})),)),
            ask=Ask.LOCATION,
            remove_keyboard=True,
        ),
        View.of("done"),
    ]
    payload = envelope(views, "en", photos=["p1", "p2"], documents=["d1"])
    assert payload["lang"] == "en" and payload["photos"] == ["p1", "p2"] and payload["documents"] == ["d1"]
    assert views_of(payload) == views


async def test_enqueue_is_idempotent_and_commits_with_its_transaction(
    db: Database, clock: ManualClock
) -> None:
    assert await put(db, clock, "k1")
    assert not await put(db, clock, "k1")
    # A duplicate inside a transaction does not spoil that transaction.
    async with db.session() as session:
        assert not await enqueue(
            session, key="k1", platform="tg", kind=Kind.CITIZEN, target=USER, payload={}, now=clock.now()
        )
        assert await enqueue(
            session, key="k2", platform="tg", kind=Kind.CITIZEN, target=USER, payload={}, now=clock.now()
        )

    class Boom(Exception):
        pass

    # The change that causes a message fails: the message goes with it.
    with pytest.raises(Boom):
        async with db.session() as session:
            assert await enqueue(
                session, key="k3", platform="tg", kind=Kind.CITIZEN, target=USER, payload={}, now=clock.now()
            )
            raise Boom
    async with db.session() as session:
        keys = list(await session.scalars(select(OutboxMessage.idempotency_key).order_by(OutboxMessage.id)))
    assert keys == ["k1", "k2"]


async def test_concurrent_duplicates_insert_one_row(db: Database, clock: ManualClock) -> None:
    async def one(session: AsyncSession) -> bool:
        return await enqueue(
            session, key="same", platform="tg", kind=Kind.CITIZEN, target=USER, payload={}, now=clock.now()
        )

    # The second transaction checks while the first has inserted but not committed yet, so its
    # SELECT finds nothing and its INSERT meets the first one's row.
    async with db.sessions() as first, db.sessions() as second:
        assert await one(first)
        racing = asyncio.create_task(one(second))
        await asyncio.sleep(0.2)
        assert not racing.done()  # waiting for the first transaction's row lock
        await first.commit()
        results = [True, await asyncio.wait_for(racing, timeout=10)]
        await second.commit()
    assert sorted(results) == [False, True]
    async with db.session() as session:
        rows = list(
            await session.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key == "same"))
        )
    assert len(rows) == 1


async def test_delivered_once_and_recorded(db: Database, clock: ManualClock) -> None:
    messenger = ScriptedMessenger()
    worker = OutboxWorker(db, {"tg": messenger}, clock)
    await put(db, clock, "a")
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0
    clock.advance(timedelta(hours=1))
    assert await worker.run_once() == 0
    assert messenger.keys() == ["a"]
    stored = await row(db, "a")
    assert stored.status == "sent" and stored.sent_at == clock.now() - timedelta(hours=1)
    assert views_of(messenger.delivered[0].payload) == [View.of("notify-status", number="a")]


async def test_not_before_and_other_platforms_wait(db: Database, clock: ManualClock) -> None:
    messenger = ScriptedMessenger()
    worker = OutboxWorker(db, {"tg": messenger}, clock)
    async with db.session() as session:
        await enqueue(
            session,
            key="later",
            platform="tg",
            kind=Kind.DIRECT,
            target="77",
            payload={},
            not_before=clock.now() + timedelta(minutes=5),
            now=clock.now(),
        )
        await enqueue(
            session, key="vk", platform="vk", kind=Kind.CITIZEN, target="5", payload={}, now=clock.now()
        )
    assert await worker.run_once() == 0
    clock.advance(timedelta(minutes=5))
    assert await worker.run_once() == 1
    assert messenger.keys() == ["later"]
    assert (await row(db, "vk")).status == "pending"


async def test_retry_after_waits_without_counting_an_attempt(db: Database, clock: ManualClock) -> None:
    messenger = ScriptedMessenger(script={"a": [RetryAfter(30, done_parts=1)]})
    worker = OutboxWorker(db, {"tg": messenger}, clock)
    await put(db, clock, "a")
    await worker.run_once()
    stored = await row(db, "a")
    assert stored.status == "pending" and stored.attempts == 0
    assert stored.next_attempt_at == clock.now() + timedelta(seconds=30)
    assert stored.payload[DONE_PARTS] == 1
    clock.advance(timedelta(seconds=29))
    assert await worker.run_once() == 0
    clock.advance(timedelta(seconds=1))
    assert await worker.run_once() == 1
    assert (await row(db, "a")).status == "sent"
    # The retry knows how far the first attempt got.
    assert messenger.delivered[1].payload[DONE_PARTS] == 1


async def test_failures_back_off_then_die(db: Database, clock: ManualClock) -> None:
    messenger = ScriptedMessenger(script={"a": [Failed("boom")] * 5})
    worker = OutboxWorker(db, {"tg": messenger}, clock, max_attempts=3)
    await put(db, clock, "a")
    await worker.run_once()
    stored = await row(db, "a")
    assert (stored.status, stored.attempts, stored.last_error) == ("pending", 1, "boom")
    assert stored.next_attempt_at == clock.now() + timedelta(seconds=2)
    clock.advance(timedelta(seconds=2))
    await worker.run_once()
    stored = await row(db, "a")
    assert stored.attempts == 2 and stored.next_attempt_at == clock.now() + timedelta(seconds=4)
    clock.advance(timedelta(seconds=4))
    await worker.run_once()
    stored = await row(db, "a")
    assert (stored.status, stored.attempts) == ("dead", 3)
    clock.advance(timedelta(hours=1))
    assert await worker.run_once() == 0
    assert len(messenger.delivered) == 3


async def test_messenger_exception_counts_as_failure(db: Database, clock: ManualClock) -> None:
    class Broken:
        platform = "tg"

        async def deliver(self, delivery: Delivery) -> Outcome:
            raise KeyError("views")

    worker = OutboxWorker(db, {"tg": Broken()}, clock)
    await put(db, clock, "a")
    assert await worker.run_once() == 1
    stored = await row(db, "a")
    assert stored.status == "pending" and stored.attempts == 1 and "KeyError" in (stored.last_error or "")


async def test_unreachable_citizen(db: Database, clock: ManualClock) -> None:
    report_id = await make_report(db, clock.now())
    messenger = ScriptedMessenger(script={"first": [Unreachable("Forbidden: bot was blocked by the user")]})
    told: list[tuple[int, int | None]] = []

    async def on_unreachable(session: AsyncSession, delivery: Delivery, now: datetime) -> None:
        # Runs in the worker's transaction: what it writes commits with the citizen's mark.
        told.append((delivery.id, delivery.report_id))
        await enqueue(
            session,
            key=f"op-unreachable:{delivery.report_id}",
            platform="tg",
            kind=Kind.TOPIC,
            target="-100:5",
            payload={},
            report_id=delivery.report_id,
            now=now,
        )

    worker = OutboxWorker(db, {"tg": messenger}, clock, on_unreachable=on_unreachable)
    await put(db, clock, "first", report_id=report_id)
    await put(db, clock, "second", report_id=report_id)
    await worker.run_once()
    first = await row(db, "first")
    assert first.status == "dead" and "blocked" in (first.last_error or "")
    assert told == [(first.id, report_id)]
    async with db.session() as session:
        citizen = await session.scalar(select(Citizen).where(Citizen.platform_user_id == USER))
        assert citizen is not None and citizen.unreachable_at == clock.now()
    # Later messages to that citizen are not attempted, by report or by user id.
    await put(db, clock, "third", target=f"tg:{USER}")
    clock.advance(timedelta(seconds=1))
    await worker.run_once()
    await worker.run_once()
    assert messenger.keys() == ["first", "op-unreachable:" + str(report_id)]
    for key in ("second", "third"):
        stored = await row(db, key)
        assert (stored.status, stored.last_error) == ("dead", "unreachable")


async def test_unreachable_topic_does_not_touch_citizens(db: Database, clock: ManualClock) -> None:
    report_id = await make_report(db, clock.now())
    messenger = ScriptedMessenger(script={"t": [Unreachable("kicked")]})
    called: list[Delivery] = []

    async def on_unreachable(session: AsyncSession, delivery: Delivery, now: datetime) -> None:
        called.append(delivery)

    worker = OutboxWorker(db, {"tg": messenger}, clock, on_unreachable=on_unreachable)
    await put(db, clock, "t", kind=Kind.TOPIC, target="-100:5", report_id=report_id)
    await worker.run_once()
    assert (await row(db, "t")).status == "dead" and called == []
    async with db.session() as session:
        citizen = await session.scalar(select(Citizen))
        assert citizen is not None and citizen.unreachable_at is None


async def test_per_target_order_is_kept(db: Database, clock: ManualClock) -> None:
    messenger = ScriptedMessenger(script={"a1": [RetryAfter(10)]})
    worker = OutboxWorker(db, {"tg": messenger}, clock)
    for key, target in (("a1", "1"), ("b1", "2"), ("a2", "1"), ("b2", "2")):
        await put(db, clock, key, target=target)
    await worker.run_once()
    # a2 waits behind a1; the other chat is not held up.
    assert messenger.keys() == ["a1", "b1", "b2"]
    assert (await row(db, "a2")).next_attempt_at <= clock.now()
    # a2 is due but must not overtake a1 in later passes either.
    await put(db, clock, "a3", target="1")
    assert await worker.run_once() == 0
    clock.advance(timedelta(seconds=10))
    await worker.run_once()
    assert messenger.keys() == ["a1", "b1", "b2", "a1", "a2", "a3"]


async def test_a_chat_waiting_with_a_long_queue_holds_up_no_one_else(
    db: Database, clock: ManualClock
) -> None:
    # More rows to one waiting chat than a claim takes: they must not fill every later claim.
    messenger = ScriptedMessenger(script={"a0": [RetryAfter(30)]})
    for n in range(10):
        await put(db, clock, f"a{n}", target="1")
    await put(db, clock, "b0", target="2")
    worker = OutboxWorker(db, {"tg": messenger}, clock, batch=5)
    assert await worker.run_once() == 1  # a0 waits 30 s; the four claimed behind it are given back
    assert await worker.run_once() == 1
    assert messenger.keys() == ["a0", "b0"]
    clock.advance(timedelta(seconds=30))
    for _ in range(3):
        await worker.run_once()
    assert messenger.keys() == ["a0", "b0", *(f"a{n}" for n in range(10))]


async def test_worker_killed_mid_send_resends_after_lease(db: Database, clock: ManualClock) -> None:
    class Killed(BaseException):
        """The process dies mid-send: nothing catches it."""

    class Dying:
        platform = "tg"

        async def deliver(self, delivery: Delivery) -> Outcome:
            raise Killed

    await put(db, clock, "a")
    with pytest.raises(BaseExceptionGroup) as died:
        await OutboxWorker(db, {"tg": Dying()}, clock).run_once()
    assert died.group_contains(Killed)
    stored = await row(db, "a")
    assert stored.status == "pending" and stored.next_attempt_at > clock.now()

    messenger = ScriptedMessenger()
    restarted = OutboxWorker(db, {"tg": messenger}, clock)
    # Within the lease nobody else takes it (the dead worker might still be sending).
    assert await restarted.run_once() == 0
    clock.advance(timedelta(seconds=61))
    assert await restarted.run_once() == 1
    assert await restarted.run_once() == 0
    assert messenger.keys() == ["a"]


async def test_two_workers_never_take_the_same_row(db: Database, clock: ManualClock) -> None:
    first, second = ScriptedMessenger(), ScriptedMessenger()
    for n in range(20):
        await put(db, clock, f"m{n}", target=str(n))
    workers = [OutboxWorker(db, {"tg": m}, clock, batch=5) for m in (first, second)]
    for _ in range(5):
        await asyncio.gather(*(w.run_once() for w in workers))
    keys = first.keys() + second.keys()
    assert sorted(keys) == sorted(f"m{n}" for n in range(20))


async def test_stopping_gives_back_what_did_not_start_and_lets_the_send_in_flight_finish(
    db: Database, clock: ManualClock
) -> None:
    # One send slot: "a" is being sent while "b" (another chat) waits for the slot. Stopping right
    # then must give "b" back at once rather than leave it leased for a minute, and let "a" finish
    # and be recorded.
    stop = asyncio.Event()
    sending = asyncio.Event()
    may_finish = asyncio.Event()

    class Held(ScriptedMessenger):
        async def deliver(self, delivery: Delivery) -> Outcome:
            sending.set()
            await may_finish.wait()
            return await super().deliver(delivery)

    messenger = Held()
    worker = OutboxWorker(db, {"tg": messenger}, clock, concurrency=1, idle_seconds=0.01, stop_grace=60)
    await put(db, clock, "a")
    await put(db, clock, "b", target="2002")
    running = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(sending.wait(), timeout=10)
    stop.set()
    left = await row(db, "b")
    for _ in range(500):
        if left.next_attempt_at <= clock.now():
            break
        await asyncio.sleep(0.01)
        left = await row(db, "b")
    assert left.status == "pending" and left.next_attempt_at <= clock.now()
    assert not running.done()  # still waiting for "a"
    may_finish.set()
    await asyncio.wait_for(running, timeout=10)
    assert messenger.keys() == ["a"] and (await row(db, "a")).status == "sent"
    assert await worker.run_once() == 1 and messenger.keys() == ["a", "b"]


async def test_a_send_still_running_after_the_grace_is_cancelled_and_stays_leased(
    db: Database, clock: ManualClock
) -> None:
    stop = asyncio.Event()
    sending = asyncio.Event()

    class Hanging:
        platform = "tg"

        async def deliver(self, delivery: Delivery) -> Outcome:
            sending.set()
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

    worker = OutboxWorker(db, {"tg": Hanging()}, clock, stop_grace=0.01)
    await put(db, clock, "a")
    running = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(sending.wait(), timeout=10)
    stop.set()
    await asyncio.wait_for(running, timeout=10)
    # It may have reached the chat: it goes again only when its lease runs out, as after a crash.
    stored = await row(db, "a")
    assert stored.status == "pending" and stored.next_attempt_at > clock.now()


async def test_run_loop_survives_database_errors_and_stops(db: Database, clock: ManualClock) -> None:
    messenger = ScriptedMessenger()
    worker = OutboxWorker(db, {"tg": messenger}, clock, idle_seconds=0.01)
    calls = 0
    real = worker._claim_due

    async def flaky(*, with_notices: bool = True) -> Claim:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database went away")
        return await real(with_notices=with_notices)

    worker._claim_due = flaky  # type: ignore[method-assign]
    await put(db, clock, "a")
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    for _ in range(200):
        if messenger.delivered:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, timeout=2)
    assert messenger.keys() == ["a"] and calls >= 2
