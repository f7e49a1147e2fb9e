"""Deadlines and escalation with a clock moved across office hours, nights and weekends: each event
fires once, in order, with its outbox messages, whatever restarts or second schedulers happen."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import selectinload

from bot.app.wiring import App
from bot.core.clock import ManualClock
from bot.core.i18n import Translator
from bot.delivery.outbox import views_of
from bot.services.reports.block_contacts import (
    LEVELS,
    load_block_contacts,
    seed_block_contacts,
    set_block_contact,
)
from bot.services.reports.deadlines import WorkCalendar
from bot.services.reports.filing import ReportDraft
from bot.services.reports.lifecycle import Status, change_status
from bot.services.reports.sla import SlaScheduler
from storage.models import BlockContact, OutboxMessage, Report, Sector, SlaEvent

EKB = ZoneInfo("Asia/Yekaterinburg")
HEAD_USER = "777001"


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A Yekaterinburg wall-clock time as aware UTC (the clock and the database speak UTC)."""
    return datetime(year, month, day, hour, minute, tzinfo=EKB).astimezone(UTC)


async def setup(app_factory: Any, url: str) -> tuple[App, SlaScheduler]:
    app: App = await app_factory(url)
    await seed_block_contacts(app.db)
    return app, SlaScheduler(app.db, WorkCalendar(), app.services.clock)


async def file_report(app: App, key: str = "r1", sector: str = "housing") -> int:
    citizen = await app.services.citizens.give_consent("tg", "1001", "ru")
    filed = await app.services.reports.file(
        ReportDraft(
            intake_key=key,
            platform="tg",
            citizen_id=citizen.id,
            language="ru",
            text="В подъезде третий день нет света, лампы не горят.",
            sector_id=sector,
            municipality_id="ekaterinburg",
        )
    )
    return filed.id


async def sla_messages(app: App, report_id: int) -> list[OutboxMessage]:
    """Outbox rows the SLA scheduler wrote (report cards of filing aside), oldest first."""
    async with app.db.session() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.report_id == report_id, OutboxMessage.kind != "report_card")
            .order_by(OutboxMessage.id)
        )
        return list(rows)


def keys_of(message: OutboxMessage) -> list[str]:
    return [line.key for view in views_of(message.payload) for line in view.lines]


async def set_report(app: App, report_id: int, *moves: Status, **fields: Any) -> None:
    """Move a report through the lifecycle as operators would, and set fields (times) directly."""
    async with app.db.session() as session:
        report = await session.scalar(
            select(Report).where(Report.id == report_id).options(selectinload(Report.history))
        )
        assert report is not None
        for target in moves:
            change_status(report, target, actor="operator:1", at=app.services.clock.now())
        for name, value in fields.items():
            setattr(report, name, value)


async def event_count(app: App) -> int:
    async with app.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(SlaEvent)) or 0)


