"""What the page's three panes show, as JSON: chat windows built only from what the local
messengers record (the users' own messages and the bot's), the way each messenger shows them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from bot.sandbox.world import BodyChat, SandboxCitizen, SandboxWorld

ZONE = ZoneInfo("Asia/Yekaterinburg")
BOT_AUTHOR = "bot"
Json = dict[str, Any]


def media_url(platform: str, ref: str) -> str:
    """Where the page loads a photo's bytes from (served by the page, see page.py)."""
    return f"/sandbox/media/{platform}/{ref}"


def _inline_rows(markup: Any) -> list[list[str]]:
    if not isinstance(markup, dict) or not isinstance(markup.get("inline_keyboard"), list):
        return []
    return [
        [str(b.get("text", "")) for b in row if isinstance(b, dict) and "callback_data" in b]
        for row in markup["inline_keyboard"]
        if isinstance(row, list)
    ]


def telegram_message(world: SandboxWorld, raw: Json, me: int) -> Json | None:
    """One Telegram message as a bubble; None for service messages the chat window hides."""
    if "forum_topic_created" in raw:
        return None
    sender = raw.get("from") or {}
    is_bot = bool(sender.get("is_bot")) and sender.get("id") == world.telegram.bot_id
    photos = []
    if raw.get("photo"):
        file_id = str(raw["photo"][-1]["file_id"])
        photos.append(media_url("tg", file_id) if world.telegram.file_data(file_id) else "")
    location = raw.get("location")
    contact = raw.get("contact")
    return {
        "id": raw["message_id"],
        "out": sender.get("id") == me,
        "author": BOT_AUTHOR if is_bot else str(sender.get("first_name", "")),
        "text": str(raw.get("text") or raw.get("caption") or ""),
        "photos": photos,
        "location": (
            {"lat": location["latitude"], "lon": location["longitude"]}
            if isinstance(location, dict)
            else None
        ),
        "contact": str(contact.get("phone_number", "")) if isinstance(contact, dict) else None,
        "buttons": _inline_rows(raw.get("reply_markup")) if is_bot else [],
        "edited": "edit_date" in raw,
        "thread": raw.get("message_thread_id"),
    }


def _bubbles(world: SandboxWorld, raws: Iterable[Json], me: int) -> list[Json]:
    return [b for b in (telegram_message(world, raw, me) for raw in raws) if b is not None]


def _vk_rows(keyboard: dict[str, Any] | None) -> list[list[Json]]:
    rows: list[list[Json]] = []
    for row in (keyboard or {}).get("buttons") or []:
        buttons = []
        for button in row:
            action = button.get("action") if isinstance(button, dict) else None
            if not isinstance(action, dict):
                continue
            kind = str(action.get("type"))
            if kind in ("text", "callback"):
                buttons.append({"label": str(action.get("label", "")), "kind": "text"})
            elif kind == "location":
                buttons.append({"label": "📍", "kind": "location"})
        if buttons:
            rows.append(buttons)
    return rows


def telegram_citizen(world: SandboxWorld, citizen: SandboxCitizen) -> Json:
    """A Telegram citizen's private chat with the bot, and the reply keyboard shown under it."""
    user = citizen.telegram
    assert user is not None
    keyboard = [
        [
            {
                "label": str(b.get("text", "")),
                "kind": "location"
                if b.get("request_location")
                else "contact"
                if b.get("request_contact")
                else "text",
            }
            for b in row
        ]
        for row in user.reply_keyboard()
    ]
    return {"messages": _bubbles(world, world.telegram.history(user.id), user.id), "keyboard": keyboard}


