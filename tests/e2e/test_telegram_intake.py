"""Telegram specifics end to end (albums, keyboards, restarts, webhook), through the real aiogram code.

The citizen transcripts shared with VK are in test_citizen_transcripts.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiohttp import web
from sqlalchemy import func, select

from bot.app.telegram import build_bot, build_delivery, build_dispatcher
from bot.app.wiring import App
from bot.sandbox.telegram import FakeTelegramServer, FakeUser
from handlers.telegram.callbacks import callback_signer
from handlers.telegram.inbound import TelegramUpdates
from handlers.telegram.webhook import webhook_mount
from storage.models import Citizen, Report, StatusChange
from tests.harness.pipeline import eventually, processing
from tests.harness.telegram import deliver_all, running

HEATING = (
    "Добрый день! В доме по улице Малышева, 30 уже неделю нет горячей воды и отопления, "
    "батареи холодные. УК не отвечает. Просим принять меры."
)
EKB = (56.8389, 60.6057)


@dataclass
class Harness:
    server: FakeTelegramServer
    app: App
    bot: Bot
    dispatcher: Dispatcher


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as fake:
        yield fake


async def start(server: FakeTelegramServer, app: App) -> Harness:
    # Our own wiring (TELEGRAM_API_URL → TelegramAPIServer), not a test-only session.
    bot = build_bot(server.token, server.base_url)
    dispatcher = build_dispatcher(app, signer=callback_signer(server.token))
    return Harness(server, app, bot, dispatcher)


async def reply_texts(user: FakeUser) -> str:
    return "\n---\n".join(m.text or "" for m in await user.replies())


async def go_to_location_step(user: FakeUser) -> None:
    await user.send_command("/start")
    assert "персональных данных" in await reply_texts(user)
    await user.press("✅ Согласен(на)")
    assert "Главное меню" in await reply_texts(user)
    await user.press("📝 Сообщить о проблеме")
    assert "Опишите проблему" in await reply_texts(user)
    await user.send_text(HEATING)
    assert "Приложите фото" in await reply_texts(user)


async def test_full_intake_over_telegram(
    server: FakeTelegramServer, database_url: str, app_factory: Any
) -> None:
    app: App = await app_factory(database_url)
    h = await start(server, app)
    user = server.user(501, first_name="Анна")
    async with running(server, h.app, h.dispatcher, h.bot):
        await go_to_location_step(user)
        await user.send_album(2)
        album_replies = await user.replies()
        # Two photo updates, one dialog step: one answer.
        assert len(album_replies) == 1
        assert "Сейчас приложено: 2" in (album_replies[0].text or "")
        await user.press("➡️ Далее")
        await user.replies()
        assert "📍 Отправить геопозицию" in user.reply_buttons()
        await user.tap_reply_button("📍 Отправить геопозицию", lat=EKB[0], lon=EKB[1])
        text = await reply_texts(user)
        assert "Место: Екатеринбург" in text and "Похоже, это: ЖКХ" in text
        assert user.reply_buttons() == []  # the location keyboard was removed
        await user.press("ЖКХ", contains=True)
        await user.replies()
        await user.tap_reply_button("📱 Поделиться номером", phone="+79120000001")
        summary = await reply_texts(user)
        assert "Проверьте обращение" in summary and "Фото: 2" in summary
        await user.press("✅ Отправить")
        final = await reply_texts(user)
    assert "принято" in final
    async with app.db.session() as session:
        report = await session.scalar(select(Report))
        assert report is not None
        changes = list(await session.scalars(select(StatusChange).where(StatusChange.report_id == report.id)))
    assert report.number is not None and report.number in final
    assert report.sector_id == "housing" and report.municipality_id == "ekaterinburg"
    assert report.body_id == app.services.catalog.route("housing", "ekaterinburg")
    assert len(report.photos) == 2 and all(p.startswith("AgAC") for p in report.photos)
    assert report.phone == "+79120000001"
    assert report.first_reaction_due and report.answer_due > report.first_reaction_due
    assert [c.to_status for c in changes] == ["new", "routed"]
    # Every button press got its spinner stopped.
    assert server.unanswered_callbacks() == []


async def test_restart_midway_over_telegram(
    server: FakeTelegramServer, database_url: str, app_factory: Any
) -> None:
    app: App = await app_factory(database_url)
    h = await start(server, app)
    user = server.user(504)
    async with running(server, h.app, h.dispatcher, h.bot):
        await go_to_location_step(user)
        await user.press("➡️ Без фото")
        await user.replies()
    await app.close()
    # A new process: new App (SQL dialog state), new Bot and Dispatcher.
    app2: App = await app_factory(database_url)
    h2 = await start(server, app2)
    async with running(server, h2.app, h2.dispatcher, h2.bot):
        await user.tap_reply_button("📍 Отправить геопозицию", lat=EKB[0], lon=EKB[1])
        assert "Похоже, это" in await reply_texts(user)
        await user.press("ЖКХ", contains=True)
        await user.replies()
        await user.tap_reply_button("Пропустить")
        await user.replies()
        await user.press("✅ Отправить")
        assert "принято" in await reply_texts(user)
    async with app2.db.session() as session:
        report = await session.scalar(select(Report))
    assert report is not None and report.text == HEATING


async def test_bad_input_over_telegram(server: FakeTelegramServer, sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url, flood_limit=8, flood_window_seconds=2.0)
    h = await start(server, app)
    user = server.user(506)
    async with running(server, h.app, h.dispatcher, h.bot):
        await user.send_command("/start")
        await user.replies()
        await user.press("✅ Согласен(на)")
        await user.replies()
        await user.press("📝 Сообщить о проблеме")
        await user.replies()
        await user.send_sticker()
        assert "Стикер" in await reply_texts(user)
        await user.send_voice()
        assert "Голосовые" in await reply_texts(user)
        await user.send_text("/whatever")
        assert "неизвестна" in await reply_texts(user)
        # A forged callback for a step the citizen is not on.
        await user.press_data("i.summary:confirm")
        assert "неактуальна" in await reply_texts(user)
        # Arbitrary bytes too (and an unknown message): answered, nothing breaks.
        await user.press_data("💣" * 10, message_id=999_999)
        await user.replies()
        await asyncio.sleep(2.1)  # a fresh flood window
        long_text = ("Течёт крыша над подъездом, вода льётся по стенам до первого этажа. " * 200)[:10_000]
        await user.send_text(long_text)
        assert "Приложите фото" in await reply_texts(user)
        await asyncio.sleep(2.1)
        # Ten messages in one second: the first few are handled, one warning, then quiet.
        for index in range(10):
            await user.send_text(f"дополнение номер {index}")
        await asyncio.sleep(1.0)
        replies = await user.replies()
        texts = [m.text or "" for m in user.messages()]
        assert sum("слишком быстро" in t for t in texts) == 1
        assert len(replies) >= 1
    async with app.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 0
        assert await session.scalar(select(func.count()).select_from(Citizen)) == 1
    assert server.unanswered_callbacks() == []
    # No message the bot sent broke Telegram's limits (the fake refuses those with 400).
    assert not [c for c in server.calls if c.method == "sendMessage" and c.ok is False]


async def test_webhook_checks_secret_and_ignores_repeats(
    server: FakeTelegramServer, sqlite_url: str, app_factory: Any, unused_tcp_port: int
) -> None:
    from bot.app.web import build_web_app

    app: App = await app_factory(sqlite_url, webhook_secret="s3cret-token")
    bot = build_bot(server.token, server.base_url)
    dispatcher = build_dispatcher(app, signer=callback_signer(server.token))
    delivery = build_delivery(app, bot, dispatcher["signer"], global_rate=1000.0, chat_rate=1000.0)
    pipeline = processing(app, {"tg": TelegramUpdates(dispatcher, bot)}, [delivery])
    inbound = await pipeline.__aenter__()
    mount = webhook_mount(app.inbound, app.settings.webhook_path, "s3cret-token", inbound.wake)
    runner = web.AppRunner(build_web_app(app, mounts=[mount]))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    url = f"http://127.0.0.1:{unused_tcp_port}{app.settings.webhook_path}"
    try:
        user = server.user(507)
        update = {
            "update_id": 777,
            "message": {
                "message_id": 1,
                "date": 1_700_000_000,
                "chat": {"id": 507, "type": "private", "first_name": "Иван"},
                "from": {"id": 507, "is_bot": False, "first_name": "Иван", "language_code": "ru"},
                "text": "/help",
                "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            },
        }

        def sent() -> list[Any]:
            return [c for c in server.calls if c.method == "sendMessage" and c.params.get("chat_id") == 507]

        assert await server.post_webhook(url, update, "wrong") == 403
        assert await app.inbound.status_of("tg:777") is None
        assert await server.post_webhook(url, update, "s3cret-token") == 200
        await eventually(lambda: len(sent()) >= 1)
        assert await app.inbound.status_of("tg:777") == "done"
        once = len(sent())
        assert once >= 1 and "/report" in sent()[0].params["text"]
        # Telegram redelivers the same update: it is not queued, nor answered, again.
        assert await server.post_webhook(url, update, "s3cret-token") == 200
        assert await app.inbound.backlog() == 0
        await inbound.run_once()
        await deliver_all(delivery)
        assert len(sent()) == once
        assert user.messages()
        async with app.db.session() as session:
            assert await session.scalar(select(func.count()).select_from(Citizen)) == 0
    finally:
        await runner.cleanup()
        await pipeline.__aexit__(None, None, None)
        await bot.session.close()
