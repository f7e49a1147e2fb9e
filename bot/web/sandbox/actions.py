"""What the page's buttons do: every action goes through the local messengers' drivers, as if a
person used the messenger (a citizen's phone, the body's seeded operator, the comms member), so
the real bot sees exactly the updates Telegram or VK would send."""

from __future__ import annotations

import asyncio
import base64
import binascii
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

from bot.sandbox.telegram import FakeUser
from bot.sandbox.vk import FakeVkUser
from bot.sandbox.world import BodyChat, SandboxCitizen, SandboxWorld
from bot.web.sandbox.pictures import PICTURES, picture
from bot.web.sandbox.snapshot import GENERAL_TOPIC

# An upload travels as base64 in JSON, which must stay under aiohttp's default 1 MiB request body.
MAX_UPLOAD_BYTES = 700 * 1024
MAX_TEXT = 4096
# How long a press waits for the bot's toast (answerCallbackQuery / a VK snackbar) to show it.
TOAST_SECONDS = 3.0
TOAST_POLL = 0.05
Json = dict[str, Any]
Action = Callable[[SandboxWorld, Json], Awaitable[Json]]


class ActionError(ValueError):
    """A request the page should not have sent (shown to the trainee as is)."""


def _text(body: Json, field: str = "text", limit: int = MAX_TEXT) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value.strip():
        raise ActionError(f"{field} is empty")
    return value[:limit]


def _number(body: Json, field: str) -> float:
    value = body.get(field)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ActionError(f"{field} must be a number")
    return float(value)


def _citizen(world: SandboxWorld, body: Json) -> SandboxCitizen:
    citizen = world.citizens.get(str(body.get("citizen", "")))
    if citizen is None:
        raise ActionError("no such citizen")
    return citizen


def _tg(citizen: SandboxCitizen) -> FakeUser | None:
    return citizen.telegram if citizen.platform == "tg" else None


def _vk(citizen: SandboxCitizen) -> FakeVkUser:
    assert citizen.vk is not None
    return citizen.vk


def _body(world: SandboxWorld, body: Json) -> BodyChat:
    chat = world.body_chats.get(str(body.get("body", "")))
    if chat is None:
        raise ActionError("no such body")
    return chat


def _message_id(body: Json) -> int:
    value = body.get("message")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ActionError("message must be a message id")
    return value


async def _toast(
    world: SandboxWorld, *, telegram_update: int | None = None, vk_event: str | None = None
) -> Json:
    """What the messenger shows after a button press: the bot's toast or alert, if it sends one
    within a moment (a person sees it pop up over the chat)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TOAST_SECONDS
    while loop.time() < deadline:
        if telegram_update is not None:
            answer = world.telegram.callback_answer(telegram_update)
            if answer is not None:
                text = str(answer.get("text") or "")
                return {"toast": text, "alert": bool(answer.get("show_alert"))} if text else {}
        elif vk_event is not None:
            data = world.vk.event_answer(vk_event)
            if data is not None:
                return {"toast": str(data.get("text", ""))} if data.get("type") == "show_snackbar" else {}
        else:
            return {}
        await asyncio.sleep(TOAST_POLL)
    return {}


# ------------------------------------------------------------------------- the citizen's phone


async def new_citizen(world: SandboxWorld, body: Json) -> Json:
    """A new citizen on Telegram or VK; the page opens their phone."""
    try:
        citizen = world.new_citizen(
            str(body.get("platform")), str(body.get("name") or ""), str(body.get("language"))
        )
    except ValueError as error:
        raise ActionError(str(error)) from None
    return {"citizen": citizen.key}


async def citizen_text(world: SandboxWorld, body: Json) -> Json:
    """The citizen types a message (a leading / makes it a command)."""
    citizen, text = _citizen(world, body), _text(body)
    user = _tg(citizen)
    await (user.send_text(text) if user else _vk(citizen).send_text(text))
    return {}


async def citizen_press(world: SandboxWorld, body: Json) -> Json:
    """The citizen presses an inline button of one bot message (Telegram) or a keyboard button."""
    citizen, label = _citizen(world, body), _text(body, "label")
    user = _tg(citizen)
    if user is None:
        # VK sends the label of a text button and the payload of a callback one; the driver finds
        # the newest button with that label, which is the one a person sees and taps.
        try:
            event = await _vk(citizen).press(label)
        except AssertionError:
            raise ActionError("the button is gone") from None
        if event.get("type") != "message_event":
            return {}
        return await _toast(world, vk_event=str(event["object"]["event_id"]))
    message_id = _message_id(body)
    sent = next((m for m in user.messages() if m.message_id == message_id), None)
    data = sent.callback_data(label) if sent else None
    if data is None:
        raise ActionError("the button is gone")
    return await _toast(world, telegram_update=await user.press_data(data, message_id))


async def citizen_reply_button(world: SandboxWorld, body: Json) -> Json:
    """The citizen taps a reply-keyboard button (Telegram) or a text button of VK's keyboard."""
    citizen, label = _citizen(world, body), _text(body, "label")
    user = _tg(citizen)
    try:
        await (user.tap_reply_button(label) if user else _vk(citizen).press(label))
    except AssertionError:
        raise ActionError("the button is gone") from None
    return {}


