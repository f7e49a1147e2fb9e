"""Self-tests of the VK sandbox, driven by the real vkbottle API, uploader, polling and models."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from vkbottle import API, PhotoMessageUploader, VKAPIError
from vkbottle.bot import Bot, Message, MessageEvent
from vkbottle.polling import BotPolling
from vkbottle_types.events import GroupEventType

from bot.sandbox.vk import FakeVkServer, tiny_jpeg

USER = 7001


@pytest.fixture
async def server() -> AsyncIterator[FakeVkServer]:
    """A started fake VK server."""
    async with FakeVkServer() as srv:
        yield srv


@pytest.fixture
async def api(server: FakeVkServer) -> AsyncIterator[API]:
    """A real vkbottle API pointed at the fake server."""
    client = API(server.token)
    client.API_URL = server.base_url
    yield client
    await client.http_client.close()


def keyboard(rows: list[list[dict[str, Any]]], *, inline: bool = False, one_time: bool = False) -> str:
    board: dict[str, Any] = {"inline": inline, "buttons": rows}
    if not inline:
        board["one_time"] = one_time
    return json.dumps(board, ensure_ascii=False)


def text_button(label: str, payload: dict[str, Any] | None = None, kind: str = "text") -> dict[str, Any]:
    action: dict[str, Any] = {"type": kind, "label": label}
    if payload is not None:
        action["payload"] = json.dumps(payload)
    return {"action": action, "color": "secondary"}


LOCATION = {"action": {"type": "location", "payload": json.dumps({"ask": "location"})}}


async def test_send_deduplicates_by_random_id_and_validates(server: FakeVkServer, api: API) -> None:
    first = await api.messages.send(peer_id=USER, random_id=42, message="Привет")
    again = await api.messages.send(peer_id=USER, random_id=42, message="Привет ещё раз")
    assert isinstance(first, int) and again == first
    other = await api.messages.send(peer_id=USER, random_id=43, message="Второе")
    assert other != first
    # random_id 0 turns the de-duplication off.
    await api.messages.send(peer_id=USER, random_id=0, message="a")
    await api.messages.send(peer_id=USER, random_id=0, message="a")
    assert [m.text for m in server.messages_to(USER)] == ["Привет", "Второе", "a", "a"]

    with pytest.raises(VKAPIError[100]) as missing:
        await api.messages.send(peer_id=USER, message="без random_id")
    assert "random_id" in str(missing.value)
    with pytest.raises(VKAPIError[100]):
        await api.messages.send(peer_id=USER, random_id=44, message="   ")
    with pytest.raises(VKAPIError[914]):
        await api.messages.send(peer_id=USER, random_id=45, message="я" * 9001)
    with pytest.raises(VKAPIError[100]):
        await api.messages.send(random_id=46, message="кому?")

    wide = keyboard([[text_button(str(i)) for i in range(6)]], inline=True)
    long_label = keyboard([[text_button("Д" * 41)]])
    located_inline = keyboard([[LOCATION]], inline=True)
    location_shared = keyboard([[LOCATION, text_button("Отмена")]])
    one_time_inline = json.dumps({"inline": True, "one_time": True, "buttons": [[text_button("x")]]})
    too_many_inline = keyboard([[text_button(f"{r}{c}") for c in range(2)] for r in range(6)], inline=True)
    bad_payload = keyboard(
        [[{"action": {"type": "callback", "label": "x", "payload": "{oops"}}]], inline=True
    )
    long_payload = keyboard([[text_button("x", {"b": "y" * 260})]])
    invalid = (wide, long_label, located_inline, location_shared, one_time_inline, too_many_inline)
    for index, bad in enumerate((*invalid, bad_payload, long_payload, "not json")):
        with pytest.raises(VKAPIError[911]):
            await api.messages.send(peer_id=USER, random_id=100 + index, message="Клавиатура", keyboard=bad)
    assert len(server.messages_to(USER)) == 4
    assert [c.error for c in server.calls_of("messages.send")].count(911) == 9


async def test_blocked_peers_peer_ids_and_injected_failures(server: FakeVkServer, api: API) -> None:
    server.block(7002)
    with pytest.raises(VKAPIError[901]):
        await api.messages.send(peer_id=7002, random_id=1, message="Не дойдёт")
    items = await api.messages.send(peer_ids=[7003, 7004], random_id=2, message="Всем")
    assert isinstance(items, list) and [i.peer_id for i in items] == [7003, 7004]
    assert all(i.message_id for i in items)
    # A blocked peer fails alone inside a peer_ids send (raw answer: vkbottle's typed model wants
    # a message_id in every item).
    raw = (await api.request("messages.send", {"peer_ids": "7003,7002", "random_id": 3, "message": "x"}))[
        "response"
    ]
    assert raw[0]["peer_id"] == 7003 and raw[0]["message_id"] > 0
    assert raw[1]["peer_id"] == 7002 and raw[1]["error"]["code"] == 901
    with pytest.raises(VKAPIError[100]):
        await api.messages.send(peer_ids=list(range(1, 102)), random_id=4, message="x")
    assert server.messages_to(7002) == []

    server.fail_next("messages.send", 9, peer_id=7005)
    await api.messages.send(peer_id=7006, random_id=5, message="другому можно")
    with pytest.raises(VKAPIError[9]):
        await api.messages.send(peer_id=7005, random_id=6, message="flood")
    await api.messages.send(peer_id=7005, random_id=6, message="flood")
    assert [m.text for m in server.messages_to(7005)] == ["flood"]
    server.fail_next("groups.getById", 10)
    with pytest.raises(VKAPIError[10]):
        await api.groups.get_by_id()


async def test_photo_upload_and_attachments(server: FakeVkServer, api: API) -> None:
    data = tiny_jpeg()
    attachment = await PhotoMessageUploader(api).upload(file_source=data, peer_id=USER)
    assert attachment.startswith(f"photo-{server.group_id}_")
    await api.messages.send(peer_id=USER, random_id=1, message="Фото", attachment=attachment)
    assert server.uploaded == [data]
    assert server.messages_to(USER)[0].attachments == [attachment]
    with pytest.raises(VKAPIError[100]):
        await api.messages.send(peer_id=USER, random_id=2, attachment=f"photo-{server.group_id}_1")
    with pytest.raises(VKAPIError[100]):
        await api.messages.send(peer_id=USER, random_id=3, attachment="doc1_2")

    upload = (await api.request("photos.getMessagesUploadServer", {"peer_id": USER}))["response"]
    async with aiohttp.ClientSession() as session:
        form = aiohttp.FormData()
        form.add_field("other", "x")
        async with session.post(upload["upload_url"], data=form) as response:
            assert response.status == 200
            assert (await response.json())["error"].startswith("ERR_UPLOAD_FILE_NOT_UPLOADED")
        async with session.get(server.photo_url("anything")) as response:
            assert response.content_type == "image/jpeg" and (await response.read())[:2] == b"\xff\xd8"
    with pytest.raises(VKAPIError[100]):
        await api.request("photos.saveMessagesPhoto", {"photo": "[]", "server": 1, "hash": "x"})


async def test_long_poll_with_vkbottle_and_typed_models(
    server: FakeVkServer, api: API, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # BotPolling keeps its position in ./.vkbottle
    polling = BotPolling(api, wait=2)
    stream = polling.listen()
    first = asyncio.ensure_future(stream.__anext__())
    for _ in range(100):
        if server.calls_of("groups.getLongPollServer"):
            break
        await asyncio.sleep(0.02)
    citizen = server.user(USER, lang_id=3)
    await citizen.send_text("Нет света", payload={"b": "x"})
    batch = await asyncio.wait_for(first, 5)
    polling.stop()
    await stream.aclose()
    [event] = batch["updates"]
    assert event["type"] == "message_new" and event["group_id"] == server.group_id

    seen: list[Any] = []
    bot = Bot(api=api)

    @bot.on.message()
    async def on_message(message: Message) -> None:
        seen.append(message)
        await message.answer("Принято")

    @bot.on.raw_event(GroupEventType.MESSAGE_EVENT, dataclass=MessageEvent)
    async def on_press(event: MessageEvent) -> None:
        seen.append(event)
        await event.show_snackbar("Готово")

    await bot.process_event(event, api)
    message = seen[-1]
    assert isinstance(message, Message) and message.text == "Нет света" and message.from_id == USER
    assert message.client_info is not None and message.client_info.lang_id == 3
    assert json.loads(message.payload or "{}") == {"b": "x"}
    assert (await citizen.replies())[0].text == "Принято"

    await bot.process_event(await citizen.send_photos(3, "яма"), api)
    photos = seen[-1]
    assert isinstance(photos, Message) and photos.attachments is not None and len(photos.attachments) == 3
    photo = photos.attachments[0].photo
    assert photo is not None and photo.owner_id == USER and photo.sizes and photo.sizes[-1].url
    async with aiohttp.ClientSession() as session, session.get(photo.sizes[-1].url) as response:
        assert (await response.read()).startswith(b"\xff\xd8")

    await bot.process_event(await citizen.send_location(56.84, 60.61), api)
    located = seen[-1]
    assert isinstance(located, Message) and located.geo is not None and located.geo.coordinates is not None
    assert located.geo.coordinates.latitude == 56.84 and located.geo.place is not None
    assert located.geo.place.city == "Екатеринбург"
    for unsupported in (await citizen.send_sticker(), await citizen.send_voice()):
        await bot.process_event(unsupported, api)
        assert isinstance(seen[-1], Message) and seen[-1].attachments

    await api.messages.send(
        peer_id=USER,
        random_id=9,
        message="Решена?",
        keyboard=keyboard([[text_button("Да", {"b": "yes"}, kind="callback")]], inline=True),
    )
    pressed = await citizen.press("Да")
    assert server.unanswered_events() == [pressed["object"]["event_id"]]
    await bot.process_event(pressed, api)
    event_obj = seen[-1]
    assert isinstance(event_obj, MessageEvent) and event_obj.payload == {"b": "yes"}
    assert event_obj.user_id == USER and event_obj.conversation_message_id
    assert server.unanswered_events() == []
    assert server.event_answer(pressed["object"]["event_id"]) == {"type": "show_snackbar", "text": "Готово"}


async def test_long_poll_protocol(server: FakeVkServer) -> None:
    citizen = server.user(USER)
    async with aiohttp.ClientSession() as session:
        lp = await _api_call(session, server, "groups.getLongPollServer", group_id=server.group_id)
        ts = int(lp["ts"])

        async def check(**params: Any) -> dict[str, Any]:
            query = {"act": "a_check", "key": lp["key"], "ts": ts, "wait": 1, **params}
            async with session.get(lp["server"], params={k: str(v) for k, v in query.items()}) as response:
                return dict(await response.json())

        assert await check(key="wrong") == {"failed": 2}
        assert await check(ts=ts + 5) == {"failed": 1, "ts": str(ts)}
        assert await check(ts="x") == {"failed": 1, "ts": str(ts)}
        assert await check(wait=0) == {"ts": str(ts), "updates": []}
        waiting = asyncio.ensure_future(check(wait=5))
        await asyncio.sleep(0.1)
        await citizen.send_text("один")
        woke = await asyncio.wait_for(waiting, 2)
        assert [u["object"]["message"]["text"] for u in woke["updates"]] == ["один"]
        await citizen.send_text("два")
        again = await check()
        assert [u["object"]["message"]["text"] for u in again["updates"]] == ["один", "два"]
        assert again["ts"] == str(ts + 2)


async def _api_call(session: aiohttp.ClientSession, server: FakeVkServer, method: str, **params: Any) -> Any:
    data = {"access_token": server.token, "v": "5.199", **{k: str(v) for k, v in params.items()}}
    async with session.post(server.base_url + method, data=data) as response:
        body = await response.json()
    return body.get("response", body)


async def test_auth_version_unknown_method_and_rate(server: FakeVkServer, api: API) -> None:
    wrong = API("vk1.a.wrong")
    wrong.API_URL = server.base_url
    with pytest.raises(VKAPIError[5]):
        await wrong.messages.send(peer_id=USER, random_id=1, message="x")
    async with aiohttp.ClientSession() as session:
        async with session.post(
            server.base_url + "groups.getById", data={"access_token": server.token}
        ) as response:
            assert (await response.json())["error"]["error_code"] == 8
        unknown = await _api_call(session, server, "messages.fly")
        assert unknown["error"]["error_code"] == 3

    limited = FakeVkServer(rate_limit=5)
    async with limited:
        fast = API(limited.token)
        fast.API_URL = limited.base_url
        outcomes = await asyncio.gather(
            *(fast.messages.send(peer_id=USER, random_id=i + 1, message=f"{i}") for i in range(8)),
            return_exceptions=True,
        )
        too_fast = [o for o in outcomes if isinstance(o, VKAPIError)]
        assert len(too_fast) == 3 and all(e.code == 6 for e in too_fast)
        assert len(limited.sent) == 5 and limited.max_rps == 8
        await asyncio.sleep(1.05)
        await fast.messages.send(peer_id=USER, random_id=100, message="after a second")
        assert len(limited.sent) == 6
    assert server.max_rps <= 3


async def test_keyboards_presses_and_replies(server: FakeVkServer, api: API) -> None:
    citizen = server.user(USER)
    await api.messages.send(
        peer_id=USER,
        random_id=1,
        message="Где это?",
        keyboard=keyboard([[LOCATION], [text_button("Пропустить", {"b": "skip"})]], one_time=True),
    )
    await api.messages.send(
        peer_id=USER,
        random_id=2,
        message="Выберите",
        keyboard=keyboard([[text_button("ЖКХ: отопление", {"b": "heat"}, kind="callback")]], inline=True),
    )
    replies = await citizen.replies(timeout=1)
    assert [m.text for m in replies] == ["Где это?", "Выберите"]
    assert replies[0].labels() == ["Пропустить"] and not replies[0].inline and replies[1].inline
    assert citizen.keyboard_labels() == ["Пропустить"]
    assert await citizen.replies(timeout=0.2) == []

    with pytest.raises(AssertionError, match="Пропустить"):
        await citizen.press("Нет такой")
    pressed = await citizen.press("ЖКХ", contains=True)
    assert pressed["type"] == "message_event" and pressed["object"]["payload"] == {"b": "heat"}
    assert pressed["object"]["conversation_message_id"] == replies[1].conversation_message_id

    geo = await citizen.tap_location(56.84, 60.61)
    message = geo["object"]["message"]
    assert message["geo"]["coordinates"] == {"latitude": 56.84, "longitude": 60.61}
    assert json.loads(message["payload"]) == {"ask": "location"}
    assert citizen.keyboard_labels() == []  # one_time: used once, gone
    with pytest.raises(AssertionError):
        await citizen.tap_location(56.84, 60.61)

    await api.messages.send(
        peer_id=USER, random_id=3, message="Меню", keyboard=keyboard([[text_button("Помощь", {"b": "help"})]])
    )
    typed = await citizen.press("Помощь")
    assert typed["object"]["message"]["text"] == "Помощь"
    assert json.loads(typed["object"]["message"]["payload"]) == {"b": "help"}
    assert citizen.keyboard_labels() == ["Помощь"]  # not one_time: stays
    await api.messages.send(
        peer_id=USER, random_id=4, message="Спасибо", keyboard=json.dumps({"buttons": [], "one_time": True})
    )
    assert citizen.keyboard_labels() == []

    forged = await citizen.press_payload({"evil": "1"})
    assert forged["object"]["payload"] == {"evil": "1"}
    assert sorted(server.unanswered_events()) == sorted(
        [pressed["object"]["event_id"], forged["object"]["event_id"]]
    )
    with pytest.raises(VKAPIError[100]):
        await api.messages.send_message_event_answer(event_id="nope", user_id=USER, peer_id=USER)


async def test_callback_delivery(server: FakeVkServer, unused_tcp_port: int) -> None:
    received: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.Response:
        event = await request.json()
        received.append(event)
        if event.get("secret") != "s3cret":
            return web.Response(status=403, text="wrong secret")
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/vk", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    try:
        server.use_callback(f"http://127.0.0.1:{unused_tcp_port}/vk", "s3cret")
        event = await server.user(USER).send_command("help")
        assert server.callback_responses == [(200, "ok")]
        assert received[0]["object"]["message"]["text"] == "/help" and received[0]["secret"] == "s3cret"
        assert "secret" not in event
        assert await server.post_callback(event, secret=None) == (403, "wrong secret")
        assert "secret" not in received[-1]
        server.push_event("message_typing_state", {"state": "typing", "from_id": USER, "to_id": -1})
        await server.wait_acknowledged(timeout=10)
        assert len(received) == 3 and server.callback_responses[-1] == (200, "ok")
    finally:
        await runner.cleanup()
