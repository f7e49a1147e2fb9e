"""Drivers for repeated-report transcripts: a citizen filing at a typed address up to the point
where the bot either offers the same problem or asks for a phone."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiogram import Bot

from bot.app.telegram import build_bot, build_delivery, build_dispatcher
from bot.app.wiring import App
from bot.delivery.worker import OutboxWorker
from bot.sandbox.telegram import FakeChat, FakeTelegramServer, FakeUser
from bot.services.chats import bind_chat
from bot.services.staff.roles import Principal
from handlers.telegram.callbacks import callback_signer
from tests.harness.chat import Chat, Screen
from tests.harness.telegram import running

OPS_CHAT = -100_11
TSUR_CHAT = -100_12


async def bind_operator_chats(app: App, sector: str = "housing", municipality: str = "ekaterinburg") -> str:
    """Bind the responsible body's chat and the ЦУР chat; returns the body id."""
    body = app.services.catalog.route(sector, municipality)
    await bind_chat(app.db, body, OPS_CHAT, "tg:1")
    await bind_chat(app.db, "tsur", TSUR_CHAT, "tg:1")
    return body


async def describe_at(chat: Chat, text: str, address: str, sector_label: str = "ЖКХ") -> list[Screen]:
    """/report, the text, no photo, a typed address, the sector picked from all topics."""
    await chat.say("/report")
    await chat.say(text)
    await chat.press("Без фото")
    await chat.say(address)
    await chat.press("Все темы")
    return await chat.press(sector_label)


async def finish(chat: Chat) -> str:
    """Skip the phone and confirm; returns the new report's number."""
    await chat.press("Пропустить")
    await chat.press("Отправить")
    found = re.search(r"№ (\d\d-\d+)", chat.text())
    assert found, chat.text()
    return found.group(1)


async def crowd(
    app: App, lead_id: int, count: int, *, platform: str = "tg", first_user: int = 5000
) -> list[int]:
    """`count` consenting citizens join report `lead_id` straight through the incident desk;
    returns their user ids."""
    from bot.services.reports.filing import ReportDraft

    desk = app.services.incidents
    assert desk is not None
    users = []
    for n in range(count):
        user_id = first_user + n
        citizen = await app.services.citizens.give_consent(platform, str(user_id), "ru")
        draft = ReportDraft(
            intake_key=f"crowd-{platform}-{user_id}",
            platform=platform,
            citizen_id=citizen.id,
            language="ru",
            text="Не горят фонари на улице Ленина, темно",
            municipality_id="ekaterinburg",
            sector_id="housing",
        )
        assert await desk.join(draft, lead_id) is not None
        users.append(user_id)
    return users


@dataclass
class OperatorSide:
    """A body's forum chat on the local Bot API server, bound, with a registered admin in it."""

    tg: FakeTelegramServer
    bot: Bot
    worker: OutboxWorker
    ops: FakeChat
    admin: FakeUser
    body_id: str


@contextlib.asynccontextmanager
async def operator_side(
    app: App,
    tg: FakeTelegramServer,
    sector: str = "housing",
    *,
    citizen_rates: bool = False,
    members: tuple[FakeUser, ...] = (),
) -> AsyncIterator[OperatorSide]:
    """Our Telegram wiring polling the local server, the sector's body chat bound by Ольга (a
    registered admin); rates lifted unless `citizen_rates` (then citizens at Telegram's own)."""
    bot = build_bot(tg.token, tg.base_url)
    signer = callback_signer(tg.token)
    dispatcher = build_dispatcher(app, signer=signer)
    rates = {} if citizen_rates else {"global_rate": 1000.0, "chat_rate": 1000.0}
    worker = build_delivery(app, bot, signer, group_rate=1000.0, **rates)
    body_id = app.services.catalog.route(sector, "ekaterinburg")
    ops = tg.group(-100_500, "Операторы", is_forum=True)
    admin = tg.user(900, first_name="Ольга")
    for person in (admin, *members):
        ops.add_member(person, "administrator")
    await app.staff.add(Principal.shell(), "900", "admin")
    async with running(tg, app, dispatcher, bot, worker):
        await ops.send_text(admin, f"/bind {body_id}")
        await ops.replies()
        yield OperatorSide(tg, bot, worker, ops, admin, body_id)
    await bot.session.close()


async def answered(tg: FakeTelegramServer, text: str) -> None:
    """Wait until the bot answered a button press with `text` (handled by the polling task)."""
    await tg.wait_for(lambda c: c.method == "answerCallbackQuery" and text in str(c.params.get("text")))
