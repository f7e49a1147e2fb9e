"""Notices: who an audience selects, quiet hours, planning once, pause/resume/cancel, stats, layout, CLI."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from bot.__main__ import main
from bot.app.wiring import App
from bot.core.clock import ManualClock
from bot.core.config import PROJECT_ROOT
from bot.core.messages import View
from bot.delivery.outbox import Kind, enqueue, envelope
from bot.delivery.ports import Delivery, Outcome, Sent
from bot.services.notices.content import Audience, NoticeDraft, NoticeKind
from storage.db import Database
from storage.models import (
    Citizen,
    CommsChat,
    Notice,
    OutboxMessage,
    Report,
    RoutingRule,
    Subscription,
)
from tests.harness.settings import START

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
        if quiet is None:
            # None would let the column default (22 to 8) fill in: clear it explicitly.
            await session.execute(
                update(Citizen).where(Citizen.id == row.id).values(quiet_from=None, quiet_to=None)
            )
        for scope, value in subs:
            session.add(Subscription(citizen_id=row.id, scope=scope, value=value))
        return row.id


async def users_of(app: App, audience: Audience) -> set[str]:
    notice_id = await app.notices.plans.store(NoticeDraft(NoticeKind.INFO, "Текст", audience), "test")
    await app.notices.plans.plan(notice_id)
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


async def report(app: App, number: str, citizen_id: int) -> None:
    now = app.services.clock.now()
    async with app.db.session() as session:
        session.add(
            Report(
                number=number,
                intake_key=f"k-{number}",
                citizen_id=citizen_id,
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


async def link(app: App, *ids: int) -> None:
    async with app.db.session() as session:
        await session.execute(update(Citizen).where(Citizen.id.in_(ids)).values(person_id=min(ids)))


async def test_reporters_and_linked_accounts(database_url: str, app_factory: Any) -> None:
    app: App = await app_factory(database_url)
    first = await citizen(app, "tg-person", subs=((M, "*"),))
    second = await citizen(app, "vk-person", platform="vk", subs=((M, "*"),))
    await link(app, first, second)
    reporter = await citizen(app, "reporter")
    other_reporter = await citizen(app, "other-reporter", platform="vk")
    await report(app, "2026-000042", reporter)
    await report(app, "2026-000043", other_reporter)
    # One person with two messengers gets one delivery, on the account with the smallest id.
    assert await users_of(app, Audience(everyone=True)) == {"tg-person"}
    assert await app.notices.count(Audience(everyone=True)) == 1
    # ... or on the chosen platform's account.
    assert await users_of(app, Audience(everyone=True, platforms=("vk",))) == {"vk-person"}
    # A reporter gets news about their own report without subscribing; only the chosen reports.
    assert await users_of(app, Audience(reports=("2026-000042",))) == {"reporter"}
    both = Audience(reports=("2026-000042", "2026-000043"))
    assert await users_of(app, both) == {"reporter", "other-reporter"}
    assert await users_of(app, Audience(reports=both.reports, platforms=("vk",))) == {"other-reporter"}
    assert await users_of(app, Audience(reports=("2026-999999",))) == set()


async def test_a_linked_person_hears_on_a_reachable_account(database_url: str, app_factory: Any) -> None:
    app: App = await app_factory(database_url)
    # Subscribed on Telegram, then blocked the bot there; the linked VK account has no subscription
    # of its own, but it is the same person: they hear on VK, once.
    blocked = await citizen(app, "tg-blocked", subs=((M, "ekaterinburg"),), unreachable=True)
    reachable = await citizen(app, "vk-reachable", platform="vk")
    await link(app, blocked, reachable)
    # Subscriptions of linked accounts add up: a sector on one, a municipality on the other.
    roads = await citizen(app, "tg-roads", subs=((S, "roads"),))
    tagil = await citizen(app, "vk-tagil", platform="vk", subs=((M, "nizhny_tagil"),))
    await link(app, roads, tagil)
    # Everyone unreachable: nobody to send to.
    await citizen(app, "gone", subs=((M, "*"),), unreachable=True)
    assert await users_of(app, Audience(municipalities=("ekaterinburg",))) == {"vk-reachable"}
    assert await users_of(app, Audience(municipalities=("nizhny_tagil",), sectors=("roads",))) == {"tg-roads"}
    assert await users_of(app, Audience(municipalities=("ekaterinburg",), sectors=("roads",))) == {
        "vk-reachable"
    }
    assert await users_of(app, Audience(everyone=True, platforms=("tg",))) == {"tg-roads"}
    assert await app.notices.count(Audience(everyone=True)) == 2


async def due_times(app: App, notice_id: int) -> dict[str, datetime]:
    async with app.db.session() as session:
        rows = await session.execute(
            select(OutboxMessage.target, OutboxMessage.next_attempt_at).where(
                OutboxMessage.notice_id == notice_id
            )
        )
        return {target: due for target, due in rows.all()}


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=EKB).astimezone(UTC)


async def test_quiet_hours_at_planning_and_emergency(
    database_url: str, app_factory: Any, clock: ManualClock
) -> None:
    app: App = await app_factory(database_url)
    await citizen(app, "sleepy", subs=((M, "*"),), quiet=(22, 8))
    await citizen(app, "owl", subs=((M, "*"),))  # no quiet hours
    await citizen(app, "early", subs=((M, "*"),), quiet=(21, 6))
    clock.set(local(24, 23))
    audience = Audience(everyone=True)
    info = await app.notices.plans.store(NoticeDraft(NoticeKind.INFO, "новости", audience), "t")
    alarm = await app.notices.plans.store(NoticeDraft(NoticeKind.EMERGENCY, "шторм", audience), "t")
    assert await app.notices.plans.plan(info) == 3
    assert await app.notices.plans.plan(alarm) == 3
    assert await due_times(app, info) == {"sleepy": local(25, 8), "owl": clock.now(), "early": local(25, 6)}
    # An emergency goes at once, quiet hours or not.
    assert set((await due_times(app, alarm)).values()) == {clock.now()}
    async with app.db.session() as session:
        payloads = list(
            await session.scalars(select(OutboxMessage.payload).where(OutboxMessage.notice_id == alarm))
        )
    assert {p["urgent"] for p in payloads} == {True}
    assert sorted((p["quiet"] or [0, 0])[0] for p in payloads) == [0, 21, 22]


async def test_scheduled_notice_keeps_its_time_through_pause_and_resume(
    database_url: str, app_factory: Any, clock: ManualClock
) -> None:
    app: App = await app_factory(database_url)
    await citizen(app, "sleepy", subs=((M, "*"),), quiet=(22, 8))
    await citizen(app, "owl", subs=((M, "*"),))
    later = local(24, 15)
    draft = NoticeDraft(NoticeKind.OUTAGE, "отключение", Audience(everyone=True), send_at=later)
    notice_id = await app.notices.plans.store(draft, "t")
    await app.notices.plans.plan(notice_id)
    assert set((await due_times(app, notice_id)).values()) == {later}
    assert (await app.notices.stats(notice_id)).waiting == 2  # held back rows are waiting too
    assert await app.notices.plans.pause(notice_id)
    assert not await app.notices.plans.pause(notice_id)
    assert await app.notices.plans.resume(notice_id)
    assert not await app.notices.plans.resume(notice_id)
    # Resumed before its time: still not before the time it was scheduled for.
    assert set((await due_times(app, notice_id)).values()) == {later}
    # Paused into the night and resumed then: due at once, or when the quiet hours end.
    assert await app.notices.plans.pause(notice_id)
    clock.set(local(24, 23, 30))
    assert await app.notices.plans.resume(notice_id)
    assert await due_times(app, notice_id) == {"sleepy": local(25, 8), "owl": clock.now()}


async def test_a_scheduled_time_inside_quiet_hours_waits_for_their_end(
    database_url: str, app_factory: Any
) -> None:
    app: App = await app_factory(database_url)
    await citizen(app, "sleepy", subs=((M, "*"),), quiet=(22, 8))
    draft = NoticeDraft(NoticeKind.INFO, "ночью", Audience(everyone=True), send_at=local(24, 23))
    notice_id = await app.notices.plans.store(draft, "t")
    await app.notices.plans.plan(notice_id)
    assert await due_times(app, notice_id) == {"sleepy": local(25, 8)}


async def outbox_rows(app: App, notice_id: int) -> dict[str, str]:
    async with app.db.session() as session:
        rows = await session.execute(
            select(OutboxMessage.idempotency_key, OutboxMessage.status).where(
                OutboxMessage.notice_id == notice_id
            )
        )
        return {key: status for key, status in rows.all()}


async def test_confirm_once_pause_resume_cancel_and_stats(
    database_url: str, app_factory: Any, clock: ManualClock
) -> None:
    app: App = await app_factory(database_url)
    for index in range(6):
        await citizen(app, f"u{index}", subs=((M, "*"),))
    notice_id = await app.notices.plans.store(
        NoticeDraft(NoticeKind.OUTAGE, "Отключение", Audience(everyone=True)), "t"
    )
    assert (await app.notices.get(notice_id)).status == "draft"  # type: ignore[union-attr]
    # A double tap: two confirms at once plan the notice once.
    assert list(
        await asyncio.gather(app.notices.plans.plan(notice_id), app.notices.plans.plan(notice_id))
    ) == [
        6,
        6,
    ]
    assert await app.notices.plans.plan(notice_id) == 6  # and again later: nothing planned twice
    rows = await outbox_rows(app, notice_id)
    assert len(rows) == 6 and set(rows.values()) == {"pending"}
    assert all(key.startswith(f"notice:{notice_id}:") for key in rows)
    notice = await app.notices.get(notice_id)
    assert notice is not None and notice.status == "sending" and notice.recipients == 6
    assert notice.confirmed_at == clock.now()
    assert await app.notices.active() == [notice_id]
    async with app.db.session() as session:
        ids = list(await session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids[:2]))
            .values(status="sent", sent_at=clock.now() - timedelta(seconds=10))
        )
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == ids[2]).values(status="sent", sent_at=START)
        )
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == ids[3])
            .values(status="dead", last_error="unreachable: 403")
        )
    clock.advance(timedelta(minutes=5))
    stats = await app.notices.stats(notice_id)
    # Sends older than a minute do not count towards the rate.
    assert (stats.sent, stats.unreachable, stats.failed, stats.waiting) == (3, 1, 0, 2)
    assert stats.rate_per_minute == 0 and stats.eta_seconds is None
    clock.set(START + timedelta(seconds=30))
    stats = await app.notices.stats(notice_id)
    assert stats.rate_per_minute == 3 and stats.eta_seconds == pytest.approx(40.0)  # 2 left at 3/min
    async with app.db.session() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == ids[4])
            .values(status="dead", last_error="vk 10: boom")
        )
    assert await app.notices.plans.pause(notice_id)
    assert await app.notices.active() == [notice_id]
    assert sorted((await outbox_rows(app, notice_id)).values()) == [
        "dead",
        "dead",
        "paused",
        "sent",
        "sent",
        "sent",
    ]
    stats = await app.notices.stats(notice_id)
    assert (stats.sent, stats.unreachable, stats.failed, stats.paused, stats.waiting) == (3, 1, 1, 1, 0)
    assert stats.status == "paused" and stats.total == 6 and not stats.finished
    assert await app.notices.plans.plan(notice_id) == 6  # confirming a paused notice sends nothing
    assert (await app.notices.stats(notice_id)).paused == 1
    assert not await app.notices.finish_if_done(notice_id)
    assert await app.notices.plans.resume(notice_id)
    assert (await app.notices.stats(notice_id)).waiting == 1
    assert not await app.notices.finish_if_done(notice_id)
    assert await app.notices.plans.cancel(notice_id)
    assert not await app.notices.plans.cancel(notice_id)
    stats = await app.notices.stats(notice_id)
    assert (stats.cancelled, stats.waiting, stats.status, stats.finished) == (1, 0, "cancelled", True)
    assert not await app.notices.plans.resume(notice_id)
    assert not await app.notices.finish_if_done(notice_id)
    assert await app.notices.active() == []
    notice = await app.notices.get(notice_id)
    assert notice is not None and notice.finished_at == clock.now()
    async with app.db.session() as session:
        total = await session.scalar(select(func.count()).select_from(OutboxMessage))
    assert total == 6


async def test_a_notice_is_done_when_nothing_is_left(
    database_url: str, app_factory: Any, clock: ManualClock
) -> None:
    app: App = await app_factory(database_url)
    await citizen(app, "u1", subs=((S, "roads"),))
    notice_id = await app.notices.plans.store(
        NoticeDraft(NoticeKind.INFO, "x", Audience(sectors=("roads",))), "t"
    )
    await app.notices.plans.plan(notice_id)
    await app.notices.set_progress_message(notice_id, -100123, 77)
    assert not await app.notices.finish_if_done(notice_id)
    async with app.db.session() as session:
        await session.execute(update(OutboxMessage).values(status="sent", sent_at=clock.now()))
    assert await app.notices.finish_if_done(notice_id)
    assert await app.notices.finish_if_done(notice_id)  # already done: still true
    notice = await app.notices.get(notice_id)
    assert notice is not None and notice.status == "done" and notice.finished_at == clock.now()
    assert (notice.progress_chat_id, notice.progress_message_id) == (-100123, 77)
    # Nobody chosen: done at once, nothing queued.
    empty = await app.notices.plans.store(
        NoticeDraft(NoticeKind.INFO, "x", Audience(sectors=("waste",))), "t"
    )
    assert await app.notices.plans.plan(empty) == 0
    assert (await app.notices.stats(empty)).status == "done"
    assert [n.id for n in await app.notices.recent()] == [empty, notice_id]
    # A draft with no audience or no text is refused; so is an unknown notice.
    with pytest.raises(ValueError):
        await app.notices.plans.store(NoticeDraft(NoticeKind.INFO, "x", Audience(platforms=("tg",))), "t")
    with pytest.raises(ValueError):
        await app.notices.plans.store(NoticeDraft(NoticeKind.INFO, "  ", Audience(everyone=True)), "t")
    with pytest.raises(LookupError):
        await app.notices.plans.plan(999)
    assert await app.notices.get(999) is None


def test_cli_dry_run_send_and_status(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(PROJECT_ROOT),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}",
    }

    def bot(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=60,
            check=False,
        )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return bot("notice", *args)

    # The author of a notice sent from the shell is a registry member holding comms.
    assert bot("staff", "add", "700", "--role", "comms").returncode == 0
    assert run("send", "--text", "x", "--municipality", "atlantis").returncode == 2
    assert run("send", "--text", "x").returncode == 2  # no audience
    dry = run("send", "--text", "Отключение", "--everyone", "--dry-run")
    assert dry.returncode == 0 and "recipients: 0" in dry.stdout
    sent = run(
        "send",
        "--kind",
        "outage",
        "--text",
        "Отключение",
        "--municipality",
        "ekaterinburg",
        "--author",
        "700",
    )
    assert sent.returncode == 0 and "notice 1:" in sent.stdout
    status = run("status", "1")
    assert status.returncode == 0 and "status=done" in status.stdout and "total=0" in status.stdout
    assert run("status", "99").returncode == 2


async def _seed_cli_database(url: str) -> None:
    """Two subscribers (one on VK) and one reporter, in a database the CLI has migrated."""
    db = Database(url)
    try:
        async with db.session() as session:
            rows = [
                Citizen(platform="tg", platform_user_id="11", language="ru", consent_at=START),
                Citizen(platform="vk", platform_user_id="22", language="en", consent_at=START),
                Citizen(platform="tg", platform_user_id="33", language="ru", consent_at=START),
            ]
            session.add_all(rows)
            await session.flush()
            session.add(Subscription(citizen_id=rows[0].id, scope="municipality", value="ekaterinburg"))
            session.add(Subscription(citizen_id=rows[1].id, scope="sector", value="roads"))
            body = await session.scalar(select(RoutingRule.body_id).where(RoutingRule.sector_id == "roads"))
            session.add(
                Report(
                    number="2026-000007",
                    intake_key="cli",
                    citizen_id=rows[2].id,
                    platform="tg",
                    text="яма",
                    sector_id="roads",
                    body_id=body,
                    status="routed",
                    language="ru",
                    first_reaction_due=START,
                    answer_due=START,
                )
            )
    finally:
        await db.dispose()


async def _read(url: str, model: Any) -> list[Any]:
    db = Database(url)
    try:
        async with db.session() as session:
            return list(await session.scalars(select(model)))
    finally:
        await db.dispose()


def test_cli_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("TIMEZONE", "Asia/Yekaterinburg")

    def cli(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    assert cli("migrate")[0] == 0
    asyncio.run(_seed_cli_database(url))
    assert cli("staff", "add", "700", "--role", "comms", "--name", "пресс-служба")[0] == 0
    # Wrong input: exit 2 with a reason, nothing stored.
    code, _, err = cli("notice", "send", "--text", "x", "--sector", "nonsense")
    assert code == 2 and "nonsense" in err
    # A report number is refused by its shape only: whether one exists is never told.
    code, _, err = cli("notice", "send", "--text", "x", "--report", "2026-99x")
    assert code == 2 and "2026-99x" in err
    code, out, err = cli("notice", "send", "--text", "x", "--report", "2026-999999", "--dry-run")
    assert (code, out) == (0, "recipients: 0\n") and "unknown" not in err
    code, _, err = cli("notice", "send", "--text", "x", "--platform", "vk")
    assert code == 2 and "audience" in err
    code, _, err = cli("notice", "send", "--kind", "factcheck", "--text", "x", "--everyone")
    assert code == 2 and "--claim" in err
    code, _, err = cli("notice", "send", "--text", "x", "--everyone", "--at", "tomorrow")
    assert code == 2 and "--at" in err
    assert asyncio.run(_read(url, Notice)) == []
    # Counting only.
    assert cli("notice", "send", "--text", "x", "--everyone", "--dry-run")[1] == "recipients: 2\n"
    assert cli("notice", "send", "--text", "x", "--sector", "roads", "--platform", "vk", "--dry-run")[1] == (
        "recipients: 1\n"
    )
    assert asyncio.run(_read(url, Notice)) == []
    # A scheduled fact-check for the reporter of one report.
    code, out, _ = cli(
        "notice",
        "send",
        "--kind",
        "factcheck",
        "--text",
        "Вода в норме.",
        "--claim",
        "В воде яд",
        "--source",
        "Роспотребнадзор",
        "--report",
        "2026-000007",
        "--at",
        "2030-01-02 09:30",
        "--author",
        "700",
    )
    assert code == 0 and out.endswith("notice 1: 1 recipients queued\n")
    [notice] = asyncio.run(_read(url, Notice))
    assert (notice.kind, notice.claim, notice.source, notice.author) == (
        "factcheck",
        "В воде яд",
        "Роспотребнадзор",
        "tg:700 пресс-служба",
    )
    assert notice.send_at == datetime(2030, 1, 2, 9, 30, tzinfo=EKB)
    [row] = asyncio.run(_read(url, OutboxMessage))
    assert (row.target, row.next_attempt_at) == ("33", notice.send_at)
    # Steering it.
    code, out, _ = cli("notice", "status", "1")
    assert code == 0 and "status=sending" in out and "total=1" in out and "waiting=1" in out
    assert cli("notice", "resume", "1")[0] == 2  # not paused
    assert cli("notice", "pause", "1")[:2] == (0, "notice 1: paused\n")
    assert "paused=1" in cli("notice", "status", "1")[1]
    assert cli("notice", "resume", "1")[0] == 0
    assert cli("notice", "cancel", "1")[0] == 0
    assert "status=cancelled" in cli("notice", "status", "1")[1]
    assert cli("notice", "cancel", "1")[0] == 2
    assert cli("notice", "pause", "42")[0] == 2
    assert cli("notice", "list")[1].startswith("1\tcancelled\tfactcheck\t1\t")
    # A comms chat, bound from the command line (twice is fine).
    assert cli("comms", "-1001234")[0] == 0
    assert cli("comms", "-1001234")[0] == 0
    [chat] = asyncio.run(_read(url, CommsChat))
    assert (chat.chat_id, chat.bound_by) == (-1001234, "cli")


async def queue_answer(app: App, key: str, target: str) -> None:
    """A conversation message (a status change of a report) queued for a Telegram citizen."""
    async with app.db.session() as session:
        await enqueue(
            session,
            key=key,
            platform="tg",
            kind=Kind.CITIZEN,
            target=target,
            payload=envelope([View.of("notify-status", number="1")], "ru"),
            now=app.services.clock.now(),
        )


class Recorder:
    """A messenger that records what it was asked to deliver."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    async def deliver(self, delivery: Delivery) -> Outcome:
        self.keys.append(delivery.key)
        return Sent()