def vk_citizen(world: SandboxWorld, citizen: SandboxCitizen) -> Json:
    """A VK citizen's conversation with the community, and its persistent keyboard."""
    user = citizen.vk
    assert user is not None
    bubbles: list[Json] = []
    for message in world.vk.user_messages(user.user_id):
        photos = [
            media_url("vk", str(size["url"]).rsplit("/", 1)[-1].removesuffix(".jpg"))
            for attachment in message.get("attachments") or []
            if attachment.get("type") == "photo"
            for size in attachment["photo"]["sizes"][-1:]
        ]
        geo = (message.get("geo") or {}).get("coordinates")
        bubbles.append(
            {
                "id": message["id"],
                "out": True,
                "author": citizen.name,
                "text": str(message.get("text") or ""),
                "photos": photos,
                "location": {"lat": geo["latitude"], "lon": geo["longitude"]} if geo else None,
                "contact": None,
                "buttons": [],
                "edited": False,
            }
        )
    for sent in world.vk.messages_to(user.user_id):
        bubbles.append(
            {
                "id": sent.id,
                "out": False,
                "author": BOT_AUTHOR,
                "text": sent.text,
                "photos": [media_url("vk", a) if world.vk.photo_data(a) else "" for a in sent.attachments],
                "location": None,
                "contact": None,
                "buttons": [[b["label"] for b in row] for row in _vk_rows(sent.keyboard)]
                if sent.inline
                else [],
                "edited": bool(sent.edits),
            }
        )
    bubbles.sort(key=lambda b: int(b["id"]))
    return {"messages": bubbles, "keyboard": _vk_rows(world.vk.keyboard_of(user.user_id))}


def citizen_pane(world: SandboxWorld, key: str | None) -> Json | None:
    """The phone of the citizen `key` (None when there is no such citizen)."""
    citizen = world.citizens.get(key or "")
    if citizen is None:
        return None
    chat = telegram_citizen(world, citizen) if citizen.platform == "tg" else vk_citizen(world, citizen)
    return {"key": citizen.key, "platform": citizen.platform, "name": citizen.name, **chat}


# The forum's general topic, as the page names it (Telegram sends its messages with no thread id).
GENERAL_TOPIC = 0


def operator_pane(world: SandboxWorld, body_id: str | None, thread: int | None) -> Json | None:
    """A body's operator forum: the general topic (id 0: messages outside any report's topic, such
    as the binding notice) and the report topics, newest first, with the messages of the chosen
    one (the newest topic when none is chosen; the general topic when there are none)."""
    body: BodyChat | None = world.body_chats.get(body_id or "")
    if body is None:
        return None
    chat = body.chat
    names = chat.topics()
    history = world.telegram.history(chat.id)
    last_in: dict[int, int] = {}
    for raw in history:
        if raw.get("message_thread_id") in names:
            last_in[int(raw["message_thread_id"])] = int(raw["message_id"])

    # The topic with the newest message first, as Telegram lists them.
    def recency(tid: int) -> int:
        return -last_in.get(tid, tid)

    order = sorted(names, key=recency)
    topics = [{"id": GENERAL_TOPIC, "name": "", "closed": False}]
    topics += [{"id": tid, "name": names[tid], "closed": chat.is_topic_closed(tid)} for tid in order]
    if thread != GENERAL_TOPIC and thread not in names:
        thread = order[0] if order else GENERAL_TOPIC
    if thread == GENERAL_TOPIC:
        shown = [raw for raw in history if raw.get("message_thread_id") not in names]
    else:
        shown = [raw for raw in history if raw.get("message_thread_id") == thread]
    return {
        "body": body.body_id,
        "title": body.title,
        "operator": body.operator.first_name,
        "topics": topics,
        "thread": thread,
        "messages": _bubbles(world, shown, body.operator.id),
    }


def comms_pane(world: SandboxWorld) -> Json:
    """The comms team's group, as the trainee's comms member sees it."""
    chat = world.comms_chat
    return {
        "title": chat.title,
        "member": world.comms.first_name,
        "messages": _bubbles(world, world.telegram.history(chat.id), world.comms.id),
    }


def clock_state(world: SandboxWorld) -> Json:
    """The scenario clock, for the page to tick between updates."""
    now = world.clock.now().astimezone(ZONE)
    return {"now": now.isoformat(), "speed": world.clock.speed}


def snapshot(world: SandboxWorld, citizen: str | None, body: str | None, thread: int | None) -> Json:
    """Everything the page shows for the chosen citizen, body and topic."""
    return {
        "citizen": citizen_pane(world, citizen),
        "citizens": [
            {"key": c.key, "platform": c.platform, "name": c.name, "language": c.language}
            for c in world.citizens.values()
        ],
        "operator": operator_pane(world, body, thread),
        "comms": comms_pane(world),
        "clock": clock_state(world),
    }
