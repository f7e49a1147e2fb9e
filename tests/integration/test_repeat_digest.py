"""Repeated reports and the weekly digest: a pothole closed and reported again a month later is a
repeat; 100 days later, the next street or another sector is not. The digest reaches the ЦУР chat and
the roads head once per ISO week however many ticks, restarts or racing processes there are."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import selectinload

from bot.app.wiring import App
from bot.core.clock import ManualClock
from bot.core.i18n import Translator
from bot.delivery.outbox import views_of
from bot.services.chats import TSUR_BODY, bind_chat
from bot.services.incidents.digest import DigestPolicy, WeeklyDigest
from bot.services.incidents.places import place_rules
from bot.services.incidents.repeats import find_recurring
from bot.services.reports.block_contacts import seed_block_contacts, set_block_contact
from bot.services.reports.filing import ReportDraft
from bot.services.reports.lifecycle import Status, change_status
from storage.models import OutboxMessage, Report, ReportThread

EKB = ZoneInfo("Asia/Yekaterinburg")
TSUR_CHAT = -1001234567890
ROADS_HEAD = "777001"
HOUSING_HEAD = "777002"
# Monday 7 December 2026, 09:00 local: the digest of ISO week 50 covers 30.11 09:00 – 07.12 09:00.
DIGEST_AT = datetime(2026, 12, 7, 9, 0, tzinfo=EKB).astimezone(UTC)
WEEK = "2026-W50"


def local(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=EKB).astimezone(UTC)


async def file_at(
    app: App,
    clock: ManualClock,
    when: datetime,
    key: str,
    sector: str,
    address: str | None,
    pin: tuple[float, float] | None = None,
) -> int:
    clock.set(when)
    citizen = await app.services.citizens.give_consent("tg", f"10{len(key)}{key}", "ru")
    filed = await app.services.reports.file(
        ReportDraft(
            intake_key=key,
            platform="tg",
            citizen_id=citizen.id,
            language="ru",
            text="Яма на дороге, колесо пробил. Мой телефон +79001234567",
            sector_id=sector,
            municipality_id="ekaterinburg",
            address=address,
            latitude=pin[0] if pin else None,
            longitude=pin[1] if pin else None,
        )
    )
    return filed.id


async def close_at(app: App, report_id: int, when: datetime) -> None:
    """Answer and close a report as an operator and the citizen would."""
    async with app.db.session() as session:
        report = await session.scalar(
            select(Report).where(Report.id == report_id).options(selectinload(Report.history))
        )
        assert report is not None
        for target in (Status.IN_PROGRESS, Status.ANSWERED, Status.CLOSED):
            change_status(report, target, actor="operator:1", at=when)
        report.answered_at = report.closed_at = when


async def numbers(app: App, *ids: int) -> list[str]:
    async with app.db.session() as session:
        found = {r.id: r.number for r in await session.scalars(select(Report).where(Report.id.in_(ids)))}
    return [str(found[i]) for i in ids]


async def digests(app: App) -> dict[str, OutboxMessage]:
    async with app.db.session() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.idempotency_key.like("digest:%"))
        )
        return {row.idempotency_key: row for row in rows}


def text_of(message: OutboxMessage, lang: str = "ru") -> str:
    translator = Translator()
    return "\n".join(
        translator.text(lang, line.key, line.args)
        for view in views_of(message.payload)
        for line in view.lines
    )


async def seeded(app_factory: Any, url: str, clock: ManualClock) -> tuple[App, dict[str, int]]:
    """A month-old closed pothole and what was filed around it."""
    app: App = await app_factory(url)
    await seed_block_contacts(app.db)
    ids = {
        "pothole": await file_at(app, clock, local(10, 20), "pothole", "roads", "ул. Ленина, 22"),
        "old": await file_at(app, clock, local(8, 10), "old", "roads", "улица Мира, 5"),
    }
    # A pinned pothole, and a pin ~55 m away in the next grid cell a month after it was closed.
    ids["pinned"] = await file_at(app, clock, local(10, 1), "pinned", "roads", None, (56.4998, 60.81))
    await close_at(app, ids["pinned"], local(10, 20))
    ids["pinned_again"] = await file_at(app, clock, local(12, 1, 10), "pin2", "roads", None, (56.5003, 60.81))
    await close_at(app, ids["pothole"], local(11, 1))
    await close_at(app, ids["old"], local(8, 23))
    ids["again"] = await file_at(app, clock, local(12, 1), "again", "roads", "Ленина 24")  # 30 days on
    ids["late"] = await file_at(app, clock, local(12, 1), "late", "roads", "улица Мира, 5")  # 100 days on
    ids["next_street"] = await file_at(app, clock, local(12, 2), "next", "roads", "ул. Малышева, 24")
    ids["housing"] = await file_at(app, clock, local(12, 2), "housing", "housing", "ул. Ленина, 22")
    # The next week, the far end of the same street (38 numbers on, over 500 m): another pothole.
    ids["far"] = await file_at(app, clock, local(12, 8), "far", "roads", "ул. Ленина, 60")
    return app, ids


async def test_a_pothole_reported_again_within_90_days_is_a_repeat_and_nothing_else_is(
    database_url: str, app_factory: Any, clock: ManualClock
) -> None:
    app, ids = await seeded(app_factory, database_url, clock)
    async with app.db.session() as session:
        problems = await find_recurring(
            session, place_rules(), since=DIGEST_AT - timedelta(days=7), until=DIGEST_AT
        )
    assert [(p.sector_id, p.municipality_id, [r.id for r in p.reports], p.repeats) for p in problems] == [
        ("roads", "ekaterinburg", [ids["pothole"], ids["again"]], 1),
        # As many repeats and reports: the more recent problem ranks first.
        ("roads", "ekaterinburg", [ids["pinned"], ids["pinned_again"]], 1),
    ]
    # A week later only the far pothole is new: the repeat was last week's news, so nothing recurs.
    async with app.db.session() as session:
        assert (
            await find_recurring(session, place_rules(), since=DIGEST_AT, until=DIGEST_AT + timedelta(days=7))
            == []
        )


async def test_the_digest_reaches_the_tsur_chat_and_the_roads_head_once_a_week(
    database_url: str, app_factory: Any, clock: ManualClock
) -> None:
    app, ids = await seeded(app_factory, database_url, clock)
    await bind_chat(app.db, TSUR_BODY, TSUR_CHAT, by="test")
    await set_block_contact(app.db, "roads", "head", ROADS_HEAD)
    await set_block_contact(app.db, "housing", "head", HOUSING_HEAD)
    async with app.db.session() as session:
        session.add(ReportThread(report_id=ids["again"], chat_id=-1009876543210, thread_id=77))
    digest = WeeklyDigest(app.db, clock, EKB)

    clock.set(DIGEST_AT - timedelta(minutes=1))  # Monday 08:59: not yet
    assert await digest.tick() == []
    clock.set(DIGEST_AT)
    tsur_key, roads_key = f"digest:{WEEK}:tsur", f"digest:{WEEK}:head:roads:{ROADS_HEAD}"
    housing_key = f"digest:{WEEK}:head:housing:{HOUSING_HEAD}"
    assert sorted(await digest.tick()) == sorted([tsur_key, roads_key, housing_key])
    assert await digest.tick() == []
    clock.set(DIGEST_AT + timedelta(days=2))  # later in the week: still nothing new
    assert await digest.tick() == []

    sent = await digests(app)
    assert sorted(sent) == sorted([tsur_key, roads_key, housing_key])
    assert (sent[tsur_key].kind, sent[tsur_key].target) == ("direct", str(TSUR_CHAT))
    assert sent[roads_key].target == ROADS_HEAD
    pothole, again, late, next_street, housing = await numbers(
        app, ids["pothole"], ids["again"], ids["late"], ids["next_street"], ids["housing"]
    )
    tsur_text = text_of(sent[tsur_key])
    assert tsur_text.splitlines()[:5] == [
        "🔁 Повторные обращения за неделю 2026-W50 (30.11.2026 — 07.12.2026), все блоки",
        "📍 Екатеринбург",
        "1. Дороги: Ленина, 24 — обращений: 2, из них повторных: 1",
        f"• № {again}: https://t.me/c/9876543210/77",
        f"• № {pothole}",
    ]
    assert "2. Дороги: по метке 56.5003, 60.8100 — обращений: 2, из них повторных: 1" in tsur_text
    for absent in (late, next_street, housing, "Мой телефон", "+7900", "Яма"):
        assert absent not in tsur_text
    assert text_of(sent[roads_key]).splitlines()[2:4] == tsur_text.splitlines()[2:4]
    assert "блок «Дороги»" in text_of(sent[roads_key])
    housing_text = text_of(sent[housing_key])
    assert "Дороги:" not in housing_text and "повторных обращений нет" in housing_text
    assert text_of(sent[tsur_key], "en").startswith("🔁 Repeated reports of week 2026-W50")

    # A restarted process and a second one racing it queue nothing more this week.
    other: App = await app_factory(database_url)
    results = await asyncio.gather(
        WeeklyDigest(other.db, clock, EKB).tick(), digest.tick(), return_exceptions=True
    )
    assert all(r == [] or isinstance(r, OperationalError) for r in results), results
    assert sorted(await digests(app)) == sorted([tsur_key, roads_key, housing_key])

    # The next week has a digest of its own (empty: nothing came back again).
    clock.set(DIGEST_AT + timedelta(days=7))
    assert sorted(await digest.tick()) == sorted(
        k.replace(WEEK, "2026-W51") for k in (tsur_key, roads_key, housing_key)
    )
    assert "повторных обращений нет" in text_of((await digests(app))["digest:2026-W51:tsur"])


async def test_two_processes_racing_at_the_digest_hour_queue_each_digest_once(
    database_url: str, app_factory: Any, clock: ManualClock
) -> None:
    app, _ = await seeded(app_factory, database_url, clock)
    await bind_chat(app.db, TSUR_BODY, TSUR_CHAT, by="test")
    await set_block_contact(app.db, "roads", "head", ROADS_HEAD)
    other: App = await app_factory(database_url)
    clock.set(DIGEST_AT + timedelta(hours=1))
    ticks = [WeeklyDigest(a.db, clock, EKB, DigestPolicy(top=3)).tick() for a in (app, other)]
    results = await asyncio.gather(*ticks, return_exceptions=True)
    # SQLite may refuse the loser's write outright (a transient error the run loop retries).
    assert all(isinstance(r, list | OperationalError) for r in results), results
    queued = [key for r in results if isinstance(r, list) for key in r]
    queued += await WeeklyDigest(app.db, clock, EKB).tick()
    assert sorted(queued) == sorted([f"digest:{WEEK}:tsur", f"digest:{WEEK}:head:roads:{ROADS_HEAD}"])
    assert len(await digests(app)) == 2
