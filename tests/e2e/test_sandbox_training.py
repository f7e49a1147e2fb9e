"""A scripted trainee works a small training scenario in the sandbox to its score card, moving the
clock by jumps (to whole minutes after filing, and «⏭ к следующему сроку»), and the card's figures
are the ones those timings imply.

The sandbox runs in-process from its own pieces (the local Telegram and VK servers, the sandbox
settings on a tmp SQLite file, the scaled clock at 09:00 of a working day, the real bot serving).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.app.runtime import serve
from bot.app.sandbox import first_opening, sandbox_settings, seed
from bot.app.wiring import build_app
from bot.core.clock import ScaledClock
from bot.core.i18n import Translator
from bot.sandbox.telegram import FakeTelegramServer
from bot.sandbox.training import ScoreStore, Trainer
from bot.sandbox.training.scenarios import parse_scenario
from bot.sandbox.training.store import report_text
from bot.sandbox.vk import FakeVkServer
from bot.sandbox.world import BodyChat, SandboxWorld
from bot.services.reports.deadlines import WorkCalendar
from storage.models import Notice, Report, ReportThread, SlaEvent, StatusChange
from tests.harness.comms import WATER, compose_info
from tests.harness.comms import press as press_in_chat
from tests.harness.seeds import seed_subscribers

HEATING = (
    "Дом на ул. Малышева, 73, подъезд 3: четвёртый день холодные батареи, в квартире +16. "
    "Диспетчерская УК не приезжает. Просим дать тепло."
)
LIGHT = (
    "Во дворе домов по ул. Победы, 31 и 33 две недели не горят фонари, вечером страшно идти. "
    "Наверное, это к энергетикам?"
)
SCENARIO = {
    "name": "test",
    "title_ru": "Проверка",
    "citizens": [
        {
            "key": "heating",
            "platform": "tg",
            "name": "Галина",
            "sector": "housing",
            "place": "ekaterinburg",
            "photos": 1,
            "text": HEATING,
            "clarification": {"after": 30, "text": "Квартира 41, пятый этаж."},
            "after_answer": {"after": 10, "solved": True, "stars": 4},
        },
        {
            # Street lighting belongs to housing (SECTORS.md); the citizen files it as energy, and the
            # trainee first moves it to roads (wrong), then to housing.
            "key": "light",
            "platform": "vk",
            "name": "Дмитрий",
            "sector": "housing",
            "filed_as": "energy",
            "place": "ekaterinburg",
            "text": LIGHT,
            "after_answer": {"silent": True},
        },
    ],
}
INFORMATIVE = "Бригада УК заменила задвижку на стояке, отопление включено 15.12 в 14:00."
VAGUE = "Ваше обращение рассмотрено."


@dataclass
class Sandbox:
    world: SandboxWorld
    trainer: Trainer
    calendar: WorkCalendar


@contextlib.asynccontextmanager
async def sandbox(tmp_path: Path, port: int) -> AsyncIterator[Sandbox]:
    database = tmp_path / "sandbox.sqlite3"
    async with FakeTelegramServer() as telegram, FakeVkServer() as vk:
        (tmp_path / "vk-state").mkdir(exist_ok=True)
        settings = sandbox_settings(telegram, vk, database, port, tmp_path / "vk-state")
        calendar = WorkCalendar(settings.timezone)
        clock = ScaledClock(first_opening(datetime.now(UTC), calendar, ZoneInfo(settings.timezone)))
        app = await build_app(settings, clock=clock)
        world = await seed(app, telegram, vk, clock)
        trainer = Trainer(
            world, calendar, ScoreStore.beside(database), scenarios={"test": parse_scenario(SCENARIO)}
        )
        world.trainer = trainer
        stop, ready = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(serve(app, stop, sla_interval=0.2, on_ready=ready.set))
        try:
            async with trainer.background(stop):
                await asyncio.wait_for(ready.wait(), 30)
                yield Sandbox(world, trainer, calendar)
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)


async def reports(world: SandboxWorld) -> dict[int, Report]:
    async with world.db.session() as session:
        return {r.id: r for r in await session.scalars(select(Report))}


async def wait_for(check: Callable[[], Awaitable[bool]], within: float = 20.0) -> None:
    """Wait until the async predicate `check()` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        assert loop.time() < deadline, "not so in time"
        await asyncio.sleep(0.1)