async def citizen_location(world: SandboxWorld, body: Json) -> Json:
    """The citizen shares a point: through the keyboard's location button when one is shown (as a
    phone does), otherwise as an attached location."""
    citizen = _citizen(world, body)
    lat, lon = _number(body, "lat"), _number(body, "lon")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ActionError("no such place")
    user = _tg(citizen)
    if user is not None:
        button = next((b for row in user.reply_keyboard() for b in row if b.get("request_location")), None)
        if button is not None:
            await user.tap_reply_button(str(button["text"]), lat=lat, lon=lon)
        else:
            await user.send_location(lat, lon)
        return {}
    vk = _vk(citizen)
    keyboard = world.vk.keyboard_of(vk.user_id) or {}
    has_button = any(
        (b.get("action") or {}).get("type") == "location"
        for row in keyboard.get("buttons") or []
        for b in row
    )
    await (vk.tap_location(lat, lon) if has_button else vk.send_location(lat, lon))
    return {}


async def citizen_contact(world: SandboxWorld, body: Json) -> Json:
    """The citizen shares their phone number (VK has no such button: the number is typed)."""
    citizen, phone = _citizen(world, body), _text(body, "phone", 32)
    user = _tg(citizen)
    if user is None:
        await _vk(citizen).send_text(phone)
        return {}
    button = next((b for row in user.reply_keyboard() for b in row if b.get("request_contact")), None)
    if button is not None:
        await user.tap_reply_button(str(button["text"]), phone=phone)
    else:
        await user.send_contact(phone)
    return {}


_photo_ids = itertools.count(1)


def _photo_bytes(body: Json) -> bytes:
    name = body.get("picture")
    if isinstance(name, str) and name in PICTURES:
        return picture(name)
    upload = body.get("upload")
    if not isinstance(upload, str):
        raise ActionError("choose a picture or upload one")
    try:
        data = base64.b64decode(upload.split(",", 1)[-1], validate=True)
    except (binascii.Error, ValueError):
        raise ActionError("the upload is not base64") from None
    if not 0 < len(data) <= MAX_UPLOAD_BYTES:
        raise ActionError("the upload is empty or too large")
    if not data.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF8")):
        raise ActionError("only JPEG, PNG or GIF pictures")
    return data


async def citizen_photo(world: SandboxWorld, body: Json) -> Json:
    """The citizen sends a photo: one of the page's pictures, or a file they uploaded."""
    citizen, data = _citizen(world, body), _photo_bytes(body)
    caption = body.get("caption") if isinstance(body.get("caption"), str) else None
    user = _tg(citizen)
    if user is None:
        await _vk(citizen).send_photo_data(data, caption or "")
        return {}
    file_id = f"AgACAgIAAxkBSandboxPhoto{user.id}x{next(_photo_ids):05d}"
    world.telegram.register_file(file_id, data, kind="photo")
    await user.send_photo(file_id, caption=caption or None)
    return {}


# ------------------------------------------------------------------------- the operator chat


async def operator_text(world: SandboxWorld, body: Json) -> Json:
    """The body's operator writes in a topic (a leading ! makes it an internal note)."""
    chat, text = _body(world, body), _text(body)
    thread = body.get("thread")
    if thread == GENERAL_TOPIC:
        thread = None
    if thread is not None and (not isinstance(thread, int) or thread not in chat.chat.topics()):
        raise ActionError("no such topic")
    await chat.chat.send_text(chat.operator, text, message_thread_id=thread)
    return {}


async def operator_press(world: SandboxWorld, body: Json) -> Json:
    """The body's operator presses a button of one bot message in the forum."""
    chat, label, message_id = _body(world, body), _text(body, "label"), _message_id(body)
    sent = next((m for m in chat.chat.messages() if m.message_id == message_id), None)
    data = sent.callback_data(label) if sent else None
    if sent is None or data is None:
        raise ActionError("the button is gone")
    return await _toast(world, telegram_update=await chat.chat.press_data(chat.operator, data, sent.raw))


# ------------------------------------------------------------------------- the comms chat


async def comms_text(world: SandboxWorld, body: Json) -> Json:
    """The trainee's comms member writes in the comms group (/notice starts the composer)."""
    await world.comms_chat.send_text(world.comms, _text(body))
    return {}


async def comms_press(world: SandboxWorld, body: Json) -> Json:
    """The trainee's comms member presses a button in the comms group; ``as`` = "approver" lets
    the second member press it (a notice needs four eyes)."""
    label, message_id = _text(body, "label"), _message_id(body)
    member = world.approver if body.get("as") == "approver" else world.comms
    sent = next((m for m in world.comms_chat.messages() if m.message_id == message_id), None)
    data = sent.callback_data(label) if sent else None
    if sent is None or data is None:
        raise ActionError("the button is gone")
    return await _toast(world, telegram_update=await world.comms_chat.press_data(member, data, sent.raw))


# ------------------------------------------------------------------------- the clock


async def clock_speed(world: SandboxWorld, body: Json) -> Json:
    """Run the scenario clock at another speed (×1…×3600)."""
    try:
        world.clock.set_speed(_number(body, "speed"))
    except ValueError as error:
        raise ActionError(str(error)) from None
    return {}


ACTIONS: dict[str, Action] = {
    "citizen/new": new_citizen,
    "citizen/text": citizen_text,
    "citizen/press": citizen_press,
    "citizen/reply": citizen_reply_button,
    "citizen/location": citizen_location,
    "citizen/contact": citizen_contact,
    "citizen/photo": citizen_photo,
    "operator/text": operator_text,
    "operator/press": operator_press,
    "comms/text": comms_text,
    "comms/press": comms_press,
    "clock/speed": clock_speed,
}
