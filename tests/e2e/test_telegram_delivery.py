"""Outbox delivery through the real aiogram Bot and a local Bot API server: what a citizen (or an
operator topic) receives, once, in order, across flood control, blocks and a killed worker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from aiogram import Bot
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import ManualClock
from bot.core.i18n import Translator
from bot.core.messages import Button, Text, View
from bot.delivery.outbox import Kind, enqueue, envelope
from bot.delivery.ports import Delivery, Failed, Outcome, Sent
from bot.delivery.worker import OutboxWorker
from bot.sandbox.telegram import FakeTelegramServer
from bot.services.catalog import seed_catalog
from handlers.telegram.messenger import TelegramMessenger
from storage.db import Database, migrate
from storage.models import Citizen, OutboxMessage, Report
from tests.harness.telegram import make_bot

CITIZEN_ID = 1001
FORUM_ID = -1001234567890


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await migrate(database)
    await seed_catalog(database)
    yield database
    await database.dispose()


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as fake:
        yield fake


@pytest.fixture
async def bot(server: FakeTelegramServer) -> AsyncIterator[Bot]:
    made = make_bot(server)
    yield made
    await made.session.close()


@pytest.fixture(scope="module")
def translator() -> Translator:
    return Translator()


def fast(bot: Bot, translator: Translator) -> TelegramMessenger:
    """A messenger whose pacing never gets in a test's way."""
    return TelegramMessenger(
        bot, translator, global_rate=1000, chat_rate=1000, chat_burst=1000, group_rate=1000
    )


async def make_report(db: Database, now: datetime) -> int:
    async with db.session() as session:
        citizen = Citizen(platform="tg", platform_user_id=str(CITIZEN_ID), language="ru", consent_at=now)
        session.add(citizen)
        await session.flush()
        report = Report(
            intake_key="intake-1",
            citizen_id=citizen.id,
            platform="tg",
            text="Нет отопления",
            sector_id="housing",
            body_id="tsur",
            status="routed",
            language="ru",
            first_reaction_due=now + timedelta(hours=4),
            answer_due=now + timedelta(days=5),
        )
        session.add(report)
        await session.flush()
        return report.id


async def put(
    db: Database,
    clock: ManualClock,
    key: str,
    views: list[View],
    *,
    kind: Kind = Kind.CITIZEN,
    target: str = str(CITIZEN_ID),
    report_id: int | None = None,
    photos: tuple[str, ...] = (),
    documents: tuple[str, ...] = (),
) -> None:
    async with db.session() as session:
        await enqueue(
            session,
            key=key,
            platform="tg",
            kind=kind,
            target=target,
            payload=envelope(views, "ru", photos=photos, documents=documents),
            report_id=report_id,
            now=clock.now(),
        )


async def row(db: Database, key: str) -> OutboxMessage:
    async with db.session() as session:
        found = await session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
        assert found is not None
        return found


def raw(text: str) -> View:
    return View((Text.raw(text),))


async def test_citizen_gets_album_document_and_text_once(
    db: Database, clock: ManualClock, server: FakeTelegramServer, bot: Bot, translator: Translator
) -> None:
    citizen = server.user(CITIZEN_ID)
    for file_id in ("photo-1", "photo-2"):
        server.register_file(file_id, kind="photo")
    server.register_file("answer.pdf", kind="document")
    view = View((Text.raw("Ответ по обращению 42"),), buttons=((Button("rate:5", Text.raw("Спасибо")),),))
    await put(db, clock, "answer", [view], photos=("photo-1", "photo-2"), documents=("answer.pdf",))
    worker = OutboxWorker(db, {"tg": fast(bot, translator)}, clock)

    assert await worker.run_once() == 1
    assert await worker.run_once() == 0
    assert [c.method for c in server.calls] == ["sendMediaGroup", "sendDocument", "sendMessage"]
    messages = citizen.messages()
    assert [m.photos[:1] for m in messages[:2]] == [["photo-1"], ["photo-2"]]
    assert messages[2].document is not None
    assert messages[3].text == "Ответ по обращению 42" and messages[3].inline_buttons == ["Спасибо"]
    assert (await row(db, "answer")).status == "sent"


