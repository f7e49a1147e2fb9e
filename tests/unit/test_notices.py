"""Notices: who an audience selects, quiet hours, planning once, pause/resume/cancel, stats, layout, CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from bot.app import App
from bot.clock import ManualClock
from bot.config import PROJECT_ROOT
from bot.i18n import Translator
from bot.notices import Audience, NoticeDraft, NoticeKind, notice_views, quiet_until
from storage.models import Citizen, OutboxMessage, Report, Subscription

EKB = ZoneInfo("Asia/Yekaterinburg")


async def citizen(
    app: App,
    user: str,
    *,
    platform: str = "tg",
    subs: tuple[tuple[str, str], ...] = (),
    quiet: tuple[int, int] | None = None,
    person: int | None = None,
    unreachable: bool = False,
) -> int:
    now = app.services.clock.now()
    async with app.db.session() as session:
        row = Citizen(
            platform=platform,
            platform_user_id=user,
            language="ru",
            consent_at=now,
            created_at=now,
            quiet_from=quiet[0] if quiet else None,
            quiet_to=quiet[1] if quiet else None,
            person_id=person,
            unreachable_at=now if unreachable else None,
        )
        session.add(row)
        await session.flush()
        for scope, value in subs:
            session.add(Subscription(citizen_id=row.id, scope=scope, value=value))
        return row.id


async def users_of(app: App, audience: Audience) -> set[str]:
    notice_id = await app.notices.create(NoticeDraft(NoticeKind.INFO, "Текст", audience), "test")
    await app.notices.confirm(notice_id)
    async with app.db.session() as session:
        return set(
            await session.scalars(select(OutboxMessage.target).where(OutboxMessage.notice_id == notice_id))
        )


M, S = "municipality", "sector"


async def test_audiences_select_the_right_people(database_url: str, app_factory: Any) -> None:
    app: App = await app_factory(database_url)
    await citizen(app, "ekb-all", subs=((M, "ekaterinburg"),))
    await citizen(app, "ekb-roads", subs=((M, "ekaterinburg"), (S, "roads")))
    await citizen(app, "tagil-housing", subs=((M, "nizhny_tagil"), (S, "housing")))
    await citizen(app, "oblast", subs=((M, "*"),))
    await citizen(app, "housing-only", platform="vk", subs=((S, "housing"),))
    await citizen(app, "nobody")  # consented, never subscribed
    await citizen(app, "blocked", subs=((M, "*"),), unreachable=True)
    ekb = Audience(municipalities=("ekaterinburg",))
    assert await users_of(app, ekb) == {"ekb-all", "ekb-roads", "oblast", "housing-only"}
    assert await app.notices.count(ekb) == 4
    housing = Audience(sectors=("housing",))
    assert await users_of(app, housing) == {"ekb-all", "tagil-housing", "oblast", "housing-only"}
    both = Audience(municipalities=("ekaterinburg",), sectors=("roads",))
    assert await users_of(app, both) == {"ekb-all", "ekb-roads", "oblast"}
    assert await users_of(app, Audience(everyone=True, platforms=("vk",))) == {"housing-only"}
    assert await users_of(app, Audience(everyone=True)) == {
        "ekb-all",
        "ekb-roads",
        "tagil-housing",
        "oblast",
        "housing-only",
    }
    assert await app.notices.count(Audience()) == 0


async def test_reporters_and_linked_accounts(database_url: str, app_factory: Any) -> None:
    app: App = await app_factory(database_url)
    first = await citizen(app, "tg-person", subs=((M, "*"),))
    await citizen(app, "vk-person", platform="vk", subs=((M, "*"),), person=first)
    async with app.db.session() as session:
        await session.execute(update(Citizen).where(Citizen.id == first).values(person_id=first))
    reporter = await citizen(app, "reporter")
    now = app.services.clock.now()
    async with app.db.session() as session:
        session.add(
            Report(
                number="2026-000042",
                intake_key="k42",
                citizen_id=reporter,
                platform="tg",
                text="яма",
                sector_id="roads",
                body_id=app.services.catalog.route("roads", "ekaterinburg"),
                status="routed",
                language="ru",
                first_reaction_due=now,
                answer_due=now,
            )
        )
    # One person with two messengers gets one delivery.
    assert await users_of(app, Audience(everyone=True)) == {"tg-person"}
    # A reporter gets news about their own report without subscribing.
    assert await users_of(app, Audience(reports=("2026-000042",))) == {"reporter"}


def test_quiet_until() -> None:
    def at(hour: int, minute: int = 0) -> datetime:
        return datetime(2026, 11, 24, hour, minute, tzinfo=EKB).astimezone(UTC)

    assert quiet_until(at(23, 30), 22, 8, EKB) == at(8) + timedelta(days=1)
    assert quiet_until(at(7, 59), 22, 8, EKB) == at(8)
    assert quiet_until(at(8), 22, 8, EKB) is None
    assert quiet_until(at(21, 59), 22, 8, EKB) is None
    assert quiet_until(at(14), 13, 15, EKB) == at(15)
    assert quiet_until(at(3), None, None, EKB) is None
    assert quiet_until(at(3), 5, 5, EKB) is None


async def test_quiet_hours_at_planning_and_emergency(
    sqlite_url: str, app_factory: Any, clock: ManualClock
) -> None:
    app: App = await app_factory(sqlite_url)
    await citizen(app, "sleepy", subs=((M, "*"),), quiet=(22, 8))
    clock.set(datetime(2026, 11, 24, 23, 0, tzinfo=EKB).astimezone(UTC))
    audience = Audience(everyone=True)
    info = await app.notices.create(NoticeDraft(NoticeKind.INFO, "новости", audience), "t")
    alarm = await app.notices.create(NoticeDraft(NoticeKind.EMERGENCY, "шторм", audience), "t")
    await app.notices.confirm(info)
    await app.notices.confirm(alarm)
    async with app.db.session() as session:
        due = dict(
            (await session.execute(select(OutboxMessage.notice_id, OutboxMessage.next_attempt_at))).all()
        )
    assert due[info] == datetime(2026, 11, 25, 8, 0, tzinfo=EKB).astimezone(UTC)
    assert due[alarm] == clock.now()


async def test_confirm_once_pause_resume_cancel_and_stats(database_url: str, app_factory: Any) -> None:
    app: App = await app_factory(database_url)
    for index in range(6):
        await citizen(app, f"u{index}", subs=((M, "*"),))
    notice_id = await app.notices.create(
        NoticeDraft(NoticeKind.OUTAGE, "Отключение", Audience(everyone=True)), "t"
    )
    assert await app.notices.confirm(notice_id) == 6
    assert await app.notices.confirm(notice_id) == 6  # repeated: nothing planned twice
    async with app.db.session() as session:
        ids = list(await session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids[:2]))
            .values(status="sent", sent_at=app.services.clock.now())
        )
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == ids[2])
            .values(status="dead", last_error="unreachable: 403")
        )
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == ids[3])
            .values(status="dead", last_error="vk 10: boom")
        )
    assert await app.notices.pause(notice_id)
    stats = await app.notices.stats(notice_id)
    assert (stats.sent, stats.unreachable, stats.failed, stats.paused, stats.waiting) == (2, 1, 1, 2, 0)
    assert stats.rate_per_minute == 2 and stats.status == "paused"
    assert not await app.notices.finish_if_done(notice_id)
    assert await app.notices.resume(notice_id)
    assert (await app.notices.stats(notice_id)).waiting == 2
    assert await app.notices.cancel(notice_id)
    stats = await app.notices.stats(notice_id)
    assert (stats.cancelled, stats.waiting, stats.status, stats.finished) == (2, 0, "cancelled", True)
    assert not await app.notices.resume(notice_id)
    async with app.db.session() as session:
        total = await session.scalar(select(func.count()).select_from(OutboxMessage))
    assert total == 6


def test_fact_check_layout() -> None:
    translator = Translator()
    [view] = notice_views("factcheck", "Вода соответствует нормам.", "В водопроводе яд", "Роспотребнадзор")
    text = "\n".join(translator.text("ru", line.key, line.args) for line in view.lines)
    assert text.index("Проверка фактов") < text.index("В водопроводе яд") < text.index("Факты")
    assert "Источник: Роспотребнадзор" in text
    assert [b.id for b in view.all_buttons()] == ["ns:off"]


def test_cli_dry_run_send_and_status(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(PROJECT_ROOT),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "notice", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=60,
            check=False,
        )

    assert run("send", "--text", "x", "--municipality", "atlantis").returncode == 2
    assert run("send", "--text", "x").returncode == 2  # no audience
    dry = run("send", "--text", "Отключение", "--everyone", "--dry-run")
    assert dry.returncode == 0 and "recipients: 0" in dry.stdout
    sent = run("send", "--kind", "outage", "--text", "Отключение", "--municipality", "ekaterinburg")
    assert sent.returncode == 0 and "notice 1:" in sent.stdout
    status = run("status", "1")
    assert status.returncode == 0 and "status=done" in status.stdout and "total=0" in status.stdout
    assert run("status", "99").returncode == 2


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_kind_has_a_header_in_both_languages(kind: NoticeKind) -> None:
    translator = Translator()
    for lang in ("ru", "en"):
        assert translator.has(lang, f"notice-head-{kind.value}")
