"""Four-eyes in the comms chat, through the real aiogram code and the local Bot API server: a notice
to 5,000 subscribers or to everyone waits for a second person's «✅ Одобрить»; its composer cannot
approve it, an edit withdraws the request, and a chat member without the comms role composes
nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.app.wiring import App
from bot.sandbox.telegram import FakeChat, FakeTelegramServer, FakeUser, SentMessage
from bot.services.staff.audit import AuditQuery, audit_events
from bot.services.staff.roles import Principal
from storage.models import Notice, OutboxMessage
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
from tests.harness.seeds import seed_subscribers
from tests.harness.telegram import running, wire

# Fluent prints numbers the Russian way: thousands apart by a no-break space.
FIVE_THOUSAND = "5\u00a0000"
STORM = "Штормовое предупреждение: порывы ветра до 25 м/с."


async def second_approver(app: App, chat: FakeChat) -> tuple[FakeUser, FakeUser]:
    """Vera (702) holds comms as well; Gleb (703) is only a member of the chat."""
    await app.staff.add(Principal.shell(), "702", "comms", name="Вера")
    vera = chat.server.user(702, first_name="Вера")
    gleb = chat.server.user(703, first_name="Глеб")
    chat.add_member(vera, "member")
    chat.add_member(gleb, "member")
    return vera, gleb


def approval_request(chat: FakeChat) -> SentMessage:
    found = [m for m in chat.messages() if (m.text or "").startswith("🛂 Информирование №")]
    assert found, [m.text for m in chat.messages()]
    return found[-1]


async def queued(app: App) -> int:
    async with app.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


async def compose_to_everyone(chat: FakeChat, member: FakeUser, text: str) -> list[SentMessage]:
    await say(chat, member, "/notice", "Выберите тип")
    await press(chat, member, "🚨 Экстренное", "Напишите текст")
    await say(chat, member, text, "Кому отправить")
    await press(chat, member, "👥 Все подписчики", "все подписчики")
    return await press(chat, member, "✅ Готово", "Получателей")


async def test_a_5000_recipient_notice_waits_for_a_second_approver(
    database_url: str, app_factory: Any
) -> None:
    async with FakeTelegramServer() as server:
        app: App = await app_factory(database_url)
        bot, _signer, dispatcher, _worker = wire(server, app)
        await seed_subscribers(app.db, 5000)
        chat, admin, boris = comms_chat(server)
        await staff_roles(app)
        vera, gleb = await second_approver(app, chat)
        async with running(server, app, dispatcher, bot, _worker):
            await bind(chat, admin)
            preview = await compose_info(chat, boris, WATER, "Екатеринбург")
            summary = preview[-1].text or ""
            assert (
                f"Получателей: {FIVE_THOUSAND}" in summary and "нужно одобрение второго сотрудника" in summary
            )

            # Boris's "send" asks for approval; nothing is queued.
            await press(chat, boris, "✅ Отправить", "ждёт одобрения")
            request = approval_request(chat)
            text = request.text or ""
            assert "Автор: Борис" in text and f"Получателей: {FIVE_THOUSAND}" in text and WATER in text
            assert request.inline_buttons == ["✅ Одобрить", "✖️ Отклонить"]
            assert await queued(app) == 0

            # Boris alone cannot send it, nor can a member without a role.
            await press(chat, boris, "✅ Одобрить", "Своё информирование одобрить нельзя")
            await press(chat, gleb, "✅ Одобрить", "Одобрять информирование могут")
            assert await queued(app) == 0

            # Vera approves: the request becomes the progress message, naming her.
            await press(chat, vera, "✅ Одобрить", "📣 Информирование №")
            progress = progress_message(chat)
            assert progress.message_id == request.message_id
            assert f"Получателей: {FIVE_THOUSAND}" in (progress.text or "") and "Одобрено: Вера" in (
                progress.text or ""
            )
            assert progress.inline_buttons == ["⏸ Пауза", "⛔ Отменить"]
            assert await queued(app) == 5000
            # Boris's draft is over: its buttons answer as a stale draft's.
            await press(chat, boris, "✏️ Изменить", "другого черновика")
        notice = (await app.notices.recent())[0]
        assert (notice.status, notice.recipients, notice.approved_by) == ("sending", 5000, "tg:702 Вера")
        [approved] = await audit_events(app.db, AuditQuery(action="notice_approved"))
        assert (approved.actor, approved.role, approved.chat_id) == ("tg:702", "comms", chat.id)
        refused = await audit_events(app.db, AuditQuery(action="refused"))
        assert [(e.actor, e.detail["reason"]) for e in refused] == [
            ("tg:701", "comms-self-approval"),
            ("tg:703", "staff-not-allowed"),
        ]
        await bot.session.close()


async def test_an_edit_withdraws_the_request_and_a_rejection_sends_nothing(
    sqlite_url: str, app_factory: Any
) -> None:
    async with FakeTelegramServer() as server:
        app: App = await app_factory(sqlite_url)
        bot, _signer, dispatcher, _worker = wire(server, app)
        await seed_subscribers(app.db, 2)
        chat, admin, boris = comms_chat(server)
        await staff_roles(app)
        vera, _gleb = await second_approver(app, chat)
        async with running(server, app, dispatcher, bot, _worker):
            await bind(chat, admin)
            await compose_to_everyone(chat, boris, "Черновик с опечаткой")
            await press(chat, boris, "✅ Отправить", "ждёт одобрения")
            first = approval_request(chat)
            approve_first = first.callback_data("✅ Одобрить")
            assert approve_first is not None

            # Boris edits the text: the request is withdrawn, the old button approves nothing.
            await press(chat, boris, "✏️ Изменить", "Что изменить")
            await press(chat, boris, "📝 Тип и текст", "Выберите тип")
            withdrawn = next(m for m in chat.messages() if m.message_id == first.message_id)
            assert "не отправлено" in (withdrawn.text or "") and withdrawn.inline_buttons == []
            assert "отменена" in await push_press(server, chat, vera, approve_first)

            await press(chat, boris, "🚨 Экстренное", "Напишите текст")
            await say(chat, boris, STORM, "Кому отправить")
            await press(chat, boris, "✅ Готово", "Получателей")
            await press(chat, boris, "✅ Отправить", "ждёт одобрения")
            second = approval_request(chat)
            assert second.message_id != first.message_id and STORM in (second.text or "")

            # Vera rejects it: nothing goes out; Boris may send it again, asking anew.
            await press(chat, vera, "✖️ Отклонить", "Отклонено")
            rejected = next(m for m in chat.messages() if m.message_id == second.message_id)
            assert "не отправлено" in (rejected.text or "") and rejected.inline_buttons == []
            assert await queued(app) == 0
            await press(chat, boris, "✏️ Изменить", "Что изменить")
            await press(chat, boris, "⬅️ Назад", "Получателей")
            await press(chat, boris, "✅ Отправить", "ждёт одобрения")
            await press(chat, admin, "✅ Одобрить", "📣 Информирование №")
            assert await queued(app) == 2
        async with app.db.session() as session:
            notices = list(await session.scalars(select(Notice).order_by(Notice.id)))
        assert [(n.status, n.text) for n in notices] == [
            ("cancelled", "Черновик с опечаткой"),
            ("cancelled", STORM),
            ("sending", STORM),
        ]
        assert notices[2].approved_by == "tg:700 Анна"
        reasons = [
            e.detail["reason"] for e in await audit_events(app.db, AuditQuery(action="notice_cancelled"))
        ]
        assert reasons == ["edited", "rejected"]
        await bot.session.close()


async def test_a_member_without_the_comms_role_cannot_compose(sqlite_url: str, app_factory: Any) -> None:
    async with FakeTelegramServer() as server:
        app: App = await app_factory(sqlite_url)
        bot, _signer, dispatcher, _worker = wire(server, app)
        await seed_subscribers(app.db, 2)
        chat, admin, boris = comms_chat(server)
        await staff_roles(app)
        _vera, gleb = await second_approver(app, chat)
        async with running(server, app, dispatcher, bot, _worker):
            await bind(chat, admin)
            # A member of the comms chat, and the chat's administrator who is no comms staff.
            await say(chat, gleb, "/notice", "Составлять информирование могут только сотрудники")
            await say(chat, admin, "/notice", "Составлять информирование могут только сотрудники")
            # An anonymous administrator names nobody.
            start = len(server.calls)
            await chat.send_as_chat("/notice")
            await settled(chat, start, "от имени")
            # Gleb types as if composing: nothing happens, it is ordinary chat.
            await chat.send_text(gleb, WATER)
            assert await chat.replies(timeout=1.0) == []

            # Boris composes; once his role is revoked, his next step is refused.
            await say(chat, boris, "/notice", "Выберите тип")
            await press(chat, boris, "ℹ️ Информация", "Напишите текст")
            await app.staff.revoke(Principal.shell(), "701", "comms")
            refused = joined(await say(chat, boris, WATER, "Составлять информирование"))
            assert "Кому отправить" not in refused
        async with app.db.session() as session:
            assert await session.scalar(select(func.count()).select_from(Notice)) == 0
        await bot.session.close()
