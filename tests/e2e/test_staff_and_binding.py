"""Who may run the ЦУР, through the real aiogram code and a local Bot API server: a stranger's own
group gets nothing but refusals, only registry admins bind chats (never silently), anonymous admins
are refused, and staff join by one-time invites that cannot be reused or outlived, until revoked."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from bot.app.wiring import App
from bot.core.clock import ManualClock
from bot.sandbox.telegram import FakeChat, FakeTelegramServer, FakeUser, SentMessage
from bot.services.chats import binding_of_body, is_comms_chat
from bot.services.staff.audit import AuditQuery, audit_events
from bot.services.staff.roles import Principal
from storage.models import (
    CommsChat,
    Notice,
    OperatorChat,
    OutboxMessage,
    ReportThread,
    StaffInvite,
    StaffRole,
)
from tests.harness.reports import HEATING, file_report
from tests.harness.telegram import deliver_all, running, wire

WATCHED = (OperatorChat, CommsChat, Notice, OutboxMessage, StaffRole, StaffInvite)
ADMINS_ONLY = "только администратор ЦУР"


async def row_counts(app: App) -> dict[str, int]:
    async with app.db.session() as session:
        return {
            model.__tablename__: int(await session.scalar(select(func.count()).select_from(model)) or 0)
            for model in WATCHED
        }


def joined(messages: list[SentMessage]) -> str:
    return "\n".join(m.text or "" for m in messages)


async def say(chat: FakeChat, user: FakeUser, text: str) -> str:
    await chat.send_text(user, text)
    return joined(await chat.replies())


async def tell_bot(user: FakeUser, text: str) -> str:
    await user.send_text(text)
    return joined(await user.replies())


async def test_a_strangers_group_gets_nothing_but_refusals(database_url: str, app_factory: Any) -> None:
    async with FakeTelegramServer() as server:
        app: App = await app_factory(database_url)
        bot, _signer, dispatcher, worker = wire(server, app)
        body_id = app.services.catalog.route("housing", "ekaterinburg")
        ops = server.group(-100_500, "Операторы", is_forum=True)
        admin = server.user(900, first_name="Ольга")
        await app.staff.add(Principal.shell(), "900", "admin")
        # The stranger created the group: Telegram calls them its creator, which grants nothing here.
        lair = server.group(-100_666, "Чат мошенника", is_forum=True)
        stranger = server.user(666, first_name="Мошенник")
        lair.add_member(stranger, "creator")
        citizen = server.user(501)

        async with running(server, app, dispatcher, bot, worker):
            assert "Чат привязан" in await say(ops, admin, f"/bind {body_id}")
            before = await row_counts(app)
            refusals = []
            for command in (f"/bind {body_id}", "/bind tsur", "/comms", "/strict off", "/unbind", "/notice"):
                answer = await say(lair, stranger, command)
                refusals.append(answer)
                assert "Выберите тип" not in answer and "Перенести?" not in answer, (command, answer)
            assert all(ADMINS_ONLY in answer for answer in refusals[:5]), refusals
            assert "не чат информирования" in refusals[5] or "нет права" in refusals[5], refusals[5]
            # Nor can the stranger invite themselves anything, in private or in the group.
            assert ADMINS_ONLY in await tell_bot(stranger, "/invite admin")
            assert "только в личном чате" in await say(lair, stranger, "/invite operator tsur")
            assert await row_counts(app) == before

            # A citizen files a report afterwards: it reaches the body's real chat, and only there.
            await file_report(citizen)
            await deliver_all(worker)

        async with app.db.session() as session:
            binding = await binding_of_body(session, body_id)
            threads = list(await session.scalars(select(ReportThread)))
        assert binding is not None and binding.chat_id == ops.id
        assert [t.chat_id for t in threads] == [ops.id] and len(ops.topics()) == 1
        assert not await is_comms_chat(app.db, lair.id)
        seen_by_stranger = [m.text or "" for m in lair.messages()]
        assert len(seen_by_stranger) == 7 and lair.topics() == {}
        assert not any(HEATING[:20] in text or "+7912" in text for text in seen_by_stranger)
        assert not any(m.params.get("chat_id") == lair.id for m in server.calls_of("createForumTopic"))
        await bot.session.close()


async def test_rebinding_is_confirmed_by_the_asking_admin_and_both_chats_are_told(
    database_url: str, app_factory: Any
) -> None:
    async with FakeTelegramServer() as server:
        app: App = await app_factory(database_url)
        bot, _signer, dispatcher, worker = wire(server, app)
        body_id = app.services.catalog.route("housing", "ekaterinburg")
        name = app.services.catalog.body(body_id).name_ru
        old = server.group(-100_501, "Старый чат", is_forum=True)
        new = server.group(-100_502, "Новый чат", is_forum=True)
        olga, pavel = server.user(900, first_name="Ольга"), server.user(901, first_name="Павел")
        member = server.user(903, first_name="Участник")
        new.add_member(member, "administrator")
        await app.staff.add(Principal.shell(), "900", "admin")
        await app.staff.add(Principal.shell(), "901", "admin")

        async with running(server, app, dispatcher, bot, worker):
            assert "Чат привязан" in await say(old, olga, f"/bind {body_id}")
            asked = await say(new, pavel, f"/bind {body_id}")
            assert "Перенести?" in asked and str(old.id) in asked, asked
            question = new.messages()[-1]
            assert question.inline_buttons == ["Да, перенести", "Отмена"]
            data = question.callback_data("Да, перенести")
            assert data is not None and len(data.encode()) <= 64
            async with app.db.session() as session:
                still = await binding_of_body(session, body_id)
            assert still is not None and still.chat_id == old.id

            # Nobody but the admin who asked may answer: not a chat admin, not another ЦУР admin.
            for someone in (member, olga):
                start = len(server.calls)
                await new.press(someone, "Да, перенести")
                await new.replies()
                answer = await server.wait_for(lambda c: c.method == "answerCallbackQuery", since=start)
                assert "отправил команду" in str(answer.params.get("text"))
            async with app.db.session() as session:
                assert await binding_of_body(session, body_id) == still

            await new.press(pavel, "Да, перенести")
            await new.replies()
            done = new.messages()[-1]
            assert done.message_id == question.message_id and "Чат привязан" in (done.text or "")
            assert done.inline_buttons == []
            await deliver_all(worker)
            [told] = [m.text or "" for m in old.messages()][-1:]
            assert "больше не работает" in told and name in told

            # /unbind asks too: «Отмена» keeps the binding, «Да, отвязать» ends it.
            assert "Отвязать чат" in await say(new, pavel, "/unbind")
            await new.press(pavel, "Отмена")
            await new.replies()
            assert "ничего не изменилось" in (new.messages()[-1].text or "")
            await say(new, pavel, "/unbind")
            await new.press(pavel, "Да, отвязать")
            await new.replies()
            assert "отвязан" in (new.messages()[-1].text or "")
            assert "не привязан" in await say(new, pavel, "/unbind")

        async with app.db.session() as session:
            assert await binding_of_body(session, body_id) is None
        events = await audit_events(app.db, AuditQuery())
        trail = [(e.action, e.actor, e.subject) for e in events if e.action in ("bind", "unbind")]
        assert trail == [
            ("bind", "tg:900", body_id),
            ("bind", "tg:901", body_id),
            ("unbind", "tg:901", body_id),
        ]
        assert events[-2].detail["old_chat"] == old.id and events[-2].detail["new_chat"] == new.id
        await bot.session.close()


async def test_an_anonymous_admin_is_asked_to_send_as_themselves(sqlite_url: str, app_factory: Any) -> None:
    async with FakeTelegramServer() as server:
        app: App = await app_factory(sqlite_url)
        bot, _signer, dispatcher, _worker = wire(server, app)
        body_id = app.services.catalog.route("housing", "ekaterinburg")
        ops = server.group(-100_500, "Операторы", is_forum=True)
        await app.staff.add(Principal.shell(), "900", "admin")
        before = await row_counts(app)
        async with running(server, app, dispatcher, bot, _worker):
            for command in (f"/bind {body_id}", "/comms", "/strict on", "/notice", "/whoami"):
                await ops.send_as_chat(command)
                assert "от своего имени" in joined(await ops.replies()), command
        assert await row_counts(app) == before
        await bot.session.close()


INVITE = re.compile(r"https://t\.me/(\w+)\?start=inv_([\w-]+)")


async def invite(admin: FakeUser, what: str) -> str:
    """The admin's /invite in a private chat; returns the code (checking the link shows the /join form)."""
    answer = await tell_bot(admin, f"/invite {what}")
    found = INVITE.search(answer)
    assert found, answer
    assert found.group(1) == admin.server.bot_username and f"/join {found.group(2)}" in answer
    return found.group(2)


