"""VK end to end: the real vkbottle code against a local VK API server, the operator side in Telegram.

A VK citizen files a report by Long Poll, operators work it in their Telegram forum chat, and the
answers (text and photo), "Solved?" and rating reach the citizen on VK. The Callback API endpoint
checks the secret and handles a repeated event once. Delivery never doubles a message (random_id),
waits out flood control, and marks a citizen who closed their messages unreachable.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from bot.app.telegram import build_bot, build_delivery, build_dispatcher
from bot.app.vk import VkSide, build_vk, build_vk_delivery, vk_callback_handler
from bot.app.wiring import App
from bot.core.messages import Text, View
from bot.delivery.outbox import Kind, enqueue, envelope
from bot.delivery.pacing import SlidingWindow
from bot.delivery.ports import Delivery, RetryAfter, Sent, Unreachable
from bot.delivery.worker import OutboxWorker
from bot.sandbox.telegram import FakeTelegramServer
from bot.sandbox.vk import FakeVkServer
from bot.services.staff.roles import Principal
from handlers.telegram.callbacks import callback_signer
from handlers.vk.messenger import VkMessenger
from storage.models import Citizen, OutboxMessage, Report, ReportThread
from tests.harness.citizens import VkCitizen, vk_long_poll
from tests.harness.pipeline import processing, settled
from tests.harness.telegram import running

HEATING = "В доме по улице Малышева, 30 неделю нет отопления, батареи холодные, УК не отвечает на звонки."
EKB = (56.8389, 60.6057)


async def file_report(citizen: VkCitizen) -> str:
    await citizen.command("/start")
    await citizen.press("✅ Согласен(на)")
    await citizen.press("📝 Сообщить о проблеме")
    await citizen.say(HEATING)
    await citizen.photos(1)
    await citizen.press("➡️ Далее")
    await citizen.location(*EKB)
    await citizen.press("ЖКХ", contains=True)
    await citizen.phone("+7 912 000-00-07")
    return await citizen.press("✅ Отправить")


async def test_vk_citizen_and_telegram_operators(database_url: str, app_factory: Any) -> None:
    app: App = await app_factory(database_url)
    async with FakeTelegramServer() as tg, FakeVkServer() as vk_server:
        bot = build_bot(tg.token, tg.base_url)
        signer = callback_signer(tg.token)
        dispatcher = build_dispatcher(app, signer=signer)
        tg_worker = build_delivery(app, bot, signer, global_rate=1000.0, chat_rate=1000.0, group_rate=1000.0)
        ops = tg.group(-100_500, "Операторы", is_forum=True)
        admin = tg.user(900, first_name="Ольга")
        ops.add_member(admin, "administrator")
        body_id = app.services.catalog.route("housing", "ekaterinburg")
        await app.staff.add(Principal.shell(), "900", "admin")
        async with (
            running(tg, app, dispatcher, bot, tg_worker),
            vk_long_poll(app, vk_server, photo_bot=bot) as chat,
        ):
            await ops.send_text(admin, f"/bind {body_id}")
            await ops.replies()
            citizen = chat.citizen(1)
            assert "принято" in await file_report(citizen)
            await settled(app)

            async with app.db.session() as session:
                report = await session.scalar(select(Report))
                assert report is not None
                thread = await session.get(ReportThread, report.id)
            assert thread is not None and report.platform == "vk" and report.phone == "+79120000007"
            in_topic = ops.messages(thread.thread_id)
            card = in_topic[-1]
            assert "Мессенджер: ВКонтакте" in (card.text or "")
            # The citizen's VK photo is shown to operators (Telegram fetches it by its URL).
            assert any(m.method == "sendPhoto" for m in in_topic)

            await ops.press(admin, "🙋 Взять в работу", message_thread_id=thread.thread_id)
            await ops.replies()
            await settled(app)
            assert any("в работе" in m.text for m in await citizen.user.replies())

            # The citizen writes more: it reaches the topic, marked as coming from VK.
            assert "Передал" in await citizen.say("Квартира 12, третий этаж")
            await settled(app)
            relayed = [m.text or "" for m in ops.messages(thread.thread_id)]
            assert any("Квартира 12" in t for t in relayed)
            assert any("Гражданин (ВКонтакте)" in t for t in relayed)

            # An operator's photo with a caption is uploaded to VK and attached.
            await ops.send_photo(
                admin,
                "AgACOperatorPhoto1",
                caption="Фото с места",
                message_thread_id=thread.thread_id,
                data=b"\xff\xd8\xff\xe0operator-photo",
            )
            await asyncio.sleep(0.5)
            await settled(app)
            with_photo = [m for m in vk_server.messages_to(citizen.user.user_id) if m.attachments]
            assert len(with_photo) == 1 and "Фото с места" in with_photo[0].text
            assert vk_server.uploaded == [b"\xff\xd8\xff\xe0operator-photo"]

            await ops.press(admin, "✅ Ответить", message_thread_id=thread.thread_id)
            await ops.replies()
            await ops.send_text(admin, "Отопление включено", message_thread_id=thread.thread_id)
            await ops.replies()
            await settled(app)
            assert "Отопление включено" in "\n".join(m.text for m in await citizen.user.replies())
            assert "закрыто" in await citizen.press("✅ Да, решена")
            assert "комментарий" in await citizen.press("5 ⭐")
            await citizen.press("Пропустить")
            await settled(app)
        await bot.session.close()

    async with app.db.session() as session:
        closed = await session.get(Report, report.id)
        pending = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.status != "sent")))
    assert closed is not None and closed.status == "closed" and closed.rating == 5
    assert pending == []
    assert vk_server.unanswered_events() == []
    assert vk_server.max_rps <= 20


@pytest.fixture
async def callback_site(
    sqlite_url: str, app_factory: Any, unused_tcp_port: int
) -> AsyncIterator[tuple[FakeVkServer, App, VkSide, str]]:
    app: App = await app_factory(sqlite_url)
    async with FakeVkServer() as server:
        side = await build_vk(app, server.token, server.base_url)
        delivery = build_vk_delivery(app, side, None)
        async with processing(app, {"vk": side.citizens.process}, [delivery]) as inbound:
            handler = vk_callback_handler(
                side, app.inbound, secret="cb-secret-42", confirmation="a1b2c3d4", on_stored=inbound.wake
            )
            web_app = web.Application()
            web_app.router.add_post("/webhook/vk", handler)
            runner = web.AppRunner(web_app)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
            url = f"http://127.0.0.1:{unused_tcp_port}/webhook/vk"
            server.use_callback(url, "cb-secret-42")
            try:
                yield server, app, side, url
            finally:
                await runner.cleanup()
        await side.close()


async def test_callback_api_confirms_checks_secret_and_ignores_repeats(
    callback_site: tuple[FakeVkServer, App, VkSide, str],
) -> None:
    server, app, _side, url = callback_site
    async with aiohttp.ClientSession() as session:
        confirmation = {"type": "confirmation", "group_id": server.group_id}
        async with session.post(url, json=confirmation) as response:
            assert response.status == 200 and await response.text() == "a1b2c3d4"
        async with session.post(url, data="not json") as response:
            assert response.status == 400

    user = server.user(7101)
    event = await user.send_command("/help")
    await settled(app)
    assert server.callback_responses[-1] == (200, "ok")
    first = len(server.messages_to(7101))
    assert first >= 1 and "/report" in server.messages_to(7101)[0].text

    # VK repeats an event it got no "ok" for: handled once.
    assert await server.post_callback(event) == (200, "ok")
    await settled(app)
    assert len(server.messages_to(7101)) == first

    # A forged event with a wrong secret is refused and does nothing.
    status, _ = await server.post_callback({**event, "event_id": "forged-1"}, secret="wrong")
    assert status == 403
    status, _ = await server.post_callback(
        {**event, "event_id": "forged-2", "group_id": 1}, secret="cb-secret-42"
    )
    assert status == 403
    await settled(app)
    assert len(server.messages_to(7101)) == first
    async with app.db.session() as session:
        # /help needs no consent, and nothing was stored about the citizen.
        assert list(await session.scalars(select(Citizen))) == []


async def _messenger_row(app: App, key: str, peer: int, text: str) -> Delivery:
    now = app.services.clock.now()
    async with app.db.session() as session:
        await enqueue(
            session,
            key=key,
            platform="vk",
            kind=Kind.CITIZEN,
            target=str(peer),
            payload=envelope([View((Text.raw(text),))], "ru"),
            now=now,
        )
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
        assert row is not None
        return Delivery(row.id, "vk", Kind.CITIZEN, row.target, None, dict(row.payload), 0, key)


async def test_vk_delivery_is_never_doubled_and_handles_errors(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    async with FakeVkServer() as server:
        side = await build_vk(app, server.token, server.base_url)
        gate = SlidingWindow(1000)
        messenger = VkMessenger(side.api, app.services.translator, gate)
        delivery = await _messenger_row(app, "notice:1:7201", 7201, "Плановое отключение воды завтра")
        # Sent, then sent again (a worker killed before recording the outcome): one message.
        assert isinstance(await messenger.deliver(delivery), Sent)
        assert isinstance(await messenger.deliver(delivery), Sent)
        assert len(server.messages_to(7201)) == 1

        # Flood control: try later, with the parts already sent remembered.
        server.fail_next("messages.send", 9)
        flood = await _messenger_row(app, "notice:2:7201", 7201, "Второе сообщение")
        outcome = await messenger.deliver(flood)
        assert isinstance(outcome, RetryAfter) and outcome.done_parts == 0
        assert gate.rate == 500  # every send through the community slows down, not only this one
        assert isinstance(await messenger.deliver(flood), Sent)
        assert len(server.messages_to(7201)) == 2

        # A citizen who closed their messages to the community: unreachable, and the worker stops.
        server.block(7202)
        blocked = await _messenger_row(app, "notice:3:7202", 7202, "Вам не дойдёт")
        assert isinstance(await messenger.deliver(blocked), Unreachable)
        async with app.db.session() as session:
            session.add(
                Citizen(
                    platform="vk",
                    platform_user_id="7202",
                    language="ru",
                    consent_at=app.services.clock.now(),
                    created_at=app.services.clock.now(),
                )
            )
        worker = OutboxWorker(app.db, {"vk": messenger}, app.services.clock)
        await worker.run_once()
        async with app.db.session() as session:
            citizen = await session.scalar(select(Citizen).where(Citizen.platform_user_id == "7202"))
            row = await session.get(OutboxMessage, blocked.id)
        assert citizen is not None and citizen.unreachable_at is not None
        assert row is not None and row.status == "dead"
        await side.close()


async def test_vk_sends_stay_within_the_community_rate(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    async with FakeVkServer() as server:
        side = await build_vk(app, server.token, server.base_url)
        # The gate the bot runs with (VK_RATE = 20).
        messenger = VkMessenger(side.api, app.services.translator, side.gate)
        for index in range(45):
            delivery = await _messenger_row(app, f"rate:{index}", 7300 + index, f"Сообщение {index}")
            assert isinstance(await messenger.deliver(delivery), Sent)
        assert len(server.sent) == 45
        # Nothing refused with error 6: the bucket kept us at or under 20 requests a second.
        assert server.max_rps <= 20
        assert not [call for call in server.requests if call.error == 6]
        await side.close()


async def test_vk_batch_sends_one_call_per_hundred_and_reports_each_peer(
    sqlite_url: str, app_factory: Any
) -> None:
    app: App = await app_factory(sqlite_url)
    async with FakeVkServer() as server:
        side = await build_vk(app, server.token, server.base_url)
        messenger = VkMessenger(side.api, app.services.translator, side.gate)
        payload = envelope([View((Text.raw("Отключение воды"),))], "ru")
        peers = list(range(7400, 7400 + 150))
        server.block(7405)
        deliveries = [
            Delivery(index, "vk", Kind.CITIZEN, str(peer), None, payload, 0, f"n:{peer}", notice_id=9)
            for index, peer in enumerate(peers)
        ]
        first = await messenger.deliver_many(deliveries[:100])
        second = await messenger.deliver_many(deliveries[100:])
        outcomes = first + second
        assert [type(o) for o in outcomes].count(Sent) == 149
        assert isinstance(outcomes[5], Unreachable)
        assert len([c for c in server.requests if c.method == "messages.send"]) == 2
        # The same batch again (a worker that died before recording): nobody gets it twice.
        await messenger.deliver_many(deliveries[:100])
        assert len(server.sent) == 149
        assert all(len(server.messages_to(peer)) == 1 for peer in peers if peer != 7405)
        await side.close()