async def test_reminder_overdue_head_curator_across_a_weekend(
    database_url: str, app_factory: Any, clock: ManualClock
) -> None:
    clock.set(local(2026, 11, 27, 15))  # Friday 15:00: 4 working hours of ЖКХ end on Monday 10:00
    app, sla = await setup(app_factory, database_url)
    await set_block_contact(app.db, "housing", "head", HEAD_USER)
    rid = await file_report(app)
    async with app.db.session() as session:
        report = await session.get(Report, rid)
        assert report is not None
        assert report.first_reaction_due == local(2026, 11, 30, 10)
        assert report.answer_due == local(2026, 12, 4, 18)
        number = report.number

    assert await sla.tick() == []
    clock.set(local(2026, 11, 27, 16, 59))
    assert await sla.tick() == []
    clock.set(local(2026, 11, 27, 17))  # two working hours before Monday 10:00
    assert await sla.tick() == [(rid, "remind_first")]
    clock.set(local(2026, 11, 28, 12))  # Saturday: nothing new, and no repeat
    assert await sla.tick() == []
    clock.set(local(2026, 11, 30, 9, 59))
    assert await sla.tick() == []
    clock.set(local(2026, 11, 30, 10))
    assert await sla.tick() == [(rid, "overdue_first"), (rid, "head")]
    # 8 working hours after the head's notice: Monday 10:00 → 18:00 the same day.
    clock.set(local(2026, 11, 30, 17, 59))
    assert await sla.tick() == []
    clock.set(local(2026, 11, 30, 18))
    assert await sla.tick() == [(rid, "curator")]
    clock.set(local(2026, 12, 4, 16))
    assert await sla.tick() == [(rid, "remind_answer")]
    clock.set(local(2026, 12, 4, 18))
    assert await sla.tick() == [(rid, "overdue_answer")]  # the head and curator were told already
    clock.set(local(2026, 12, 10, 12))
    assert await sla.tick() == []

    messages = await sla_messages(app, rid)
    shape = [(m.kind, m.platform, m.target, m.idempotency_key) for m in messages]
    topic = f"report:{rid}"
    assert shape == [
        ("topic", "tg", topic, f"sla:{rid}:remind_first"),
        ("topic", "tg", topic, f"sla:{rid}:overdue_first"),
        ("direct", "tg", HEAD_USER, f"sla:{rid}:head:direct"),
        ("topic", "tg", topic, f"sla:{rid}:head"),
        ("topic", "tg", topic, f"sla:{rid}:curator"),  # the curator has no user id: topic only
        ("topic", "tg", topic, f"sla:{rid}:remind_answer"),
        ("topic", "tg", topic, f"sla:{rid}:overdue_answer"),
    ]
    assert [keys_of(m) for m in messages] == [
        ["sla-remind-first"],
        ["sla-overdue-first"],
        ["sla-direct-head"],
        ["sla-head-notified"],
        ["sla-curator-notified"],
        ["sla-remind-answer"],
        ["sla-overdue-answer"],
    ]
    translator = Translator()
    [remind] = views_of(messages[0].payload)[0].lines
    assert translator.text("ru", remind.key, remind.args) == (
        f"⏰ Обращение № {number}: первая реакция нужна до 30.11.2026 10:00. "
        "Возьмите его в работу или запросите уточнение."
    )
    [direct] = views_of(messages[2].payload)[0].lines
    assert direct.args["what"] == "first"
    assert "нет первой реакции" in translator.text("ru", direct.key, direct.args)
    [head] = views_of(messages[3].payload)[0].lines
    assert "Руководитель блока «ЖКХ» ЦУР" in translator.text("ru", head.key, head.args)
    assert await event_count(app) == 6


async def test_repeated_ticks_restarts_and_a_second_scheduler_fire_nothing_new(
    database_url: str, app_factory: Any, clock: ManualClock
) -> None:
    app, sla = await setup(app_factory, database_url)
    rid = await file_report(app)
    clock.set(local(2026, 11, 24, 14))  # Tuesday: the first reaction was due at 14:00
    assert await sla.tick() == [(rid, "overdue_first"), (rid, "head")]
    assert await sla.tick() == []
    # A restarted process (its own engine) and a second scheduler over the same database.
    other_app: App = await app_factory(database_url)
    other = SlaScheduler(other_app.db, WorkCalendar(), clock)
    assert await other.tick() == []
    before = len(await sla_messages(app, rid))

    clock.set(local(2026, 11, 25, 14))  # Wednesday 14:00: 8 working hours after the head
    results = await asyncio.gather(sla.tick(), other.tick(), return_exceptions=True)
    fired = [event for result in results if isinstance(result, list) for event in result]
    # SQLite may refuse the loser's write outright (a transient error the run loop retries).
    assert all(isinstance(r, list | OperationalError) for r in results), results
    fired += await sla.tick() + await other.tick()
    assert fired == [(rid, "curator")]
    assert len(await sla_messages(app, rid)) == before + 1
    assert await event_count(app) == 3


