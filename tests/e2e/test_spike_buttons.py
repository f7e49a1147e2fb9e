"""The spike alert's buttons through real aiogram and the local Bot API server: the alert reaches the
ЦУР chat with signed buttons; a chat member outside the staff registry (even a chat admin) is refused
in an alert and nothing changes; a ЦУР operator's «Игнорировать» marks it ignored, audited."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.app.wiring import App
from bot.core.clock import ManualClock
from bot.sandbox.telegram import ApiCall, FakeChat, FakeTelegramServer, FakeUser
from bot.services.chats import TSUR_BODY, bind_chat
from bot.services.incidents.spike_watch import SpikeWatch
from bot.services.reports.filing import ReportDraft
from bot.services.staff.audit import AuditQuery, audit_events
from bot.services.staff.roles import Principal
from handlers.telegram.spike_alerts import spike_button_signer
from storage.models import SpikeAlert
from tests.harness.telegram import deliver_all, running, wire_on_clock

EKB = ZoneInfo("Asia/Yekaterinburg")
IGNORE = "Игнорировать"


async def press(server: FakeTelegramServer, chat: FakeChat, user: FakeUser, label: str) -> ApiCall:
    since = len(server.calls)
    await chat.press(user, label)
    return await server.wait_for(lambda c: c.method == "answerCallbackQuery", since=since)


async def never_called(report_ids: list[int], actor_label: str) -> int:
    raise AssertionError("no incident is opened in this test")


async def state(app: App, wanted: str = "open") -> str:
    """The alert's state, waited for a moment: the press is committed after its handler returns."""
    current = ""
    for _ in range(100):
        async with app.db.session() as session:
            current = str(await session.scalar(select(SpikeAlert.state)))
        if current == wanted:
            break
        await asyncio.sleep(0.05)
    return current


async def test_only_registered_tsur_operators_press_spike_buttons(
    database_url: str, app_factory: Any, clock: ManualClock
) -> None:
    async with FakeTelegramServer() as server:
        app: App = await app_factory(database_url)
        bot, signer, dispatcher, worker = wire_on_clock(server, app)
        watch = SpikeWatch(
            app.db,
            app.services.catalog,
            clock,
            app.staff,
            sign=spike_button_signer(signer),
            open_incident=never_called,
            timezone=EKB,
        )
        dispatcher["spike_watch"] = watch
        tsur = server.group(-100_900, "ЦУР", is_forum=True)
        await bind_chat(app.db, TSUR_BODY, tsur.id, "cli")
        admin, olga = server.user(930, first_name="Админ чата"), server.user(931, first_name="Ольга")
        tsur.add_member(admin, "administrator")
        tsur.add_member(olga)
        await app.staff.add(Principal.shell(), str(olga.id), "operator", TSUR_BODY, name="Ольга")
        for index in range(6):
            citizen = await app.services.citizens.give_consent("tg", str(7000 + index), "ru")
            await app.services.reports.file(
                ReportDraft(
                    intake_key=f"e2e-spike-{index}",
                    platform="tg",
                    citizen_id=citizen.id,
                    language="ru",
                    text="Нет света на улице Ленина",
                    sector_id="energy",
                    municipality_id="alapaevsk",
                )
            )
            clock.advance(timedelta(minutes=1))
        async with running(server, app, dispatcher, bot, worker, continuous=False):
            assert len(await watch.tick()) == 1
            await deliver_all(worker)
            alert = next(m for m in tsur.messages() if IGNORE in m.inline_buttons)
            assert "Всплеск" in (alert.text or "")
            assert alert.inline_buttons == ["Создать инцидент", "Уведомить жителей", IGNORE]

            refused = await press(server, tsur, admin, IGNORE)
            assert refused.params.get("show_alert") in (True, "true")
            assert "только операторы" in str(refused.params.get("text"))
            assert await state(app) == "open"

            done = await press(server, tsur, olga, IGNORE)
            assert "ложный" in str(done.params.get("text"))
            assert await state(app, "ignored") == "ignored"
        [audit] = await audit_events(app.db, AuditQuery(action="report_action", actor=f"tg:{olga.id}"))
        assert audit.detail["action"] == "spike_ignored"
        assert [e.actor for e in await audit_events(app.db, AuditQuery(action="refused"))] == [
            f"tg:{admin.id}"
        ]