async def card_thread(world: SandboxWorld, report_id: int, label: str) -> tuple[BodyChat, int]:
    """The body chat and topic holding the report's card, once the card shows `label`."""
    found: list[tuple[BodyChat, int]] = []

    async def shown() -> bool:
        async with world.db.session() as session:
            thread = await session.get(ReportThread, report_id)
        if thread is None:
            return False
        chat = next(c for c in world.body_chats.values() if c.chat.id == thread.chat_id)
        if any(label in m.inline_buttons for m in chat.chat.messages(thread.thread_id)):
            found[:] = [(chat, thread.thread_id)]
            return True
        return False

    await wait_for(shown)
    return found[0]


async def press(world: SandboxWorld, report_id: int, label: str, then: str | None = None) -> None:
    """The body's operator presses `label` on the card (then types or picks `then`)."""
    body, thread = await card_thread(world, report_id, label)
    await body.chat.press(body.operator, label, message_thread_id=thread)
    await body.chat.replies()
    if then is None:
        return
    if any(then in m.inline_buttons for m in body.chat.messages(thread)):
        await body.chat.press(body.operator, then, message_thread_id=thread)
    else:
        await body.chat.send_text(body.operator, then, message_thread_id=thread)
    await body.chat.replies()


def at_minute(filed: datetime, now: datetime, at_least: int = 0) -> datetime:
    """The first whole minute after filing that is not before `now` (and ≥ `at_least` minutes)."""
    minutes = max(at_least, math.ceil((now - filed).total_seconds() / 60))
    return filed + timedelta(minutes=minutes)


async def history(world: SandboxWorld, report_id: int) -> list[tuple[str | None, str]]:
    async with world.db.session() as session:
        rows = await session.scalars(
            select(StatusChange).where(StatusChange.report_id == report_id).order_by(StatusChange.id)
        )
        return [(c.from_status, c.to_status) for c in rows]


