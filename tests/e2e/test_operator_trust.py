"""Who may press a report card's buttons, through the real aiogram code and a local Bot API server:
the citizen's phone shown only to the responsible body's members (in an alert, never in the chat),
strict mode, and buttons that die with a rebinding or expire after 30 days."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.app.wiring import App
from bot.sandbox.telegram import ApiCall, FakeChat, FakeTelegramServer, FakeUser, SentMessage
from bot.services.chats import bind_chat
from bot.services.staff.audit import AuditQuery, audit_events
from bot.services.staff.roles import Principal
from storage.models import OperatorChat, Report, ReportThread
from tests.harness.reports import file_report
from tests.harness.telegram import deliver_all, running
from tests.harness.telegram import wire_on_clock as wire

PHONE = "+79120000001"  # what file_report shares
SHOW_PHONE = "📞 Показать телефон"
TAKE = "🙋 Взять в работу"


async def press(server: FakeTelegramServer, chat: FakeChat, user: FakeUser, label: str) -> ApiCall:
    """`user` presses `label` in `chat`; the bot's answer to the press."""
    since = len(server.calls)
    await chat.press(user, label)
    answer = await server.wait_for(lambda c: c.method == "answerCallbackQuery", since=since)
    await chat.replies()
    return answer


async def press_data(server: FakeTelegramServer, chat: FakeChat, user: FakeUser, data: str) -> ApiCall:
    """`user` presses a button carrying `data` on a message in `chat` (a button copied there)."""
    since = len(server.calls)
    query_id = f"cb-{since}"
    message = {"message_id": 1, "date": 1_700_000_000, "chat": {"id": chat.id, "type": "supergroup"}}
    server.push_update(
        {
            "callback_query": {
                "id": query_id,
                "from": user.as_dict(),
                "chat_instance": "x",
                "data": data,
                "message": message,
            }
        }
    )
    return await server.wait_for(
        lambda c: c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == query_id,
        since=since,
    )


async def the_report(app: App) -> Report:
    async with app.db.session() as session:
        report = await session.scalar(select(Report))
        assert report is not None
        return report


async def card_of(app: App, chat: FakeChat) -> SentMessage:
    report = await the_report(app)
    async with app.db.session() as session:
        thread = await session.get(ReportThread, report.id)
    assert thread is not None and thread.chat_id == chat.id
    return next(m for m in chat.messages(thread.thread_id) if m.message_id == thread.card_message_id)


async def shown(app: App) -> int:
    return len(await audit_events(app.db, AuditQuery(action="phone_shown")))


async def test_only_the_responsible_bodys_members_see_the_phone(database_url: str, app_factory: Any) -> None:
    async with FakeTelegramServer() as server:
        app: App = await app_factory(database_url)
        bot, signer, dispatcher, worker = wire(server, app)
        catalog = app.services.catalog
        housing, health = catalog.route("housing", "ekaterinburg"), catalog.route("health", "ekaterinburg")
        ops = server.group(-100_810, "ЖКХ", is_forum=True)
        medics = server.group(-100_811, "Здравоохранение", is_forum=True)
        await bind_chat(app.db, housing, ops.id, "cli")
        await bind_chat(app.db, health, medics.id, "cli")
        olga, stranger = server.user(920, first_name="Ольга"), server.user(921, first_name="Пётр")
        ops.add_member(olga)
        medics.add_member(stranger)
        citizen = server.user(520)
        async with running(server, app, dispatcher, bot, worker):
            await file_report(citizen)
            await deliver_all(worker)
            card = await card_of(app, ops)
            assert PHONE not in (card.text or "") and SHOW_PHONE in card.inline_buttons

            # Olga, a member of the body's chat, sees it in an alert only she is shown.
            answer = await press(server, ops, olga, SHOW_PHONE)
            assert PHONE in str(answer.params.get("text")) and answer.params.get("show_alert") is True
            await press(server, ops, olga, SHOW_PHONE)
            assert await shown(app) == 2

            # The button copied into another body's chat is refused, and so is that chat's own
            # validly signed button for a report it does not work.
            copied = card.callback_data(SHOW_PHONE)
            assert copied is not None
            answer = await press_data(server, medics, stranger, copied)
            assert "недействительна" in str(answer.params.get("text"))
            health_binding = await app.actions.binding(medics.id)
            assert health_binding is not None
            report = await the_report(app)
            own = signer.sign("phone", report.id, medics.id, nonce=health_binding.nonce)
            answer = await press_data(server, medics, stranger, own)
            assert "другого органа" in str(answer.params.get("text"))
            assert await shown(app) == 2

            # Acting on the report re-renders the card: still no phone on it.
            await press(server, ops, olga, TAKE)
            await deliver_all(worker)
            card = await card_of(app, ops)
            assert card.edits and SHOW_PHONE in card.inline_buttons

        rows = await audit_events(app.db, AuditQuery(action="phone_shown"))
        assert [(r.actor, r.role, r.chat_id, r.report_id) for r in rows] == [
            ("tg:920", "chat_member", ops.id, report.id)
        ] * 2
        # Nothing the bot sent or edited in a chat carries the phone: only the alerts do.
        for call in server.calls:
            if call.method != "answerCallbackQuery" and str(call.params.get("chat_id", "")).startswith("-"):
                assert PHONE not in str(call.params), call.method
        await bot.session.close()


