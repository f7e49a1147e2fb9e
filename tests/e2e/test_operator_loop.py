"""The whole loop through the real aiogram code and a local Bot API server: a citizen files a report,
its card appears in the body's forum chat, operators act, and the citizen is told."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from bot.app.wiring import App
from bot.delivery.worker import OutboxWorker
from bot.sandbox.telegram import FakeChat, FakeTelegramServer, FakeUser
from bot.services.staff.roles import Principal
from storage.models import OutboxMessage, Report, ReportThread, StatusChange
from tests.harness.reports import HEATING, file_report
from tests.harness.telegram import deliver_all, running, wire


def texts(user: FakeUser) -> list[str]:
    return [m.text or "" for m in user.messages()]


async def delivered(worker: OutboxWorker, user: FakeUser, text: str, within: float = 10.0) -> None:
    """Deliver the outbox until `user` has a message with `text`: under load the handler may
    still be storing the answer when the operator chat falls quiet."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        await deliver_all(worker)
        if any(text in t for t in texts(user)):
            return
        if loop.time() > deadline:
            raise AssertionError(f"{text!r} never reached the citizen")
        await asyncio.sleep(0.1)


async def test_report_card_actions_relay_and_feedback(database_url: str, app_factory: Any) -> None:
    async with FakeTelegramServer() as server:
        app: App = await app_factory(database_url)
        bot, signer, dispatcher, worker = wire(server, app)
        body_id = app.services.catalog.route("housing", "ekaterinburg")
        ops: FakeChat = server.group(-100_500, "Операторы", is_forum=True)
        admin = server.user(900, first_name="Ольга")
        ops.add_member(admin, "administrator")
        outsider_chat = server.group(-100_777, "Чужой чат", is_forum=True)
        citizen = server.user(501)

        # Rights come from the registry (Olga is a ЦУР administrator), not from her chat-admin status.
        await app.staff.add(Principal.shell(), "900", "admin")
        async with running(server, app, dispatcher, bot, worker):
            await ops.send_text(admin, f"/bind {body_id}")
            assert "Чат привязан" in " ".join(m.text or "" for m in await ops.replies())
            await file_report(citizen)
            await deliver_all(worker)

            # A topic named after the report, with the album, the pin and the card.
            async with app.db.session() as session:
                report = await session.scalar(select(Report))
                assert report is not None
                thread = await session.get(ReportThread, report.id)
            assert thread is not None and thread.chat_id == ops.id
            assert ops.topics()[thread.thread_id].startswith(f"№{report.number}")
            in_topic = ops.messages(thread.thread_id)
            assert any(m.method == "sendMediaGroup" for m in in_topic)
            assert any(m.method == "sendLocation" for m in in_topic)
            card = in_topic[-1]
            # The phone is not printed on the card: «📞 Показать телефон» shows it, in an alert only
            # the presser sees.
            assert HEATING[:30] in (card.text or "") and "+79120000001" not in (card.text or "")
            await ops.press(admin, "📞 Показать телефон", message_thread_id=thread.thread_id)
            reveal = await server.wait_for(
                lambda c: c.method == "answerCallbackQuery" and "+79120000001" in str(c.params.get("text"))
            )
            assert reveal.params.get("show_alert") is True

            await ops.press(admin, "🙋 Взять в работу", message_thread_id=thread.thread_id)
            await ops.replies()
            await delivered(worker, citizen, "в работе")

            await ops.press(admin, "❓ Запросить уточнение", message_thread_id=thread.thread_id)
            await ops.replies()
            await ops.send_text(
                admin, "Уточните номер квартиры, пожалуйста", message_thread_id=thread.thread_id
            )
            assert "Отправлено гражданину" in " ".join(m.text or "" for m in await ops.replies())
            await deliver_all(worker)
            assert any("Уточните номер квартиры" in t for t in texts(citizen))

            # The citizen's reply (no dialog open, one open report) goes to the topic.
            await citizen.send_text("Квартира 12, третий этаж")
            assert "Передал" in " ".join(m.text or "" for m in await citizen.replies())
            await deliver_all(worker)
            assert any("Квартира 12" in (m.text or "") for m in ops.messages(thread.thread_id))

            # An internal note never reaches the citizen; a plain message does.
            await ops.send_text(admin, "! внутреннее: позвонить в УК", message_thread_id=thread.thread_id)
            await ops.replies(timeout=1.0)
            await ops.send_text(admin, "Бригада выехала", message_thread_id=thread.thread_id)
            await ops.replies(timeout=1.0)
            # A photo from the operator, with a caption, reaches the citizen as a photo.
            await ops.send_photo(
                admin, "AgACOperatorPhoto1", caption="Фото с места", message_thread_id=thread.thread_id
            )
            await delivered(worker, citizen, "Фото с места")
            sent_photos = [
                c for c in server.calls if c.method == "sendPhoto" and c.params.get("chat_id") == citizen.id
            ]
            assert [c.params.get("photo") for c in sent_photos] == ["AgACOperatorPhoto1"]
            assert any("Фото с места" in t for t in texts(citizen))
            assert not any("позвонить в УК" in t for t in texts(citizen))
            assert any("Бригада выехала" in t for t in texts(citizen))

            await ops.press(admin, "✅ Ответить", message_thread_id=thread.thread_id)
            await ops.replies()
            await ops.send_text(admin, "Отопление включено", message_thread_id=thread.thread_id)
            await ops.replies()
            await delivered(worker, citizen, "Отопление включено")
            await citizen.press("❌ Нет, не решена")
            assert "возвращено в работу" in " ".join(m.text or "" for m in await citizen.replies())
            await deliver_all(worker)  # the card gets its buttons back

            await ops.press(admin, "✅ Ответить", message_thread_id=thread.thread_id)
            await ops.replies()
            await ops.send_text(
                admin, "Проверили ещё раз, батареи горячие", message_thread_id=thread.thread_id
            )
            await ops.replies()
            await deliver_all(worker)
            await citizen.press("✅ Да, решена")
            assert "закрыто" in " ".join(m.text or "" for m in await citizen.replies())
            await citizen.press("4 ⭐")
            assert "комментарий" in " ".join(m.text or "" for m in await citizen.replies())
            await citizen.press("Пропустить")
            await citizen.replies()
            await deliver_all(worker)
            card = next(m for m in ops.messages(thread.thread_id) if m.message_id == card.message_id)
            assert "Оценка гражданина: 4/5" in (card.text or "")
            assert "закрыто" in (card.text or "") and card.inline_buttons == []

            # A button transplanted into another chat, and forged data, are refused.
            binding = await app.actions.binding(ops.id)
            assert binding is not None
            data = signer.sign("take", report.id, ops.id, nonce=binding.nonce)
            outsider = server.user(901)
            outsider_chat.add_member(outsider, "member")
            server.push_update(
                {
                    "callback_query": {
                        "id": "cb-forged-1",
                        "from": outsider.as_dict(),
                        "chat_instance": "x",
                        "data": data,
                        "message": {
                            "message_id": 1,
                            "date": 1_700_000_000,
                            "chat": {"id": outsider_chat.id, "type": "supergroup", "title": "Чужой чат"},
                        },
                    }
                }
            )
            await server.wait_for(
                lambda c: (
                    c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == "cb-forged-1"
                )
            )
            answer = next(
                c
                for c in server.calls
                if c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == "cb-forged-1"
            )
            assert "недействительна" in str(answer.params.get("text"))

        async with app.db.session() as session:
            statuses = [
                (c.from_status, c.to_status)
                for c in await session.scalars(select(StatusChange).order_by(StatusChange.id))
            ]
            pending = await session.scalars(select(OutboxMessage).where(OutboxMessage.status != "sent"))
            assert list(pending) == []
        assert statuses == [
            (None, "new"),
            ("new", "routed"),
            ("routed", "in_progress"),
            ("in_progress", "needs_info"),
            ("needs_info", "in_progress"),
            ("in_progress", "answered"),
            ("answered", "in_progress"),
            ("in_progress", "answered"),
            ("answered", "closed"),
        ]
        await bot.session.close()