async def test_staff_join_by_link_or_code_once_within_a_day_until_revoked(
    database_url: str, app_factory: Any, clock: ManualClock
) -> None:
    async with FakeTelegramServer() as server:
        app: App = await app_factory(database_url)
        bot, _signer, dispatcher, _worker = wire(server, app)
        catalog = app.services.catalog
        body_id = catalog.route("housing", "ekaterinburg")
        admin = server.user(900, first_name="Ольга")
        await app.staff.add(Principal.shell(), "900", "admin")
        anna, boris, vera, gleb, dina = (server.user(uid) for uid in (801, 802, 803, 804, 805))
        group = server.group(-100_510, "Чат органа", is_forum=True)

        async with running(server, app, dispatcher, bot, _worker):
            code = await invite(admin, f"operator {body_id}")
            # The deep link: the person is told their role, and no citizen dialog starts.
            joined_anna = await tell_bot(anna, f"/start inv_{code}")
            assert (
                "Теперь вы — оператор органа" in joined_anna and catalog.body(body_id).name_ru in joined_anna
            )
            assert "персональных данных" not in joined_anna
            # Used once: the same link is refused for anyone, its owner included.
            assert "недействителен" in await tell_bot(boris, f"/start inv_{code}")
            assert "недействителен" in await tell_bot(anna, f"/join {code}")

            # A code typed as plain text is a citizen's message, never a redemption.
            code = await invite(admin, "comms")
            await tell_bot(vera, code)
            assert "нет (вы не в реестре" in await tell_bot(vera, "/whoami")
            assert "сотрудник информирования" in await tell_bot(vera, f"/join {code}")

            # A day later an unused code has expired.
            code = await invite(admin, "operator tsur")
            clock.advance(timedelta(hours=25))
            assert "недействителен" in await tell_bot(gleb, f"/join {code}")

            # Only admins invite; a bad role is explained.
            assert ADMINS_ONLY in await tell_bot(anna, "/invite admin")
            assert "Не получилось" in await tell_bot(admin, "/invite operator no-such-body")

            # An invited admin may bind chats until revoked; then they are refused like anyone.
            code = await invite(admin, "admin")
            assert "администратор ЦУР" in await tell_bot(dina, f"/join {code}")
            assert "Чат привязан" in await say(group, dina, f"/bind {body_id}")
            listing = await tell_bot(admin, "/staff")
            assert all(str(uid) in listing for uid in (900, 801, 803, 805)) and "804" not in listing
            assert "Отозвано ролей у 805: 1" in await tell_bot(admin, "/revoke 805")
            assert ADMINS_ONLY in await say(group, dina, "/unbind")
            assert "Отозвано ролей у 801: 1" in await tell_bot(admin, "/revoke 801 operator")
            assert "нет (вы не в реестре" in await tell_bot(anna, "/whoami")
            assert "последнего" in (await tell_bot(admin, "/revoke 900")).lower()

        async with app.db.session() as session:
            binding = await binding_of_body(session, body_id)
        assert binding is not None and binding.chat_id == group.id
        trail = [
            (e.action, e.actor, e.detail.get("role"))
            for e in await audit_events(app.db, AuditQuery())
            if e.action in ("invite", "join", "revoke", "bind")
        ]
        assert trail == [
            ("invite", "tg:900", "operator"),
            ("join", "tg:801", "operator"),
            ("invite", "tg:900", "comms"),
            ("join", "tg:803", "comms"),
            ("invite", "tg:900", "operator"),
            ("invite", "tg:900", "admin"),
            ("join", "tg:805", "admin"),
            ("bind", "tg:805", None),
            ("revoke", "tg:900", "admin"),
            ("revoke", "tg:900", "operator"),
        ]
        await bot.session.close()