async def test_scripted_trainee_gets_the_card_its_timings_imply(tmp_path: Path, unused_tcp_port: int) -> None:
    async with sandbox(tmp_path, unused_tcp_port) as box:
        world, trainer, clock = box.world, box.trainer, box.world.clock
        assert [s.name for s in trainer.scenarios()] == ["test"]
        start = clock.now()
        assert start.astimezone(box.calendar.tz).hour == 9
        await trainer.start("test", "Ксения")

        async def both_filed() -> bool:
            return all(p.report_id is not None for p in trainer.progress())

        await wait_for(both_filed, 40)
        by_key = {p.key: p.report_id for p in trainer.progress()}
        heating_id, light_id = by_key["heating"], by_key["light"]
        assert heating_id is not None and light_id is not None
        filed = await reports(world)
        heating_at, light_at = filed[heating_id].created_at, filed[light_id].created_at
        assert filed[light_id].sector_id == "energy"

        # 30 minutes after filing: take the heating report and ask to clarify.
        clock.jump_to(heating_at + timedelta(minutes=30))
        await press(world, heating_id, "🙋 Взять в работу")
        await press(world, heating_id, "❓ Запросить уточнение", "Уточните номер квартиры, пожалуйста")
        asked = clock.now()
        # The citizen answers 30 minutes later.
        clock.jump_to(asked + timedelta(minutes=30, seconds=1))

        async def clarified() -> bool:
            return (await history(world, heating_id))[-1] == ("needs_info", "in_progress")

        await wait_for(clarified)

        # 60 minutes after its filing: the lamp report to roads (wrong), then to housing (right).
        clock.jump_to(at_minute(light_at, clock.now(), 60))
        light_first = round((clock.now() - light_at).total_seconds() // 60)
        await press(world, light_id, "⇄ Передать в другую отрасль", "Дороги")
        await press(world, light_id, "⇄ Передать в другую отрасль", "ЖКХ")
        assert (await reports(world))[light_id].sector_id == "housing"

        # «⏭ к следующему сроку»: its new first-reaction deadline (the reminder went out at filing, when
        # it was an energy report due within two hours, and each SLA event fires once).
        routed = (await reports(world))[light_id]
        deadline = await trainer.jump_to_next_deadline()
        assert deadline == routed.first_reaction_due
        assert clock.now() >= deadline

        async def escalated() -> bool:
            async with world.db.session() as session:
                kinds = set(
                    await session.scalars(select(SlaEvent.kind).where(SlaEvent.report_id == light_id))
                )
            return {"remind_first", "overdue_first", "head"} <= kinds

        await wait_for(escalated)

        # Answers: the lamp one says nothing, the heating one says what was done and when.
        light_answer = at_minute(light_at, clock.now())
        clock.jump_to(light_answer)
        await press(world, light_id, "✅ Ответить", VAGUE)
        heating_answer = at_minute(heating_at, clock.now())
        clock.jump_to(heating_answer)
        await press(world, heating_id, "✅ Ответить", INFORMATIVE)
        # The heating citizen rates it 10 minutes later.
        clock.jump_to(heating_answer + timedelta(minutes=10, seconds=30))

        async def rated() -> bool:
            return (await reports(world))[heating_id].rating == 4

        await wait_for(rated)
        card = await trainer.finish()

    by_report = {r.key: r for r in card.reports}
    heating, light = by_report["heating"], by_report["light"]
    assert (heating.first_reaction_minutes, heating.first_reaction_due_minutes) == (30, 240)
    assert heating.first_reaction_on_time is True
    assert heating.answer_minutes == (heating_answer - heating_at).total_seconds() // 60
    assert heating.answer_on_time is True
    assert (heating.clarifications, heating.unanswered_clarifications) == (1, 0)
    assert (heating.answers, heating.vague_answers, heating.rating, heating.solved) == (1, 0, 4, True)
    assert heating.wrong_transfers == 0 and heating.transfers == []
    assert (light.first_reaction_minutes, light.first_reaction_on_time) == (light_first, True)
    assert light.transfers == ["roads", "housing"] and light.wrong_transfers == 1
    assert light.answer_minutes == (light_answer - light_at).total_seconds() // 60
    assert light.answer_on_time is True
    assert (light.answers, light.vague_answers, light.rating, light.solved) == (1, 1, None, None)
    assert (light.overdue_events, light.escalations) == (1, 1)
    # Totals: 3 points for heating, 2 − 1 for the lamp (its answer says nothing; one wrong transfer).
    assert (card.first_on_time, card.first_late, card.answers_on_time, card.answers_late) == (2, 0, 2, 0)
    assert (card.wrong_transfers, card.unanswered_clarifications, card.vague_answers) == (1, 0, 1)
    assert (card.ratings, card.average_rating, card.solved, card.not_solved) == (1, 4.0, 1, 0)
    assert (card.escalations, card.score, card.trainee, card.waiting) == (1, round(100 * 4 / 6), "Ксения", 0)

    # Kept per trainee, next to the database; `--report` prints it.
    store = ScoreStore.beside(tmp_path / "sandbox.sqlite3")
    [kept] = store.all()
    assert kept.trainee == "Ксения" and kept.card["score"] == card.score
    printed = report_text(store, Translator())
    assert "Ксения — сценариев: 1" in printed and f"Итог: {card.score} из 100" in printed


async def test_the_scripted_second_comms_member_approves(tmp_path: Path, unused_tcp_port: int) -> None:
    async with sandbox(tmp_path, unused_tcp_port) as box:
        world = box.world
        chat, boris = world.comms_chat, world.comms
        # More than the sandbox's threshold (0): the notice waits for a second person.
        await seed_subscribers(world.db, 3)
        await compose_info(chat, boris, WATER, "Екатеринбург")
        await press_in_chat(chat, boris, "✅ Отправить", "ждёт одобрения")

        async def approved() -> bool:
            async with world.db.session() as session:
                notice = await session.scalar(select(Notice))
            return notice is not None and notice.approved_by is not None

        await wait_for(approved)
        async with world.db.session() as session:
            notice = await session.scalar(select(Notice))
        assert notice is not None and notice.approved_by == f"tg:{world.approver.id} Вера"
        assert len(box.trainer.approver.approved) == 1