async def test_scheduler_down_for_days_fires_overdue_not_stale_reminders(
    database_url: str, app_factory: Any, clock: ManualClock
) -> None:
    app, sla = await setup(app_factory, database_url)
    first = await file_report(app, "r1")
    clock.set(local(2026, 11, 26, 10))  # down from Tuesday 10:00 to Thursday 10:00
    assert await sla.tick() == [(first, "overdue_first"), (first, "head")]
    keys = [m.idempotency_key for m in await sla_messages(app, first)]
    assert f"sla:{first}:remind_first" not in keys
    assert f"sla:{first}:overdue_first" in keys

    # A report whose both deadlines passed while nobody watched: one head notice for both.
    clock.set(local(2026, 11, 24, 10))
    second = await file_report(app, "r2")
    clock.set(local(2026, 12, 2, 10))
    fired = await sla.tick()
    assert [e for e in fired if e[0] == second] == [
        (second, "overdue_first"),
        (second, "overdue_answer"),
        (second, "head"),
    ]
    assert not any(kind.startswith("remind") for _, kind in fired)


async def test_first_reaction_stops_first_reaction_events(
    database_url: str, app_factory: Any, clock: ManualClock
) -> None:
    app, sla = await setup(app_factory, database_url)
    rid = await file_report(app)
    clock.set(local(2026, 11, 24, 12))
    assert await sla.tick() == [(rid, "remind_first")]
    clock.set(local(2026, 11, 24, 13))
    await set_report(app, rid, Status.IN_PROGRESS, first_reaction_at=clock.now())
    clock.set(local(2026, 11, 25, 12))
    assert await sla.tick() == []
    # The answer deadline (Tuesday 1 December 18:00) still counts.
    clock.set(local(2026, 12, 1, 16))
    assert await sla.tick() == [(rid, "remind_answer")]
    clock.set(local(2026, 12, 1, 18))
    assert await sla.tick() == [(rid, "overdue_answer"), (rid, "head")]
    clock.set(local(2026, 12, 2, 16, 59))
    assert await sla.tick() == []
    clock.set(local(2026, 12, 2, 17))
    assert await sla.tick() == [(rid, "curator")]
    keys = [m.idempotency_key for m in await sla_messages(app, rid)]
    assert f"sla:{rid}:overdue_first" not in keys


async def test_answered_report_autocloses_after_seven_days(
    database_url: str, app_factory: Any, clock: ManualClock
) -> None:
    app, sla = await setup(app_factory, database_url)
    rid = await file_report(app)
    clock.set(local(2026, 11, 24, 11))
    answered = clock.now()
    await set_report(
        app, rid, Status.IN_PROGRESS, Status.ANSWERED, first_reaction_at=answered, answered_at=answered
    )
    clock.set(answered + timedelta(days=7) - timedelta(minutes=1))
    assert await sla.tick() == []  # answered: no deadline events either
    clock.set(answered + timedelta(days=7))
    assert await sla.tick() == [(rid, "autoclose")]
    assert await sla.tick() == []

    async with app.db.session() as session:
        report = await session.scalar(
            select(Report).where(Report.id == rid).options(selectinload(Report.history))
        )
        assert report is not None
        assert report.status == Status.CLOSED
        assert report.closed_at == clock.now()
        last = report.history[-1]
        assert (last.from_status, last.to_status, last.actor) == ("answered", "closed", "system")
        assert last.comment == "no reply from the citizen"
        # The operators' card is refreshed to show the closed status.
        cards = list(
            await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.report_id == rid, OutboxMessage.kind == "report_card"
                )
            )
        )
        assert any(f":{len(report.history)}:closed:" in card.idempotency_key for card in cards)
    [message] = await sla_messages(app, rid)
    assert (message.kind, message.platform, message.target) == ("citizen", "tg", "1001")
    assert keys_of(message) == ["notify-autoclosed"]
    clock.set(answered + timedelta(days=60))
    assert await sla.tick() == []


