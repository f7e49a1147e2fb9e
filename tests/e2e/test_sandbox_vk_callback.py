"""Self-tests of the VK sandbox's Callback API delivery: anything but a 200 "ok" is retried (with
X-Retry-Counter) up to VK's count and then given up, timeouts and resets too; forced duplicates and
raw events (Callback API and Long Poll) for the fault and fuzz suites."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from vkbottle import API

from bot.sandbox.pusher import PushPolicy
from bot.sandbox.vk import FakeVkServer
from tests.harness.receiver import HANG, RESET, Receiver, status

USER = 7001
SECRET = "callbacksecret42"
FAST = PushPolicy(timeout=0.5, backoff=0.01, max_backoff=0.05, max_attempts=6)


@pytest.fixture
async def server() -> AsyncIterator[FakeVkServer]:
    async with FakeVkServer() as srv:
        srv.callback_policy = FAST
        yield srv


def event_ids(receiver: Receiver) -> list[str]:
    return [str(body["event_id"]) for body in receiver.bodies()]


async def test_anything_but_ok_is_retried_with_a_retry_counter(server: FakeVkServer) -> None:
    async with Receiver(status(500), status(200, "not ok"), HANG, RESET) as receiver:
        server.use_callback(receiver.url, SECRET)
        event = await server.user(USER).send_text("Нет воды")
        # The scripted action returned after the first answer (the 500); the rest run behind.
        assert server.callback_responses[0] == (500, "")
        await server.wait_acknowledged(timeout=10)
    delivery = server.callback_delivery(event["event_id"])
    assert delivery.statuses == [500, 200, 0, 0, 200] and delivery.acknowledged
    assert [a.accepted for a in delivery.attempts] == [False, False, False, False, True]
    assert event_ids(receiver) == [event["event_id"]] * 5
    assert [r.headers.get("X-Retry-Counter") for r in receiver.received] == [None, "1", "2", "3", "4"]
    first = receiver.bodies()[0]
    assert first["secret"] == SECRET and first["type"] == "message_new" and first["v"] == "5.199"
    assert first["group_id"] == server.group_id and first["object"]["message"]["text"] == "Нет воды"
    assert [status for status, _ in server.callback_responses] == [500, 200, 0, 0, 200]


async def test_an_event_is_given_up_after_the_last_retry(server: FakeVkServer) -> None:
    server.callback_policy = PushPolicy(timeout=0.5, backoff=0.01, max_backoff=0.02, max_attempts=3)
    async with Receiver(default=status(503)) as receiver:
        server.use_callback(receiver.url, SECRET)
        event = await server.user(USER).send_text("никто не слышит")
        with pytest.raises(AssertionError, match=r"VK gave up on events after 3 POSTs: .*503, 503, 503"):
            await server.wait_acknowledged(timeout=10)
    assert server.callback_delivery(event["event_id"]).state == "given up"
    assert len(receiver.received) == 3


async def test_a_refused_connection_is_retried_until_the_bot_listens(
    server: FakeVkServer, unused_tcp_port: int
) -> None:
    server.use_callback(f"http://127.0.0.1:{unused_tcp_port}/hook", SECRET, await_first_attempt=False)
    event = server.push_event("message_typing_state", {"state": "typing", "from_id": USER, "to_id": -1})
    refused = await server.wait_attempts(event["event_id"], 2)
    assert refused.statuses[:2] == [0, 0]
    async with Receiver(port=unused_tcp_port) as receiver:
        await server.wait_acknowledged(timeout=10)
    assert event_ids(receiver) == [event["event_id"]]


async def test_without_waiting_the_action_returns_at_once(server: FakeVkServer) -> None:
    server.callback_policy = PushPolicy(timeout=1.0, backoff=0.01, max_backoff=0.05)
    async with Receiver(HANG) as receiver:
        server.use_callback(receiver.url, SECRET, await_first_attempt=False)
        event = await server.user(USER).send_text("сразу")
        assert server.callback_delivery(event["event_id"]).tries == 0
        await receiver.wait_received(1)
        with pytest.raises(AssertionError, match="not acknowledged within"):
            await server.wait_acknowledged(timeout=0.2)
        await server.wait_acknowledged(timeout=10)
    assert server.callback_delivery(event["event_id"]).statuses == [0, 200]


async def test_one_event_resent_at_once_to_two_processes(server: FakeVkServer) -> None:
    async with Receiver() as original:
        server.use_callback(original.url, SECRET)
        event = await server.user(USER).send_text("дубль")
    async with Receiver(hold=3) as first, Receiver(hold=2) as second:
        attempts = await server.resend_event(event["event_id"], times=5, urls=[first.url, second.url])
    assert [(a.status, a.body) for a in attempts] == [(200, "ok")] * 5
    assert event_ids(first) == [event["event_id"]] * 3 and event_ids(second) == [event["event_id"]] * 2
    assert first.max_in_flight == 3 and second.max_in_flight == 2
    assert {r.body["secret"] for r in [*first.received, *second.received]} == {SECRET}
    delivery = server.callback_delivery(event["event_id"])
    assert delivery.statuses == [200] and sum(a.duplicate for a in delivery.attempts) == 5


async def test_raw_events_by_callback_and_by_long_poll(server: FakeVkServer) -> None:
    async with Receiver() as receiver:
        server.use_callback(receiver.url, SECRET)
        key = server.push_raw_event({"type": "message_new", "object": None, "event_id": "raw-evt"})
        forged = server.push_raw_event({"type": 5, "secret": "forged"})
        server.push_raw_event("not an event")
        await server.wait_acknowledged(timeout=10)
    assert (key, forged) == ("raw-evt", "raw-1")
    assert receiver.bodies() == [
        {"type": "message_new", "object": None, "event_id": "raw-evt", "secret": SECRET},
        {"type": 5, "secret": "forged"},
        "not an event",
    ]

    server.use_long_poll()
    api = API(server.token)
    api.API_URL = server.base_url
    try:
        lp = await api.groups.get_long_poll_server(group_id=server.group_id)
    finally:
        await api.http_client.close()
    server.push_raw_event({"type": "message_new", "object": {"message": {"text": 1}}})
    async with aiohttp.ClientSession() as session:
        query = {"act": "a_check", "key": str(lp.key), "ts": str(lp.ts), "wait": "0"}
        async with session.get(lp.server, params=query) as response:
            batch = await response.json(content_type=None)
        assert batch["updates"] == [{"type": "message_new", "object": {"message": {"text": 1}}}]
        with pytest.raises(AssertionError, match="1 long-poll events not fetched"):
            await server.wait_acknowledged(timeout=0.1)
        async with session.get(lp.server, params={**query, "ts": batch["ts"]}) as response:
            assert (await response.json(content_type=None))["updates"] == []
    await server.wait_acknowledged(timeout=1)


async def test_events_pending_when_the_callback_is_removed_go_to_long_poll(server: FakeVkServer) -> None:
    server.use_callback("https://bot.example.org/webhook/vk", SECRET, await_first_attempt=False)
    event = server.push_event("message_typing_state", {"state": "typing", "from_id": USER, "to_id": -1})
    refused = await server.wait_attempts(event["event_id"], 1)
    assert "not a loopback address" in refused.attempts[0].body
    server.use_long_poll()
    delivery = await server.wait_attempts(event["event_id"], 99)
    assert delivery.state == "handed back"
    with pytest.raises(AssertionError, match="1 long-poll events not fetched"):
        await server.wait_acknowledged(timeout=0.1)
