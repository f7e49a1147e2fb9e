"""Self-tests of the Telegram sandbox's webhook delivery: redelivered until a 2xx like Telegram does,
in order per chat, within max_connections, without blocking the scripted user; forced duplicates
and raw updates for the fault and fuzz suites. The bot side is a scripted endpoint, or the real
aiogram Dispatcher and Bot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from bot.sandbox.pusher import PushPolicy
from bot.sandbox.telegram import FakeTelegramServer
from tests.harness.receiver import HANG, RESET, Receiver, status
from tests.harness.telegram import make_bot

USER_ID = 1001
SECRET = "s3cret_token-1"
FAST = PushPolicy(timeout=0.5, backoff=0.01, max_backoff=0.05)


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as srv:
        srv.webhook_policy = FAST
        yield srv


def update_ids(receiver: Receiver) -> list[int]:
    return [int(body["update_id"]) for body in receiver.bodies()]


async def test_refusals_timeouts_and_resets_are_redelivered_with_the_same_update_id(
    server: FakeTelegramServer,
) -> None:
    user = server.user(USER_ID)
    async with Receiver(status(503), HANG, RESET, status(500)) as receiver:
        server.deliver_via_webhook(receiver.url, SECRET)
        update_id = await user.send_text("Нет света")
        await server.wait_acknowledged(timeout=10)
    delivery = server.webhook_delivery(update_id)
    assert delivery.acknowledged and delivery.statuses == [503, 0, 0, 500, 200]
    assert "no answer within 0.5 s" in delivery.attempts[1].body
    assert "Disconnected" in delivery.attempts[2].body
    assert update_ids(receiver) == [update_id] * 5
    assert {r.headers["X-Telegram-Bot-Api-Secret-Token"] for r in receiver.received} == {SECRET}
    assert receiver.bodies()[0]["message"]["text"] == "Нет света"


async def test_a_refused_connection_is_retried_until_the_bot_listens(
    server: FakeTelegramServer, unused_tcp_port: int
) -> None:
    user = server.user(USER_ID)
    server.deliver_via_webhook(f"http://127.0.0.1:{unused_tcp_port}/hook")
    update_id = await user.send_text("ау")
    refused = await server.wait_attempts(update_id, 2)
    assert refused.statuses[:2] == [0, 0] and "Connect" in refused.attempts[0].body
    async with Receiver(port=unused_tcp_port) as receiver:
        await server.wait_acknowledged(timeout=10)
    assert update_ids(receiver) == [update_id]


async def test_scripted_actions_do_not_wait_for_the_webhook_answer(server: FakeTelegramServer) -> None:
    user = server.user(USER_ID)
    async with Receiver(HANG) as receiver:
        server.webhook_policy = PushPolicy(timeout=1.0, backoff=0.01, max_backoff=0.05)
        server.deliver_via_webhook(receiver.url)
        update_id = await user.send_text("первое")
        # Returned while the POST still hangs.
        assert server.webhook_delivery(update_id).state in ("queued", "sending")
        await receiver.wait_received(1)
        assert receiver.in_flight == 1
        with pytest.raises(AssertionError, match=rf"{update_id} \(sending\): not posted yet"):
            await server.wait_acknowledged(timeout=0.2)
        server.webhook_policy = FAST
        await server.wait_acknowledged(timeout=10)


async def test_updates_of_one_chat_go_in_order_one_at_a_time(server: FakeTelegramServer) -> None:
    user = server.user(USER_ID)
    async with Receiver(status(502)) as receiver:
        server.deliver_via_webhook(receiver.url)
        ids = [await user.send_text(f"сообщение {n}") for n in range(3)]
        await server.wait_acknowledged(timeout=10)
    # The refused first one is redelivered before the later ones are sent at all.
    assert update_ids(receiver) == [ids[0], ids[0], ids[1], ids[2]]
    assert receiver.max_in_flight == 1


async def test_chats_go_side_by_side_within_max_connections(server: FakeTelegramServer) -> None:
    users = [server.user(2000 + n) for n in range(7)]
    async with Receiver(hold=3) as receiver:
        server.deliver_via_webhook(receiver.url, max_connections=3)
        for user in users:
            await user.send_text("привет")
        await server.wait_acknowledged(timeout=10)
    # Three were held until three were in flight together; never more than three.
    assert receiver.max_in_flight == 3 and server.webhook_peak_connections == 3
    assert len(receiver.received) == 7


async def test_an_update_delivered_again_at_once_to_two_processes(server: FakeTelegramServer) -> None:
    user = server.user(USER_ID)
    async with Receiver() as original:
        server.deliver_via_webhook(original.url, SECRET)
        update_id = await user.send_text("дубль")
        await server.wait_acknowledged(timeout=10)
    # Each process holds its copies until both are in flight: they were sent at once.
    async with Receiver(hold=2) as first, Receiver(hold=2) as second:
        attempts = await server.redeliver(update_id, times=4, urls=[first.url, second.url])
    assert [a.status for a in attempts] == [200, 200, 200, 200]
    assert [a.url for a in attempts] == [first.url, second.url] * 2
    assert update_ids(first) == [update_id, update_id] and update_ids(second) == [update_id, update_id]
    assert first.max_in_flight == 2 and second.max_in_flight == 2
    assert {r.headers["X-Telegram-Bot-Api-Secret-Token"] for r in second.received} == {SECRET}
    delivery = server.webhook_delivery(update_id)
    assert delivery.statuses == [200] and [a.duplicate for a in delivery.attempts] == [False, *[True] * 4]


async def test_giving_up_is_reported_with_the_attempts(server: FakeTelegramServer) -> None:
    server.webhook_policy = PushPolicy(timeout=0.5, backoff=0.01, max_backoff=0.02, max_attempts=3)
    user = server.user(USER_ID)
    async with Receiver(default=status(503, "down")) as receiver:
        server.deliver_via_webhook(receiver.url)
        update_id = await user.send_text("никто не слышит")
        with pytest.raises(
            AssertionError, match=rf"gave up on updates: {update_id} \(given up\): 503, 503, 503"
        ):
            await server.wait_acknowledged(timeout=10)
    assert server.webhook_delivery(update_id).tries == 3 == len(receiver.received)


async def test_raw_updates_go_as_given_by_webhook_and_by_get_updates(server: FakeTelegramServer) -> None:
    async with Receiver() as receiver:
        server.deliver_via_webhook(receiver.url)
        server.push_raw_update({"update_id": "seven", "message": None}, keep_update_id=True)
        tracked = server.push_raw_update({"message": {"text": 5}})
        server.push_raw_update([1, "not an update"])
        await server.wait_acknowledged(timeout=10)
    assert receiver.bodies() == [
        {"update_id": "seven", "message": None},
        {"message": {"text": 5}, "update_id": tracked},
        [1, "not an update"],
    ]

    server.deliver_via_webhook(None)
    polled = server.push_raw_update({"edited_message": {"chat": "x"}})
    async with aiohttp.ClientSession() as session:
        url = f"{server.base_url}/bot{server.token}/getUpdates"
        async with session.post(url, json={"timeout": 0}) as response:
            body = await response.json()
        assert body == {"ok": True, "result": [{"edited_message": {"chat": "x"}, "update_id": polled}]}
        async with session.post(url, json={"offset": polled + 1, "timeout": 0}) as response:
            assert (await response.json())["result"] == []
    await server.wait_acknowledged(timeout=1)


async def test_the_bots_own_set_webhook_is_used_and_never_left_loopback(
    server: FakeTelegramServer,
) -> None:
    bot = make_bot(server)
    user = server.user(USER_ID)
    try:
        await bot.set_webhook("https://bot.example.org/webhook", secret_token=SECRET, max_connections=2)
        update_id = await user.send_text("куда?")
        # The registered https address is not on this machine: recorded, never connected to.
        refused = await server.wait_attempts(update_id, 2)
        assert refused.statuses[:2] == [0, 0] and "not a loopback address" in refused.attempts[0].body
        async with Receiver() as receiver:
            server.deliver_via_webhook(receiver.url)  # where the bot really listens
            await server.wait_acknowledged(timeout=10)
        assert update_ids(receiver) == [update_id]
        assert receiver.received[0].headers["X-Telegram-Bot-Api-Secret-Token"] == SECRET

        # deleteWebhook hands what is still pending back to getUpdates.
        server.deliver_via_webhook(None)
        pending = await user.send_text("потом")
        await server.wait_attempts(pending, 1)
        await bot.delete_webhook()
        updates = await bot.get_updates(timeout=1)
        assert [u.update_id for u in updates] == [pending]
        assert updates[0].message is not None and updates[0].message.text == "потом"
        assert server.webhook_delivery(pending).state == "handed back"
    finally:
        await bot.session.close()


def failing_first(times: int) -> Middleware:
    """Answer 503 to the first ``times`` requests (the bot's database was away), then serve."""
    left = [times]

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if left[0] > 0:
            left[0] -= 1
            return web.Response(status=503, text="queue unavailable")
        return await handler(request)

    return middleware


async def test_replies_wait_for_a_redelivered_update_through_aiogram(server: FakeTelegramServer) -> None:
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message, bot: Bot) -> None:
        await bot.send_message(message.chat.id, f"эхо: {message.text}")

    bot = make_bot(server)
    app = web.Application(middlewares=[failing_first(2)])
    SimpleRequestHandler(dp, bot, handle_in_background=False, secret_token=SECRET).register(app, "/wh")
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        server.deliver_via_webhook(f"http://127.0.0.1:{runner.addresses[0][1]}/wh", SECRET)
        user = server.user(USER_ID)
        update_id = await user.send_text("ping")
        (reply,) = await user.replies(settle=0.05)
        assert reply.text == "эхо: ping"
        assert server.webhook_delivery(update_id).statuses == [503, 503, 200]
        # A forged secret is refused by aiogram and recorded as such.
        (forged,) = await server.redeliver(update_id, times=1, secret="wrong")
        assert forged.status == 401 and not forged.accepted
    finally:
        await runner.cleanup()
        await bot.session.close()