async def test_conversation_messages_overtake_a_notice_in_progress(
    database_url: str, app_factory: Any
) -> None:
    # An operator's answer written while 30 notice rows wait must go out in the next pass, not
    # after the whole notice (with 100,000 recipients that would be the better part of an hour).
    app: App = await app_factory(database_url)
    for index in range(30):
        await citizen(app, f"n{index}", subs=((M, "*"),))
    notice_id = await app.notices.plans.store(
        NoticeDraft(NoticeKind.EMERGENCY, "Штормовое предупреждение", Audience(everyone=True)), "test"
    )
    assert await app.notices.plans.plan(notice_id) == 30
    await citizen(app, "asker")
    await queue_answer(app, "answer:1", "asker")
    recorder = Recorder()
    worker = app.outbox_worker({"tg": recorder}, batch=10, concurrency=1)
    await worker.run_once()
    assert recorder.keys[0] == "answer:1" and len(recorder.keys) == 10
    while await worker.run_once():
        pass
    assert len(recorder.keys) == 31 and len(set(recorder.keys)) == 31


async def test_a_forgotten_citizen_gets_nothing_more_and_leaves_no_address(
    database_url: str, app_factory: Any
) -> None:
    app: App = await app_factory(database_url)
    leaving = await citizen(app, "leaving", subs=((M, "*"),))
    await citizen(app, "staying", subs=((M, "*"),))
    first = await app.notices.plans.store(
        NoticeDraft(NoticeKind.INFO, "Первое", Audience(everyone=True)), "test"
    )
    await app.notices.plans.plan(first)
    recorder = Recorder()
    worker = app.outbox_worker({"tg": recorder})
    await worker.run_once()
    second = await app.notices.plans.store(
        NoticeDraft(NoticeKind.INFO, "Второе", Audience(everyone=True)), "t"
    )
    await app.notices.plans.plan(second)
    await queue_answer(app, "answer:leaving", "leaving")

    await app.services.citizens.forget(leaving)
    recorder.keys.clear()
    while await worker.run_once():
        pass
    assert recorder.keys == [f"notice:{second}:{leaving + 1}"]
    async with app.db.session() as session:
        targets = set(await session.scalars(select(OutboxMessage.target)))
    assert "leaving" not in targets and "forgotten" in targets
    # The first notice still counts its delivery to the citizen who left.
    assert (await app.notices.stats(first)).sent == 2
