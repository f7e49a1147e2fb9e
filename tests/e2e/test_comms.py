"""The comms team's chat through the real aiogram code and a local Bot API server: a member composes a
notice, sees it exactly as citizens will, sends it; the outbox delivers it and one message in the chat
shows the progress, with pause, resume and cancel."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.app.wiring import App
from bot.delivery.worker import OutboxWorker
from bot.sandbox.telegram import FakeTelegramServer, FakeUser
from handlers.telegram.comms_progress import NoticeProgress
from storage.models import Citizen, Notice, Subscription
from tests.harness.comms import (
    WATER,
    bind,
    comms_chat,
    compose_info,
    joined,
    press,
    progress_message,
    push_press,
    say,
    settled,
    staff_roles,
)
from tests.harness.telegram import deliver_all, running, wire

CLAIM = "В Екатеринбурге с понедельника отменяют все автобусы."
FACTS = "Автобусы ходят по обычному расписанию, изменений маршрутной сети не планируется."
SOURCE = "Департамент транспорта, ekburg.ru"
STORM = "Штормовое предупреждение: порывы ветра до 25 м/с."


async def seed_citizens(
    app: App,
    server: FakeTelegramServer,
    users: range,
    municipality: str = "ekaterinburg",
    quiet: tuple[int, int] | None = None,
    language: str = "ru",
) -> list[FakeUser]:
    """Telegram citizens subscribed to one municipality (no quiet hours unless given)."""
    now = app.services.clock.now()
    async with app.db.session() as session:
        for uid in users:
            citizen = Citizen(
                platform="tg",
                platform_user_id=str(uid),
                language=language,
                consent_at=now,
                quiet_from=quiet[0] if quiet else None,
                quiet_to=quiet[1] if quiet else None,
            )
            session.add(citizen)
            await session.flush()
            session.add(Subscription(citizen_id=citizen.id, scope="municipality", value=municipality))
    return [server.user(uid) for uid in users]


def partial_worker(app: App, worker: OutboxWorker, batch: int) -> OutboxWorker:
    """The same messenger, a few rows a pass: a notice caught halfway."""
    return app.outbox_worker({"tg": worker.messenger("tg")}, batch=batch)


async def test_compose_preview_send_and_progress(database_url: str, app_factory: Any) -> None:
    async with FakeTelegramServer() as server:
        app: App = await app_factory(database_url)
        bot, _signer, dispatcher, worker = wire(server, app)
        citizens = await seed_citizens(app, server, range(5001, 5004))
        blocked = (await seed_citizens(app, server, range(5004, 5005)))[0]
        blocked.block()
        elsewhere = (await seed_citizens(app, server, range(5005, 5006), municipality="nizhny-tagil"))[0]
        chat, admin, member = comms_chat(server)
        await staff_roles(app)
        async with running(server, app, dispatcher, bot, worker, continuous=False):
            await bind(chat, admin)
            preview = await compose_info(chat, member, WATER, "Екатеринбург")
            shown = [m for m in preview if (m.text or "").startswith("ℹ️ Информация ЦУР")]
            assert len(shown) == 1 and WATER in (shown[0].text or "")
            summary = preview[-1]
            assert "Получателей: 4" in (summary.text or "")
            assert summary.inline_buttons == ["✅ Отправить", "✏️ Изменить", "✖️ Отмена"]
            # The citizen's unsubscribe button is shown, inert: it only explains itself.
            assert shown[0].inline_buttons == ["🔕 Отписаться"]
            await press(chat, member, "🔕 Отписаться", "предпросмотр")

            sent = await press(chat, member, "✅ Отправить", "📣 Информирование №")
            assert any("Отправка начата" in (m.text or "") for m in sent)
            progress = progress_message(chat)
            assert "Получателей: 4" in (progress.text or "") and "Ожидают: 4" in (progress.text or "")
            assert progress.inline_buttons == ["⏸ Пауза", "⛔ Отменить"]
            assert await deliver_all(worker) == 4
            ticker = NoticeProgress(bot, app.notices, app.services.translator)
            assert await ticker.tick() == 1
            final = progress_message(chat)
            assert final.message_id == progress.message_id
            text = final.text or ""
            assert "завершено" in text and "Доставлено: 3" in text, text
            assert "Недоступны (заблокировали бота или удалили чат): 1" in text
            assert final.inline_buttons == []
            assert await ticker.tick() == 0
            # Not composing: an ordinary message in the chat is left alone.
            await chat.send_text(member, "просто сообщение в чате")
            assert await chat.replies(timeout=1.0) == []

        for citizen in citizens:
            [received] = citizen.messages()
            assert received.text == shown[0].text
            assert received.inline_buttons == shown[0].inline_buttons
        assert elsewhere.messages() == [] and blocked.messages() == []
        async with app.db.session() as session:
            notice = await session.scalar(select(Notice))
        assert notice is not None and notice.status == "done" and notice.recipients == 4
        assert notice.author.startswith("tg:701")
        await bot.session.close()


async def test_preview_shows_each_language_its_recipients_read(sqlite_url: str, app_factory: Any) -> None:
    async with FakeTelegramServer() as server:
        app: App = await app_factory(sqlite_url)
        bot, _signer, dispatcher, worker = wire(server, app)
        [russian] = await seed_citizens(app, server, range(5101, 5102))
        english = await seed_citizens(app, server, range(5102, 5104), language="en")
        chat, admin, member = comms_chat(server)
        await staff_roles(app)
        async with running(server, app, dispatcher, bot, worker, continuous=False):
            await bind(chat, admin)
            preview = await compose_info(chat, member, WATER, "Екатеринбург")
            texts = [m.text or "" for m in preview]
            assert "Получателей: 3" in texts[-1]
            [label] = [text for text in texts if "на языке «английский»" in text]
            assert "получателей: 2" in label
            [shown_en] = [m for m in preview if (m.text or "").startswith("ℹ️ Information from")]
            assert WATER in (shown_en.text or "") and shown_en.inline_buttons == ["🔕 Unsubscribe"]
            await press(chat, member, "✅ Отправить", "📣 Информирование №")
            assert await deliver_all(worker) == 3
        for citizen in english:
            [received] = citizen.messages()
            assert received.text == shown_en.text and received.inline_buttons == shown_en.inline_buttons
        [received_ru] = russian.messages()
        assert (received_ru.text or "").startswith("ℹ️ Информация ЦУР")
        await bot.session.close()


async def test_fact_check_with_photo_keeps_its_layout(sqlite_url: str, app_factory: Any) -> None:
    async with FakeTelegramServer() as server:
        app: App = await app_factory(sqlite_url)
        bot, _signer, dispatcher, worker = wire(server, app)
        [citizen] = await seed_citizens(app, server, range(5101, 5102))
        chat, admin, member = comms_chat(server)
        await staff_roles(app)
        async with running(server, app, dispatcher, bot, worker, continuous=False):
            await bind(chat, admin)
            await say(chat, member, "/notice", "Выберите тип")
            await press(chat, member, "🔎 Проверка фактов", "утверждение")
            await say(chat, member, CLAIM, "факты")
            # The facts arrive as a photo with a caption: text and photo at once.
            start = len(server.calls)
            await chat.send_photo(member, "AgACFactPhoto1", caption=FACTS, size=120_000)
            await settled(chat, start, "источник")
            await say(chat, member, SOURCE, "Кому отправить")
            # Several filters together: every subscriber, in Telegram only.
            await press(chat, member, "👥 Все подписчики", "все подписчики")
            await press(chat, member, "💬 Мессенджер", "Выберите мессенджер")
            menu = joined(await press(chat, member, "Telegram", "мессенджер: Telegram"))
            assert "все подписчики" in menu
            await press(chat, member, "⬅️ Назад", "Кому отправить")
            preview = await press(chat, member, "✅ Готово", "Получателей")
            photos = [m for m in preview if m.photos]
            assert [m.photos for m in photos] == [["AgACFactPhoto1"]]
            [card] = [m for m in preview if (m.text or "").startswith("🔎 Проверка фактов")]
            text = card.text or ""
            assert text.index(CLAIM) < text.index("✅ Факты:") < text.index(FACTS) < text.index(SOURCE)
            assert "❌ Утверждение, которое распространяется:" in text
            assert f"📎 Источник: {SOURCE}" in text
            assert "Получателей: 1" in (preview[-1].text or "")
            # To every subscriber: a second person approves before it goes out.
            await press(chat, member, "✅ Отправить", "ждёт одобрения")
            await press(chat, admin, "✅ Одобрить", "📣 Информирование №")
            assert await deliver_all(worker) == 1
        received = citizen.messages()
        assert [m.photos for m in received if m.photos] == [["AgACFactPhoto1"]]
        assert [m.text for m in received if not m.photos] == [card.text]
        await bot.session.close()


async def test_pause_holds_the_rest_and_resume_sends_it(sqlite_url: str, app_factory: Any) -> None:
    async with FakeTelegramServer() as server:
        app: App = await app_factory(sqlite_url)
        bot, _signer, dispatcher, worker = wire(server, app)
        citizens = await seed_citizens(app, server, range(5201, 5206))
        chat, admin, member = comms_chat(server)
        await staff_roles(app)
        ticker = NoticeProgress(bot, app.notices, app.services.translator)
        async with running(server, app, dispatcher, bot, worker, continuous=False):
            await bind(chat, admin)
            await compose_info(chat, member, WATER, "ekaterinburg")
            await press(chat, member, "✅ Отправить", "📣 Информирование №")
            assert await partial_worker(app, worker, 2).run_once() == 2
            assert await ticker.tick() == 1
            text = progress_message(chat).text or ""
            assert "Отправлено: 2" in text and "Ожидают: 3" in text and "отправляется" in text

            # The press shows the new state at once, without waiting for a tick.
            pause = progress_message(chat).callback_data("⏸ Пауза")
            assert pause is not None
            await press(chat, member, "⏸ Пауза", "На паузе: 3")
            paused = progress_message(chat)
            assert "на паузе" in (paused.text or "") and "На паузе: 3" in (paused.text or "")
            assert paused.inline_buttons == ["▶️ Продолжить", "⛔ Отменить"]
            assert await deliver_all(worker) == 0
            assert sum(len(c.messages()) for c in citizens) == 2
            await ticker.tick()
            assert progress_message(chat).inline_buttons == ["▶️ Продолжить", "⛔ Отменить"]
            # A second pause (an old button) of a paused notice is refused politely.
            assert "уже на паузе" in await push_press(server, chat, member, pause)
            await press(chat, member, "▶️ Продолжить", "отправляется")
            assert progress_message(chat).inline_buttons == ["⏸ Пауза", "⛔ Отменить"]

            assert await deliver_all(worker) == 3
            await ticker.tick()
            final = progress_message(chat)
            assert "завершено" in (final.text or "") and "Доставлено: 5" in (final.text or "")
            assert final.inline_buttons == []
        assert [len(c.messages()) for c in citizens] == [1] * 5
        await bot.session.close()


async def test_cancel_stops_what_is_not_sent(sqlite_url: str, app_factory: Any) -> None:
    async with FakeTelegramServer() as server:
        app: App = await app_factory(sqlite_url)
        bot, _signer, dispatcher, worker = wire(server, app)
        citizens = await seed_citizens(app, server, range(5301, 5305))
        chat, admin, member = comms_chat(server)
        await staff_roles(app)
        ticker = NoticeProgress(bot, app.notices, app.services.translator)
        async with running(server, app, dispatcher, bot, worker, continuous=False):
            await bind(chat, admin)
            await compose_info(chat, member, "Черновик с опечаткой", "Екатеринбург")
            # Edit before sending: a new text, and the audience narrowed to Telegram.
            await press(chat, member, "✏️ Изменить", "Что изменить")
            await press(chat, member, "📝 Тип и текст", "Выберите тип")
            await press(chat, member, "⚠️ Плановое отключение", "Напишите текст")
            await say(chat, member, WATER, "муниципалитеты: Екатеринбург")
            await press(chat, member, "💬 Мессенджер", "Выберите мессенджер")
            await press(chat, member, "Telegram", "мессенджер: Telegram")
            await press(chat, member, "⬅️ Назад", "Кому отправить")
            preview = await press(chat, member, "✅ Готово", "Получателей")
            assert [m.text for m in preview if WATER in (m.text or "")] == [f"⚠️ Плановое отключение\n{WATER}"]
            assert "Получателей: 4" in (preview[-1].text or "")
            await press(chat, member, "✅ Отправить", "📣 Информирование №")
            assert await partial_worker(app, worker, 2).run_once() == 2
            await press(chat, member, "⛔ Отменить", "Точно отменить")
            asked = progress_message(chat)
            assert asked.inline_buttons == ["⛔ Да, отменить рассылку", "↩️ Не отменять"]
            await press(chat, member, "↩️ Не отменять", "отправляется")
            assert progress_message(chat).inline_buttons == ["⏸ Пауза", "⛔ Отменить"]
            await press(chat, member, "⛔ Отменить", "Точно отменить")
            await press(chat, member, "⛔ Да, отменить рассылку", "отменено")
            final = progress_message(chat)
            text = final.text or ""
            assert "отменено" in text and "Доставлено до отмены: 2" in text and "Не отправлено: 2" in text
            assert final.inline_buttons == []
            assert await deliver_all(worker) == 0
            assert await ticker.tick() == 0
        assert sum(len(c.messages()) for c in citizens) == 2
        async with app.db.session() as session:
            notice = await session.scalar(select(Notice))
        assert notice is not None and notice.status == "cancelled"
        await bot.session.close()


async def test_emergency_ignores_quiet_hours_info_waits(sqlite_url: str, app_factory: Any) -> None:
    async with FakeTelegramServer() as server:
        app: App = await app_factory(sqlite_url)
        bot, _signer, dispatcher, worker = wire(server, app)
        # 10:00 in Yekaterinburg: inside quiet hours 0–23.
        [citizen] = await seed_citizens(app, server, range(5401, 5402), quiet=(0, 23))
        chat, admin, member = comms_chat(server)
        await staff_roles(app)
        ticker = NoticeProgress(bot, app.notices, app.services.translator)
        async with running(server, app, dispatcher, bot, worker, continuous=False):
            await bind(chat, admin)
            await say(chat, member, "/notice", "Выберите тип")
            await press(chat, member, "🚨 Экстренное", "Напишите текст")
            await say(chat, member, STORM, "Кому отправить")
            await press(chat, member, "👥 Все подписчики", "все подписчики")
            preview = await press(chat, member, "✅ Готово", "Получателей")
            assert "сразу" in (preview[-1].text or "")
            # To every subscriber: a second person approves before it goes out.
            await press(chat, member, "✅ Отправить", "ждёт одобрения")
            await press(chat, admin, "✅ Одобрить", "📣 Информирование №")
            assert await deliver_all(worker) == 1
            await ticker.tick()
            assert "завершено" in (progress_message(chat).text or "")

            preview = await compose_info(chat, member, WATER, "Екатеринбург")
            assert "тихие часы" in (preview[-1].text or "")
            await press(chat, member, "✅ Отправить", "📣 Информирование №")
            assert await deliver_all(worker) == 0
            await ticker.tick()
            waiting = progress_message(chat)
            assert "Ожидают: 1" in (waiting.text or "") and waiting.inline_buttons == [
                "⏸ Пауза",
                "⛔ Отменить",
            ]
        assert [(m.text or "").split("\n")[0] for m in citizen.messages()] == ["🚨 Экстренное сообщение"]
        await bot.session.close()


async def test_refusals_forged_foreign_and_non_admin(sqlite_url: str, app_factory: Any) -> None:
    async with FakeTelegramServer() as server:
        app: App = await app_factory(sqlite_url)
        bot, signer, dispatcher, _worker = wire(server, app)
        await seed_citizens(app, server, range(5501, 5503))
        chat, admin, member = comms_chat(server)
        await staff_roles(app)
        other, other_admin, _ = comms_chat(server, -100_901)
        other.add_member(other_admin, "administrator")
        stranger = server.user(702, first_name="Вера")
        chat.add_member(stranger, "member")
        async with running(server, app, dispatcher, bot, _worker, continuous=False):
            # A member who is not an administrator cannot make the chat a comms chat.
            await say(chat, member, "/comms", "только администратор")
            await say(chat, member, "/notice", "не чат информирования")
            await bind(chat, admin)
            await bind(other, other_admin)

            # Another member cannot press a button of someone's draft; /cancel drops one's own.
            await say(chat, member, "/notice", "Выберите тип")
            await press(chat, stranger, "ℹ️ Информация", "другого черновика")
            await say(chat, member, "/cancel", "Черновик удалён")
            await press(chat, member, "ℹ️ Информация", "другого черновика")

            await compose_info(chat, member, WATER, "Екатеринбург")
            await press(chat, member, "✅ Отправить", "📣 Информирование №")
            progress = progress_message(chat)
            pause = progress.callback_data("⏸ Пауза")
            assert pause is not None and len(pause.encode()) <= 64
            # The same button pressed in another comms chat, and made-up data, are refused.
            answer = await push_press(server, other, other_admin, pause)
            assert "недействительна" in answer
            forged = pause.rsplit(":", 1)[0] + ":AAAAAAAAAAA"
            assert "недействительна" in await push_press(server, chat, member, forged)
            kill = pause.replace("n-pause", "n-kill")
            assert "недействительна" in await push_press(server, chat, member, kill)
            # An operator button signed for this chat, relabelled as a comms one, is refused too.
            relabelled = signer.sign("n-kill", 1, chat.id).replace("op:", "cm:", 1)
            assert "недействительна" in await push_press(server, chat, member, relabelled)
        async with app.db.session() as session:
            notice = await session.scalar(select(Notice))
        assert notice is not None and notice.status == "sending"
        await bot.session.close()