async def test_closed_and_rejected_reports_fire_nothing(
    database_url: str, app_factory: Any, clock: ManualClock
) -> None:
    app, sla = await setup(app_factory, database_url)
    rejected = await file_report(app, "r1")
    closed = await file_report(app, "r2")
    await set_report(app, rejected, Status.REJECTED, closed_at=clock.now())
    await set_report(
        app, closed, Status.ANSWERED, Status.CLOSED, answered_at=clock.now(), closed_at=clock.now()
    )
    for days in (0, 1, 3, 10, 40):
        clock.set(local(2026, 11, 24, 12) + timedelta(days=days))
        assert await sla.tick() == []
    assert await sla_messages(app, rejected) == []
    assert await sla_messages(app, closed) == []
    assert await event_count(app) == 0


async def test_missing_block_contact_falls_back_to_the_tsur(
    database_url: str, app_factory: Any, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    app, sla = await setup(app_factory, database_url)
    async with app.db.session() as session:
        await session.execute(delete(BlockContact).where(BlockContact.sector_id == "housing"))
    rid = await file_report(app)
    clock.set(local(2026, 11, 24, 14))
    with caplog.at_level(logging.WARNING, logger="bot.services.reports.sla"):
        assert await sla.tick() == [(rid, "overdue_first"), (rid, "head")]
    assert "no head for sector housing" in caplog.text
    messages = await sla_messages(app, rid)
    assert [(m.kind, keys_of(m)) for m in messages] == [
        ("topic", ["sla-overdue-first"]),
        ("topic", ["sla-no-contact"]),
    ]


async def test_block_contacts_seed_once_and_are_editable(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    await seed_block_contacts(app.db)
    async with app.db.session() as session:
        sectors = set(await session.scalars(select(Sector.id)))
        rows = list(await session.scalars(select(BlockContact)))
    assert {(r.sector_id, r.level) for r in rows} == {(s, level) for s in sectors for level in LEVELS}
    assert all(r.platform_user_id is None for r in rows)
    housing_head = next(r for r in rows if (r.sector_id, r.level) == ("housing", "head"))
    assert housing_head.name == "Руководитель блока «ЖКХ» ЦУР"

    await set_block_contact(app.db, "housing", "head", " 42 ", name="И. И. Иванов")
    await seed_block_contacts(app.db)  # never overwrites an edited row
    async with app.db.session() as session:
        row = await session.scalar(
            select(BlockContact).where(BlockContact.sector_id == "housing", BlockContact.level == "head")
        )
        assert row is not None and (row.platform_user_id, row.name) == ("42", "И. И. Иванов")
        assert await session.scalar(select(func.count()).select_from(BlockContact)) == len(rows)
    await set_block_contact(app.db, "housing", "head", None)
    async with app.db.session() as session:
        row = await session.scalar(
            select(BlockContact).where(BlockContact.sector_id == "housing", BlockContact.level == "head")
        )
        assert row is not None and (row.platform_user_id, row.name) == (None, "И. И. Иванов")
    with pytest.raises(ValueError):
        await set_block_contact(app.db, "housing", "deputy", "1")
    with pytest.raises(ValueError):
        await set_block_contact(app.db, "no-such-sector", "head", "1")


def test_block_contacts_data_and_texts_are_complete() -> None:
    specs = load_block_contacts()
    assert len({(s.sector_id, s.level) for s in specs}) == len(specs)
    translator = Translator()
    keys = {
        "sla-remind-first",
        "sla-remind-answer",
        "sla-overdue-first",
        "sla-overdue-answer",
        "sla-head-notified",
        "sla-curator-notified",
        "sla-no-contact",
        "sla-direct-head",
        "sla-direct-curator",
        "notify-autoclosed",
    }
    for lang in ("ru", "en"):
        assert keys <= translator.message_ids(lang)
    assert translator.message_ids("ru") == translator.message_ids("en")


async def test_run_survives_transient_errors(
    sqlite_url: str, app_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _app, sla = await setup(app_factory, sqlite_url)
    stop = asyncio.Event()
    calls = 0

    async def flaky() -> list[tuple[int, str]]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OperationalError("SELECT 1", {}, Exception("database is locked"))
        if calls == 2:
            raise RuntimeError("a bug")
        stop.set()
        return []

    monkeypatch.setattr(sla, "tick", flaky)
    await asyncio.wait_for(sla.run(stop, interval=0.01), timeout=5)
    assert calls == 3


async def test_an_event_fired_meanwhile_is_skipped_not_doubled(
    database_url: str, app_factory: Any, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, sla = await setup(app_factory, database_url)
    rid = await file_report(app)
    clock.set(local(2026, 11, 24, 14))
    assert await sla.tick() == [(rid, "overdue_first"), (rid, "head")]
    before = len(await sla_messages(app, rid))

    # As if another scheduler committed these between our read and our write: the unique row wins.
    from bot.services.reports import sla as sla_module

    original = sla_module.due_events

    def blind(report: Report, fired: Any, *args: Any) -> Any:
        return original(report, {}, *args)

    monkeypatch.setattr(sla_module, "due_events", blind)
    assert await sla.tick() == []
    assert len(await sla_messages(app, rid)) == before
    assert await event_count(app) == 2


async def test_a_failure_mid_event_leaves_no_event_without_its_messages(
    database_url: str, app_factory: Any, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, sla = await setup(app_factory, database_url)
    rid = await file_report(app)
    clock.set(local(2026, 11, 24, 14))
    from bot.delivery import postbox

    original = postbox.enqueue

    async def crash_on_head(session: Any, **fields: Any) -> bool:
        queued = await original(session, **fields)
        if fields["key"].endswith(":head"):
            raise RuntimeError("process died mid-event")
        return queued

    monkeypatch.setattr(postbox, "enqueue", crash_on_head)
    assert (rid, "head") not in await sla.tick()  # logged, not raised
    async with app.db.session() as session:
        kinds = set(await session.scalars(select(SlaEvent.kind)))
    keys = {m.idempotency_key for m in await sla_messages(app, rid)}
    assert "head" not in kinds
    assert keys == {f"sla:{rid}:{kind}" for kind in kinds}  # an event and its messages, or neither

    monkeypatch.setattr(postbox, "enqueue", original)
    await sla.tick()
    final = [m.idempotency_key for m in await sla_messages(app, rid)]
    assert sorted(final) == sorted([f"sla:{rid}:overdue_first", f"sla:{rid}:head"])
    assert await event_count(app) == 2


async def test_a_head_in_the_staff_registry_gets_the_escalation(
    database_url: str, app_factory: Any, clock: ManualClock
) -> None:
    from bot.services.staff.roles import Principal

    app, sla = await setup(app_factory, database_url)
    await set_block_contact(app.db, "housing", "head", HEAD_USER)
    await app.staff.add(Principal.shell(), "888001", "head", "housing", name="Иванова И. И.")
    # Another sector's head is not asked.
    await app.staff.add(Principal.shell(), "888002", "head", "roads")
    rid = await file_report(app)
    clock.set(local(2026, 11, 24, 14))
    assert await sla.tick() == [(rid, "overdue_first"), (rid, "head")]
    messages = await sla_messages(app, rid)
    assert [(m.kind, m.target) for m in messages] == [
        ("topic", f"report:{rid}"),
        ("direct", "888001"),
        ("topic", f"report:{rid}"),
    ]
    [notified] = views_of(messages[2].payload)[0].lines
    assert notified.args["name"] == "Иванова И. И."