async def test_transfer_moves_the_report_to_the_other_bodys_chat(sqlite_url: str, app_factory: Any) -> None:
    async with FakeTelegramServer() as server:
        app: App = await app_factory(sqlite_url)
        bot, _signer, dispatcher, worker = wire(server, app)
        catalog = app.services.catalog
        housing_body = catalog.route("housing", "ekaterinburg")
        health_body = catalog.route("health", "ekaterinburg")
        assert housing_body != health_body
        housing_chat = server.group(-100_601, "ЖКХ", is_forum=True)
        health_chat = server.group(-100_602, "Здравоохранение", is_forum=True)
        admin = server.user(910, first_name="Ольга")
        medic = server.user(911, first_name="Пётр")
        housing_chat.add_member(admin, "administrator")
        health_chat.add_member(medic, "administrator")
        citizen = server.user(502)
        await app.staff.add(Principal.shell(), "910", "admin")
        await app.staff.add(Principal.shell(), "911", "admin")
        async with running(server, app, dispatcher, bot, worker):
            await housing_chat.send_text(admin, f"/bind {housing_body}")
            await housing_chat.replies()
            await health_chat.send_text(medic, f"/bind {health_body}")
            await health_chat.replies()
            await file_report(citizen)
            await deliver_all(worker)
            [old_thread] = housing_chat.topics()
            await housing_chat.press(admin, "⇄ Передать в другую отрасль", message_thread_id=old_thread)
            await housing_chat.replies()
            await housing_chat.press(admin, "Здравоохранение", message_thread_id=old_thread)
            await housing_chat.replies()
            await deliver_all(worker)
            assert any("передано" in (m.text or "").lower() for m in housing_chat.messages(old_thread))
            [new_thread] = health_chat.topics()
            card = health_chat.messages(new_thread)[-1]
            assert "Здравоохранение" in (card.text or "") and "🙋 Взять в работу" in card.inline_buttons
            # The old chat's buttons no longer act on it; the new chat's do.
            await housing_chat.press(admin, "🙋 Взять в работу", message_thread_id=old_thread)
            await housing_chat.replies()
            await health_chat.press(medic, "🙋 Взять в работу", message_thread_id=new_thread)
            await health_chat.replies()
            await deliver_all(worker)
        async with app.db.session() as session:
            report = await session.scalar(select(Report))
        assert report is not None and report.body_id == health_body and report.status == "in_progress"
        refused = [
            c
            for c in server.calls
            if c.method == "answerCallbackQuery" and "другого органа" in str(c.params.get("text"))
        ]
        assert len(refused) == 1
        await bot.session.close()