async def test_a_body_without_a_chat_shows_the_phone_to_tsur_operators_only(
    sqlite_url: str, app_factory: Any
) -> None:
    async with FakeTelegramServer() as server:
        app: App = await app_factory(sqlite_url)
        bot, _signer, dispatcher, worker = wire(server, app)
        tsur = server.group(-100_820, "ЦУР", is_forum=True)
        await bind_chat(app.db, "tsur", tsur.id, "cli")
        member, operator = server.user(930, first_name="Анна"), server.user(931, first_name="Иван")
        tsur.add_member(member)
        tsur.add_member(operator)
        await app.staff.add(Principal.shell(), "931", "operator", "tsur")
        async with running(server, app, dispatcher, bot, worker):
            await file_report(server.user(521))
            await deliver_all(worker)
            # The body has no chat: its card falls back to the ЦУР chat, with no phone on it.
            card = await card_of(app, tsur)
            assert PHONE not in (card.text or "") and SHOW_PHONE in card.inline_buttons
            answer = await press(server, tsur, member, SHOW_PHONE)
            assert PHONE not in str(answer.params.get("text"))
            assert "зарегистрированные операторы" in str(answer.params.get("text"))
            answer = await press(server, tsur, operator, SHOW_PHONE)
            assert PHONE in str(answer.params.get("text")) and answer.params.get("show_alert") is True
        rows = await audit_events(app.db, AuditQuery(action="phone_shown"))
        assert [(r.actor, r.role) for r in rows] == [("tg:931", "operator")]
        await bot.session.close()


async def test_strict_mode_admits_registered_operators_only(sqlite_url: str, app_factory: Any) -> None:
    async with FakeTelegramServer() as server:
        app: App = await app_factory(sqlite_url)
        bot, _signer, dispatcher, worker = wire(server, app)
        housing = app.services.catalog.route("housing", "ekaterinburg")
        ops = server.group(-100_830, "ЖКХ", is_forum=True)
        await bind_chat(app.db, housing, ops.id, "cli")
        async with app.db.session() as session:
            chat = await session.get(OperatorChat, housing)
            assert chat is not None
            chat.strict = True
        member, operator = server.user(940, first_name="Анна"), server.user(941, first_name="Иван")
        ops.add_member(member, "administrator")  # a chat admin, and still nobody in the registry
        ops.add_member(operator)
        await app.staff.add(Principal.shell(), "941", "operator", housing)
        async with running(server, app, dispatcher, bot, worker):
            await file_report(server.user(522))
            await deliver_all(worker)
            for label in (TAKE, SHOW_PHONE):
                answer = await press(server, ops, member, label)
                assert "зарегистрированные операторы" in str(answer.params.get("text"))
            assert (await the_report(app)).status == "routed"
            answer = await press(server, ops, operator, TAKE)
            assert "взято в работу" in str(answer.params.get("text"))
        assert (await the_report(app)).status == "in_progress"
        [row] = await audit_events(app.db, AuditQuery(action="report_action"))
        assert (row.actor, row.role, row.detail) == ("tg:941", "operator", {"action": "take"})
        assert await shown(app) == 0
        await bot.session.close()


async def test_buttons_expire_after_30_days_and_die_with_a_rebinding(
    database_url: str, app_factory: Any
) -> None:
    async with FakeTelegramServer() as server:
        app: App = await app_factory(database_url)
        bot, _signer, dispatcher, worker = wire(server, app)
        housing = app.services.catalog.route("housing", "ekaterinburg")
        ops = server.group(-100_840, "ЖКХ", is_forum=True)
        await bind_chat(app.db, housing, ops.id, "cli")
        olga = server.user(950, first_name="Ольга")
        ops.add_member(olga)
        async with running(server, app, dispatcher, bot, worker):
            await file_report(server.user(523))
            await deliver_all(worker)
            old = (await card_of(app, ops)).callback_data(TAKE)

            app.services.clock.advance(timedelta(days=31))  # type: ignore[attr-defined]
            answer = await press(server, ops, olga, TAKE)
            assert "устарели" in str(answer.params.get("text")) and answer.params.get("show_alert") is True
            assert (await the_report(app)).status == "routed"
            # The card comes back with fresh buttons, and they work.
            await deliver_all(worker)
            card = await card_of(app, ops)
            assert card.callback_data(TAKE) not in (None, old)
            answer = await press(server, ops, olga, TAKE)
            assert "взято в работу" in str(answer.params.get("text"))
            assert (await the_report(app)).status == "in_progress"
            await deliver_all(worker)

            # Bound anew (a new nonce): every button signed before is void and changes nothing.
            await bind_chat(app.db, housing, ops.id, "cli")
            before = len(server.calls_of("editMessageText"))
            answer = await press(server, ops, olga, "✅ Ответить")
            assert "недействительна" in str(answer.params.get("text"))
            await deliver_all(worker)
            assert len(server.calls_of("editMessageText")) == before
        report = await the_report(app)
        assert report.status == "in_progress"
        actions = [r.detail["action"] for r in await audit_events(app.db, AuditQuery(action="report_action"))]
        assert actions == ["take"]
        await bot.session.close()