async def test_flood_control_is_honoured_without_resending_the_album(
    db: Database, clock: ManualClock, server: FakeTelegramServer, bot: Bot, translator: Translator
) -> None:
    citizen = server.user(CITIZEN_ID)
    for file_id in ("photo-1", "photo-2"):
        server.register_file(file_id, kind="photo")
    server.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    await put(db, clock, "answer", [raw("Ответ")], photos=("photo-1", "photo-2"))
    worker = OutboxWorker(db, {"tg": fast(bot, translator)}, clock)

    await worker.run_once()
    stored = await row(db, "answer")
    assert stored.status == "pending" and stored.attempts == 0
    assert stored.next_attempt_at == clock.now() + timedelta(seconds=7)
    clock.advance(timedelta(seconds=6))
    assert await worker.run_once() == 0
    clock.advance(timedelta(seconds=1))
    assert await worker.run_once() == 1
    assert [c.method for c in server.calls] == ["sendMediaGroup", "sendMessage", "sendMessage"]
    assert [m.text or "photo" for m in citizen.messages()] == ["photo", "photo", "Ответ"]


async def test_flood_control_holds_every_sender_of_the_bot(
    db: Database, clock: ManualClock, server: FakeTelegramServer, bot: Bot, translator: Translator
) -> None:
    # A 429 is about the bot, not the chat: the send to someone else waits too, then goes out.
    other = server.user(2002)
    server.user(CITIZEN_ID)
    server.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    await put(db, clock, "first", [raw("первому")])
    messenger = fast(bot, translator)
    worker = OutboxWorker(db, {"tg": messenger}, clock, concurrency=1)
    await worker.run_once()
    assert (await row(db, "first")).status == "pending"
    await put(db, clock, "second", [raw("другому")], target="2002")
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await worker.run_once() == 1
    assert loop.time() - started >= 0.9
    assert [m.text for m in other.messages()] == ["другому"]


async def test_blocked_citizen_becomes_unreachable_and_is_not_tried_again(
    db: Database, clock: ManualClock, server: FakeTelegramServer, bot: Bot, translator: Translator
) -> None:
    citizen = server.user(CITIZEN_ID)
    citizen.block()
    report_id = await make_report(db, clock.now())
    told: list[int | None] = []

    async def on_unreachable(session: AsyncSession, delivery: Delivery, now: datetime) -> None:
        told.append(delivery.report_id)

    worker = OutboxWorker(db, {"tg": fast(bot, translator)}, clock, on_unreachable=on_unreachable)
    await put(db, clock, "status-1", [raw("Статус изменён")], report_id=report_id)
    await put(db, clock, "status-2", [raw("Ещё статус")], report_id=report_id)

    await worker.run_once()
    await worker.run_once()
    assert told == [report_id]
    assert len(server.calls_of("sendMessage")) == 1
    first, second = await row(db, "status-1"), await row(db, "status-2")
    assert first.status == "dead" and "blocked" in (first.last_error or "")
    assert (second.status, second.last_error) == ("dead", "unreachable")
    async with db.session() as session:
        stored = await session.scalar(select(Citizen))
        assert stored is not None and stored.unreachable_at == clock.now()


async def test_unknown_chat_is_unreachable(
    db: Database, clock: ManualClock, server: FakeTelegramServer, bot: Bot, translator: Translator
) -> None:
    await put(db, clock, "direct", [raw("Эскалация")], kind=Kind.DIRECT, target="555")
    await OutboxWorker(db, {"tg": fast(bot, translator)}, clock).run_once()
    stored = await row(db, "direct")
    assert stored.status == "dead" and "chat not found" in (stored.last_error or "")


async def test_bad_request_backs_off_then_dies(
    db: Database, clock: ManualClock, server: FakeTelegramServer, bot: Bot, translator: Translator
) -> None:
    server.user(CITIZEN_ID)
    server.fail_next("sendMessage", 400, "Bad Request: something odd", times=3)
    await put(db, clock, "odd", [raw("Текст")])
    worker = OutboxWorker(db, {"tg": fast(bot, translator)}, clock, max_attempts=3)
    for wait in (0, 2, 4):
        clock.advance(timedelta(seconds=wait))
        assert await worker.run_once() == 1
    stored = await row(db, "odd")
    assert (stored.status, stored.attempts) == ("dead", 3) and "something odd" in (stored.last_error or "")
    clock.advance(timedelta(hours=1))
    assert await worker.run_once() == 0


async def test_topic_message_and_missing_topic(
    db: Database, clock: ManualClock, server: FakeTelegramServer, bot: Bot, translator: Translator
) -> None:
    forum = server.group(FORUM_ID, "Операторы ЦУР")
    topic = await bot.create_forum_topic(FORUM_ID, "№42 Отопление")
    thread = topic.message_thread_id
    worker = OutboxWorker(db, {"tg": fast(bot, translator)}, clock)

    await put(
        db, clock, "note", [raw("Срок ответа истекает")], kind=Kind.TOPIC, target=f"{FORUM_ID}:{thread}"
    )
    await worker.run_once()
    assert [m.text for m in forum.messages(thread)] == ["Срок ответа истекает"]

    await bot.close_forum_topic(FORUM_ID, thread)
    await put(db, clock, "late", [raw("Напоминание")], kind=Kind.TOPIC, target=f"{FORUM_ID}:{thread}")
    await worker.run_once()
    stored = await row(db, "late")
    assert stored.status == "pending" and (stored.last_error or "").startswith("topic_missing")


async def test_report_cards_go_to_the_card_sender(
    db: Database, clock: ManualClock, server: FakeTelegramServer, bot: Bot, translator: Translator
) -> None:
    cards: list[int] = []

    async def card_sender(delivery: Delivery) -> Outcome:
        cards.append(int(delivery.payload["report_id"]))
        return Sent()

    async with db.session() as session:
        await enqueue(
            session,
            key="card",
            platform="tg",
            kind=Kind.REPORT_CARD,
            target="tsur",
            payload={"report_id": 42},
            now=clock.now(),
        )
    without = fast(bot, translator)
    card_delivery = Delivery(
        id=0,
        platform="tg",
        kind=Kind.REPORT_CARD,
        target="tsur",
        report_id=None,
        payload={"report_id": 42},
        attempts=0,
        key="card",
    )
    assert await without.deliver(card_delivery) == Failed("no card sender")
    messenger = TelegramMessenger(bot, translator, card_sender=card_sender, global_rate=1000, chat_rate=1000)
    await OutboxWorker(db, {"tg": messenger}, clock).run_once()
    assert cards == [42] and (await row(db, "card")).status == "sent"
    assert server.calls == []


async def test_worker_killed_mid_send_is_delivered_once_after_the_lease(
    db: Database, clock: ManualClock, server: FakeTelegramServer, bot: Bot, translator: Translator
) -> None:
    citizen = server.user(CITIZEN_ID)
    await put(db, clock, "answer", [raw("Ваше обращение решено")])
    entered = asyncio.Event()

    class Hanging:
        """The process dies while this send is in flight (committed lease, nothing sent)."""

        platform = "tg"

        async def deliver(self, delivery: Delivery) -> Outcome:
            entered.set()
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

    task = asyncio.create_task(OutboxWorker(db, {"tg": Hanging()}, clock).run_once())
    await asyncio.wait_for(entered.wait(), timeout=5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    restarted = OutboxWorker(db, {"tg": fast(bot, translator)}, clock)
    assert await restarted.run_once() == 0  # still leased by the dead worker
    clock.advance(timedelta(seconds=61))
    assert await restarted.run_once() == 1
    clock.advance(timedelta(minutes=5))
    assert await restarted.run_once() == 0
    assert [m.text for m in citizen.messages()] == ["Ваше обращение решено"]
    assert len(server.calls_of("sendMessage")) == 1


async def test_messages_to_one_chat_keep_their_order(
    db: Database, clock: ManualClock, server: FakeTelegramServer, bot: Bot, translator: Translator
) -> None:
    citizen = server.user(CITIZEN_ID)
    other = server.user(2002)
    server.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    await put(db, clock, "one", [raw("1")])
    await put(db, clock, "other", [raw("другому")], target="2002")
    await put(db, clock, "two", [raw("2")])
    worker = OutboxWorker(db, {"tg": fast(bot, translator)}, clock)

    await worker.run_once()
    assert citizen.messages() == [] and [m.text for m in other.messages()] == ["другому"]
    await put(db, clock, "three", [raw("3")])
    assert await worker.run_once() == 0
    clock.advance(timedelta(seconds=3))
    await worker.run_once()
    assert [m.text for m in citizen.messages()] == ["1", "2", "3"]
