"""Hypothesis strategies for the fuzz suite: Telegram updates and VK events, each saying whether a
real platform could send it.

Every draw is a :class:`Fuzzed`: the JSON ``payload`` (an update dict, a VK event dict, or for some
malformed ones any JSON value), its ``kind`` ("text", "photo", "callback_query", …), ``valid``, and
for an invalid one its ``defect``. Valid ones are what Telegram / VK send a community or bot in a
private conversation; the rest are valid ones broken in one place:

- ``missing:<path>`` / ``type:<path>``: a field the platform always sends is gone or of the wrong
  type (the models reject these: aiogram's ``Update``, vkbottle's events);
- ``null:<path>``, ``id:<path>`` (negative or huge), ``too_long:<path>`` (a text over the limit, up
  to 100 000 characters), ``empty``: shapes the models may accept but the platform never sends;
- ``type:<root>``: not a JSON object at all.

``telegram_updates(kinds, valid=…)`` / ``vk_events(kinds, valid=…)`` narrow a draw to some kinds
(:data:`TELEGRAM_KINDS`, :data:`VK_KINDS`) and to valid or invalid items; ``telegram_albums()`` draws
the updates of one album. Pure: hypothesis and the standard library only (no sockets), so the pure
tier can draw from it. Push payloads with ``FakeTelegramServer.push_raw_update`` /
``FakeVkServer.push_raw_event``.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

TELEGRAM_TEXT_LIMIT = 4096
TELEGRAM_CAPTION_LIMIT = 1024
CALLBACK_DATA_BYTES = 64
VK_TEXT_LIMIT = 4096
HUGE_TEXT = 100_000
VK_GROUP_ID = 227000001
STRUCTURAL = ("missing:", "type:")
TELEGRAM_MESSAGE_KINDS = (
    "text", "command", "photo", "album", "location", "contact", "sticker", "voice", "unknown_media",
)  # fmt: skip
TELEGRAM_KINDS = (
    *TELEGRAM_MESSAGE_KINDS,
    "edited_message",
    "callback_query",
    "my_chat_member",
    "unknown_update",
)
"""What ``telegram_updates(kinds=…)`` can draw: message contents, then the other update types."""
VK_MESSAGE_KINDS = ("text", "command", "button", "photo", "location", "sticker", "voice", "unknown_media")
VK_KINDS = (
    *(f"message_new/{kind}" for kind in VK_MESSAGE_KINDS),
    "message_event", "message_typing_state", "message_allow", "message_deny", "unknown_event",
)  # fmt: skip
"""What ``vk_events(kinds=…)`` can draw."""


@dataclass(frozen=True)
class Fuzzed:
    """One generated update or event."""

    payload: Any
    kind: str
    valid: bool
    defect: str | None = None

    @property
    def structural(self) -> bool:
        """A required field missing or mistyped, or not an object: the platform models reject it."""
        return self.defect is not None and self.defect.startswith(STRUCTURAL)


# ---------------------------------------------------------------------------------------- pieces

ids = st.integers(min_value=1, max_value=2**40)
small_ids = st.integers(min_value=1, max_value=2**31 - 1)
dates = st.integers(min_value=1_500_000_000, max_value=2_000_000_000)
# What people type: no control characters but line breaks, and never only blanks.
typed = st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n\t")
names = st.text(typed, min_size=1, max_size=64).filter(str.strip)
file_ids = st.from_regex(r"[A-Za-z0-9_-]{20,60}", fullmatch=True)


def texts(limit: int) -> st.SearchStrategy[str]:
    short = st.text(typed, min_size=1, max_size=min(limit, 300)).filter(str.strip)
    return short | st.integers(2, limit).map(lambda n: "я" * n)


def huge_texts(limit: int) -> st.SearchStrategy[str]:
    # Repetition, not drawing 100 000 characters: hypothesis' buffer stays small.
    return st.builds(
        lambda chunk, size: (chunk * size)[:size],
        st.text(min_size=1, max_size=8),
        st.integers(limit + 1, HUGE_TEXT),
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# ------------------------------------------------------------------------------ Telegram (valid)


@st.composite
def _tg_user(draw: st.DrawFn, user_id: int | None = None) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id or draw(ids), "is_bot": False, "first_name": draw(names)}
    if draw(st.booleans()):
        user["language_code"] = draw(st.sampled_from(["ru", "en", "uk", "kk", "de"]))
    if draw(st.booleans()):
        user["username"] = draw(st.from_regex(r"[A-Za-z][A-Za-z0-9_]{4,31}", fullmatch=True))
    return user


def _private_chat(user: dict[str, Any]) -> dict[str, Any]:
    return {"id": user["id"], "type": "private", "first_name": user["first_name"]}


@st.composite
def _photo_sizes(draw: st.DrawFn) -> list[dict[str, Any]]:
    base = draw(file_ids)
    return [
        {"file_id": f"{base}{n}", "file_unique_id": f"u{base[:10]}{n}", "width": w, "height": h}
        for n, (w, h) in enumerate([(90, 67), (320, 240), (1280, 960)][: draw(st.integers(1, 3))])
    ]


def _file(kind_fields: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(lambda fid: {"file_id": fid, "file_unique_id": f"u{fid[:12]}", **kind_fields}, file_ids)


@st.composite
def _content(draw: st.DrawFn, user: dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    if kind == "text":
        return kind, {"text": draw(texts(TELEGRAM_TEXT_LIMIT))}
    if kind == "command":
        command = draw(st.sampled_from(["/start", "/report", "/my", "/help", "/cancel", "/link", "/forget"]))
        command = draw(st.just(command) | st.from_regex(r"/[a-z0-9_]{1,32}", fullmatch=True))
        text = command + draw(st.just("") | st.text(typed, max_size=40).map(lambda a: f" {a}"))
        return kind, {
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": _utf16_length(command)}],
        }
    if kind in ("photo", "album"):
        content: dict[str, Any] = {"photo": draw(_photo_sizes())}
        if kind == "album":
            content["media_group_id"] = str(draw(st.integers(10**17, 10**18)))
        if draw(st.booleans()):
            content["caption"] = draw(texts(TELEGRAM_CAPTION_LIMIT))
        return kind, content
    if kind == "location":
        lat = draw(st.floats(-90, 90, allow_nan=False))
        lon = draw(st.floats(-180, 180, allow_nan=False))
        return kind, {"location": {"latitude": lat, "longitude": lon}}
    if kind == "contact":
        phone = draw(st.from_regex(r"\+?[0-9]{10,13}", fullmatch=True))
        own = draw(st.booleans())
        contact = {"phone_number": phone, "first_name": user["first_name"] if own else draw(names)}
        return kind, {"contact": {**contact, "user_id": user["id"]} if own else contact}
    if kind == "sticker":
        sticker = {"type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False}
        return kind, {"sticker": draw(_file(sticker))}
    if kind == "voice":
        return kind, {"voice": draw(_file({"duration": draw(st.integers(1, 600)), "mime_type": "audio/ogg"}))}
    unknown = draw(st.sampled_from(["document", "video_note", "dice", "future"]))
    if unknown == "document":
        return kind, {"document": draw(_file({"file_name": "scan.pdf"}))}
    if unknown == "video_note":
        return kind, {"video_note": draw(_file({"length": 240, "duration": 5}))}
    if unknown == "dice":
        return kind, {"dice": {"emoji": "🎲", "value": draw(st.integers(1, 6))}}
    # A field a newer Bot API adds: the models keep unknown fields.
    return kind, {
        "hologram": draw(
            st.dictionaries(st.from_regex(r"[a-z]{1,8}", fullmatch=True), json_values, max_size=3)
        )
    }


@st.composite
def _tg_message(draw: st.DrawFn, user: dict[str, Any], kind: str | None = None) -> tuple[str, dict[str, Any]]:
    kind, content = draw(_content(user, kind or draw(st.sampled_from(TELEGRAM_MESSAGE_KINDS))))
    message = {"message_id": draw(small_ids), "from": user, "chat": _private_chat(user), "date": draw(dates)}
    return kind, {**message, **content}


def _bot_user() -> dict[str, Any]:
    return {"id": 123456789, "is_bot": True, "first_name": "ЦУР", "username": "tsur_test_bot"}


@st.composite
def _valid_update(draw: st.DrawFn, kinds: tuple[str, ...]) -> Fuzzed:
    user = draw(_tg_user())
    update_id = draw(small_ids)
    shape = draw(st.sampled_from(kinds))
    if shape in TELEGRAM_MESSAGE_KINDS:
        kind, message = draw(_tg_message(user, shape))
        return Fuzzed({"update_id": update_id, "message": message}, kind, True)
    if shape == "edited_message":
        _, message = draw(_tg_message(user))
        edited = {**message, "edit_date": message["date"] + draw(st.integers(1, 86_400))}
        return Fuzzed({"update_id": update_id, "edited_message": edited}, "edited_message", True)
    if shape == "callback_query":
        chat = _private_chat(user)
        accessible = {
            "message_id": draw(small_ids),
            "from": _bot_user(),
            "chat": chat,
            "date": draw(dates),
            "text": "Меню",
        }
        gone = {"message_id": draw(small_ids), "chat": chat, "date": 0}
        query = {
            "id": str(draw(st.integers(10**17, 10**19))),
            "from": user,
            "chat_instance": str(draw(st.integers(-(2**62), 2**62))),
            "message": draw(st.sampled_from([accessible, gone])),
            "data": draw(
                st.text(min_size=1, max_size=CALLBACK_DATA_BYTES).filter(
                    lambda d: len(d.encode()) <= CALLBACK_DATA_BYTES
                )
            ),
        }
        return Fuzzed({"update_id": update_id, "callback_query": query}, "callback_query", True)
    if shape == "my_chat_member":
        blocked = draw(st.booleans())
        old = {"status": "member", "user": _bot_user()}
        new = {"status": "kicked", "user": _bot_user(), "until_date": 0}
        change = {
            "chat": _private_chat(user),
            "from": user,
            "date": draw(dates),
            "old_chat_member": old if blocked else new,
            "new_chat_member": new if blocked else old,
        }
        return Fuzzed({"update_id": update_id, "my_chat_member": change}, "my_chat_member", True)
    # An update type a newer Bot API adds.
    name = draw(st.from_regex(r"future_[a-z_]{1,16}", fullmatch=True))
    return Fuzzed(
        {"update_id": update_id, name: draw(st.dictionaries(st.text(max_size=8), json_values, max_size=3))},
        "unknown_update",
        True,
    )


# ------------------------------------------------------------------------------ breaking them

# Fields the models require, by the key their object sits under ("" is the root).
TELEGRAM_REQUIRED: dict[str, frozenset[str]] = {
    "": frozenset({"update_id"}),
    "message": frozenset({"message_id", "date", "chat"}),
    "edited_message": frozenset({"message_id", "date", "chat"}),
    "chat": frozenset({"id", "type"}),
    "from": frozenset({"id", "is_bot", "first_name"}),
    "user": frozenset({"id", "is_bot", "first_name"}),
    "callback_query": frozenset({"id", "from", "chat_instance"}),
    "photo": frozenset({"file_id", "file_unique_id", "width", "height"}),
    "location": frozenset({"latitude", "longitude"}),
    "contact": frozenset({"phone_number", "first_name"}),
    "sticker": frozenset({"file_id", "file_unique_id", "type", "width", "height", "is_animated", "is_video"}),
    "voice": frozenset({"file_id", "file_unique_id", "duration"}),
    "document": frozenset({"file_id", "file_unique_id"}),
    "video_note": frozenset({"file_id", "file_unique_id", "length", "duration"}),
    "dice": frozenset({"emoji", "value"}),
    "my_chat_member": frozenset({"chat", "from", "date", "old_chat_member", "new_chat_member"}),
    "old_chat_member": frozenset({"status", "user"}),
    "new_chat_member": frozenset({"status", "user"}),
}
VK_REQUIRED: dict[str, frozenset[str]] = {
    "": frozenset({"object"}),
    "object:message_event": frozenset({"user_id", "peer_id", "event_id"}),
    # vkbottle reads every field of a typing event as optional.
    "object:message_typing_state": frozenset(),
    "object:message_allow": frozenset({"user_id", "key"}),
    "object:message_deny": frozenset({"user_id"}),
    "message": frozenset(
        {"conversation_message_id", "date", "from_id", "id", "text", "version", "out", "peer_id"}
    ),
    "photo": frozenset({"album_id", "date", "id", "owner_id"}),
    "sizes": frozenset({"height", "type", "width"}),
    "audio_message": frozenset({"duration", "id", "link_mp3", "link_ogg", "owner_id", "waveform"}),
    "coordinates": frozenset({"latitude", "longitude"}),
}
ID_FIELDS = frozenset({"id", "message_id", "update_id", "user_id", "from_id", "peer_id", "owner_id"})
Path = tuple[str | int, ...]


def _show(path: Path) -> str:
    shown = ""
    for step in path:
        shown += f"[{step}]" if isinstance(step, int) else (f".{step}" if shown else step)
    return shown or "<root>"


def _context(payload: Any, path: Path) -> str:
    """The key an object sits under (list items: the list's key); the VK root object by type."""
    keys = [step for step in path if isinstance(step, str)]
    if path == ("object",) and isinstance(payload, dict):
        return f"object:{payload.get('type')}"
    return keys[-1] if keys else ""


def _fields(payload: Any) -> list[tuple[Path, Any]]:
    """Every (path, value) of a dict key, depth first."""
    found: list[tuple[Path, Any]] = []

    def walk(node: Any, path: Path) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                found.append(((*path, key), value))
                walk(value, (*path, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, (*path, index))

    walk(payload, ())
    return found


def _required(payload: Any, required: dict[str, frozenset[str]]) -> list[Path]:
    paths: list[Path] = [(key,) for key in required[""] if isinstance(payload, dict) and key in payload]
    for path, value in _fields(payload):
        if isinstance(value, dict):
            wanted = required.get(_context(payload, path), frozenset())
            paths += [(*path, key) for key in sorted(wanted) if key in value]
        elif isinstance(value, list):
            wanted = required.get(_context(payload, path), frozenset())
            paths += [
                (*path, index, key)
                for index, item in enumerate(value)
                if isinstance(item, dict)
                for key in sorted(wanted)
                if key in item
            ]
    return paths


def _get(payload: Any, path: Path) -> Any:
    for step in path:
        payload = payload[step]
    return payload


def _set(payload: Any, path: Path, value: Any) -> Any:
    changed = copy.deepcopy(payload)
    _get(changed, path[:-1])[path[-1]] = value
    return changed


def _delete(payload: Any, path: Path) -> Any:
    changed = copy.deepcopy(payload)
    del _get(changed, path[:-1])[path[-1]]
    return changed


def _wrong_type(value: Any) -> st.SearchStrategy[Any]:
    """A value no model field typed like ``value`` accepts (no lax coercion applies)."""
    if isinstance(value, bool):
        return st.sampled_from([[True], {"b": True}, "maybe"])
    if isinstance(value, int | float):
        return st.sampled_from(["not a number", [1], {"n": 1}])
    if isinstance(value, str):
        return st.sampled_from([12345, ["x"], {"s": "x"}])
    if isinstance(value, dict):
        return st.sampled_from(["text", 12, [1, 2]])
    return st.sampled_from(["text", {"a": 1}, 12])


@st.composite
def _broken(draw: st.DrawFn, valid: Fuzzed, required: dict[str, frozenset[str]]) -> Fuzzed:
    payload = valid.payload
    needed = _required(payload, required)
    ids_at = [
        p
        for p, v in _fields(payload)
        if p[-1] in ID_FIELDS and isinstance(v, int) and not isinstance(v, bool)
    ]
    ways = ["null", "empty", "root"] + (["missing", "type"] if needed else []) + (["id"] if ids_at else [])
    way = draw(st.sampled_from(ways))
    if way == "missing":
        path = draw(st.sampled_from(needed))
        return Fuzzed(_delete(payload, path), valid.kind, False, f"missing:{_show(path)}")
    if way == "type":
        path = draw(st.sampled_from(needed))
        wrong = draw(_wrong_type(_get(payload, path)))
        return Fuzzed(_set(payload, path, wrong), valid.kind, False, f"type:{_show(path)}")
    if way == "id":
        path = draw(st.sampled_from(ids_at))
        odd = draw(st.integers(-(2**40), 0) | st.integers(2**63, 2**70))
        return Fuzzed(_set(payload, path, odd), valid.kind, False, f"id:{_show(path)}")
    if way == "null":
        path = draw(st.sampled_from([p for p, _ in _fields(payload)]))
        return Fuzzed(_set(payload, path, None), valid.kind, False, f"null:{_show(path)}")
    if way == "empty":
        kept = {k: v for k, v in payload.items() if k in ("update_id", "type", "group_id", "event_id", "v")}
        return Fuzzed(kept, valid.kind, False, "empty")
    junk = draw(json_values.filter(lambda v: not isinstance(v, dict)))
    return Fuzzed(junk, valid.kind, False, "type:<root>")


@st.composite
def _too_long_telegram(draw: st.DrawFn, kinds: tuple[str, ...]) -> Fuzzed:
    user = draw(_tg_user())
    _, message = draw(_tg_message(user, "text"))
    where = draw(st.sampled_from([w for k, w in TOO_LONG_TELEGRAM if k in kinds]))
    if where == "data":
        data = draw(
            st.text(min_size=CALLBACK_DATA_BYTES + 1, max_size=200).filter(
                lambda d: len(d.encode()) > CALLBACK_DATA_BYTES
            )
        )
        query = {
            "id": "1",
            "from": user,
            "chat_instance": "1",
            "message": {**message, "text": "Меню"},
            "data": data,
        }
        return Fuzzed(
            {"update_id": draw(small_ids), "callback_query": query},
            "callback_query",
            False,
            "too_long:callback_query.data",
        )
    limit = TELEGRAM_TEXT_LIMIT if where == "text" else TELEGRAM_CAPTION_LIMIT
    message = {k: v for k, v in message.items() if k not in ("text", "caption", "entities")}
    if where == "caption":
        message["photo"] = draw(_photo_sizes())
    message[where] = draw(huge_texts(limit))
    kind = "text" if where == "text" else "photo"
    return Fuzzed(
        {"update_id": draw(small_ids), "message": message}, kind, False, f"too_long:message.{where}"
    )


# Where a draw of a kind can be over the limits: (kind, field).
TOO_LONG_TELEGRAM = (("text", "text"), ("photo", "caption"), ("callback_query", "data"))
# Half valid, the rest mostly broken in one place, some over the limits.
MIX = ("valid",) * 5 + ("broken",) * 4 + ("too_long",)


def _chosen(kinds: Iterable[str] | None, known: tuple[str, ...]) -> tuple[str, ...]:
    chosen = known if kinds is None else tuple(kinds)
    if not chosen or set(chosen) - set(known):
        raise ValueError(f"kinds must be some of {known}, not {chosen}")
    return chosen


@st.composite
def _mixed(draw: st.DrawFn, platform: str, kinds: tuple[str, ...], valid: bool | None) -> Fuzzed:
    if platform == "telegram":
        make, required = _valid_update, TELEGRAM_REQUIRED
        long_kinds = {k for k, _ in TOO_LONG_TELEGRAM}
        too_long: Callable[[], st.SearchStrategy[Fuzzed]] = functools.partial(_too_long_telegram, kinds)
    else:
        make, required = _valid_event, VK_REQUIRED
        long_kinds = {"message_new/text"}
        too_long = _too_long_vk
    ways = [w for w in MIX if valid is None or (w == "valid") == valid]
    if not long_kinds & set(kinds):
        ways = [w for w in ways if w != "too_long"]
    way = draw(st.sampled_from(ways))
    if way == "too_long":
        return draw(too_long())
    item = draw(make(kinds))
    return item if way == "valid" else draw(_broken(item, required))


def telegram_updates(
    kinds: Iterable[str] | None = None, *, valid: bool | None = None
) -> st.SearchStrategy[Fuzzed]:
    """Telegram ``Update`` dicts for a bot's private chats: valid, broken, and over the limits.

    ``kinds`` narrows the draw to some of :data:`TELEGRAM_KINDS`; ``valid`` to valid or invalid ones.
    """
    return _mixed("telegram", _chosen(kinds, TELEGRAM_KINDS), valid)


def telegram_albums() -> st.SearchStrategy[list[Fuzzed]]:
    """2–10 photo updates of one user sharing a ``media_group_id`` (each valid), back to back."""

    @st.composite
    def album(draw: st.DrawFn) -> list[Fuzzed]:
        user = draw(_tg_user())
        group = str(draw(st.integers(10**17, 10**18)))
        first_id, first_message = draw(small_ids), draw(st.integers(1, 2**30))
        count = draw(st.integers(2, 10))
        return [
            Fuzzed(
                {
                    "update_id": first_id + n,
                    "message": {
                        "message_id": first_message + n,
                        "from": user,
                        "chat": _private_chat(user),
                        "date": 1_700_000_000,
                        "media_group_id": group,
                        "photo": draw(_photo_sizes()),
                    },
                },
                "album",
                True,
            )
            for n in range(count)
        ]

    return album()


# ------------------------------------------------------------------------------------------ VK

event_ids = st.from_regex(r"[0-9a-f]{40}", fullmatch=True)
# VK user ids; from 2,000,000,000 up a peer id is a group conversation, never a person.
vk_user_ids = st.integers(1, 1_999_999_999)
CLIENT_INFO = {
    "button_actions": ["text", "vkpay", "open_app", "location", "open_link", "callback"],
    "keyboard": True,
    "inline_keyboard": True,
    "carousel": True,
}


def _vk_photo(user_id: int, photo_id: int) -> dict[str, Any]:
    sizes = [
        {"height": h, "width": w, "type": t, "url": f"https://sun9-1.userapi.com/{photo_id}_{t}.jpg"}
        for t, w, h in (("s", 75, 56), ("x", 604, 453), ("z", 1280, 960))
    ]
    photo = {"album_id": -3, "date": 1_700_000_000, "id": photo_id, "owner_id": user_id, "sizes": sizes}
    return {"type": "photo", "photo": {**photo, "access_key": "a1b2c3", "text": "", "has_tags": False}}


@st.composite
def _vk_message(draw: st.DrawFn, user_id: int, kind: str) -> tuple[str, dict[str, Any]]:
    message: dict[str, Any] = {
        "date": draw(dates),
        "from_id": user_id,
        "id": draw(small_ids),
        "out": 0,
        "version": draw(small_ids),
        "attachments": [],
        "conversation_message_id": draw(small_ids),
        "fwd_messages": [],
        "important": False,
        "is_hidden": False,
        "peer_id": user_id,
        "random_id": 0,
        "text": "",
    }
    if kind == "text":
        message["text"] = draw(texts(VK_TEXT_LIMIT))
    elif kind == "command":
        message["text"] = draw(st.sampled_from(["/start", "/help", "/report", "/my", "Начать", "/link"]))
    elif kind == "button":
        message["text"] = draw(names)
        message["payload"] = json.dumps(draw(st.dictionaries(st.text(max_size=8), json_values, max_size=3)))
    elif kind == "photo":
        first = draw(st.integers(1, 2**30))
        message["attachments"] = [_vk_photo(user_id, first + n) for n in range(draw(st.integers(1, 10)))]
        message["text"] = draw(st.just("") | texts(VK_TEXT_LIMIT))
    elif kind == "location":
        lat, lon = draw(st.floats(-90, 90, allow_nan=False)), draw(st.floats(-180, 180, allow_nan=False))
        message["geo"] = {"type": "point", "coordinates": {"latitude": lat, "longitude": lon}}
    elif kind == "sticker":
        images = [{"url": f"https://vk.com/sticker/{s}.png", "width": s, "height": s} for s in (64, 128)]
        sticker = {"inner_type": "base_sticker_new", "product_id": 279, "sticker_id": 9012, "images": images}
        message["attachments"] = [{"type": "sticker", "sticker": {**sticker, "is_allowed": True}}]
    elif kind == "voice":
        voice = {
            "duration": draw(st.integers(1, 600)),
            "id": draw(small_ids),
            "owner_id": user_id,
            "link_mp3": "https://psv4.userapi.com/voice.mp3",
            "link_ogg": "https://psv4.userapi.com/voice.ogg",
            "waveform": [0, 3, 9, 17, 9, 3, 0],
        }
        message["attachments"] = [{"type": "audio_message", "audio_message": voice}]
    else:
        # An attachment type a newer API adds.
        message["attachments"] = [{"type": "hologram", "hologram": {"id": draw(small_ids)}}]
    return kind, message


@st.composite
def _valid_event(draw: st.DrawFn, kinds: tuple[str, ...]) -> Fuzzed:
    user_id = draw(vk_user_ids)
    base = {"group_id": VK_GROUP_ID, "event_id": draw(event_ids), "v": "5.199"}
    shape = draw(st.sampled_from(kinds))
    if shape.startswith("message_new/"):
        kind, message = draw(_vk_message(user_id, shape.partition("/")[2]))
        client_info = {**CLIENT_INFO, "lang_id": draw(st.sampled_from([0, 3]))}
        event = {"type": "message_new", "object": {"message": message, "client_info": client_info}, **base}
        return Fuzzed(event, f"message_new/{kind}", True)
    if shape == "message_event":
        obj = {
            "user_id": user_id,
            "peer_id": user_id,
            "event_id": draw(st.from_regex(r"[0-9a-f]{12}", fullmatch=True)),
            "payload": draw(st.dictionaries(st.text(max_size=8), json_values, max_size=3)),
            "conversation_message_id": draw(small_ids),
        }
        return Fuzzed({"type": "message_event", "object": obj, **base}, "message_event", True)
    if shape == "message_typing_state":
        obj = {"state": "typing", "from_id": user_id, "to_id": -VK_GROUP_ID}
        return Fuzzed({"type": "message_typing_state", "object": obj, **base}, "message_typing_state", True)
    if shape == "message_allow":
        obj = {"user_id": user_id, "key": draw(st.text(max_size=20))}
        return Fuzzed({"type": "message_allow", "object": obj, **base}, "message_allow", True)
    if shape == "message_deny":
        return Fuzzed({"type": "message_deny", "object": {"user_id": user_id}, **base}, "message_deny", True)
    name = draw(st.from_regex(r"future_[a-z_]{1,16}", fullmatch=True))
    obj = draw(st.dictionaries(st.text(max_size=8), json_values, max_size=3))
    return Fuzzed({"type": name, "object": obj, **base}, "unknown_event", True)


@st.composite
def _too_long_vk(draw: st.DrawFn) -> Fuzzed:
    user_id = draw(vk_user_ids)
    _, message = draw(_vk_message(user_id, "text"))
    message = {**message, "text": draw(huge_texts(VK_TEXT_LIMIT))}
    event = {
        "type": "message_new",
        "object": {"message": message, "client_info": {**CLIENT_INFO, "lang_id": 0}},
        "group_id": VK_GROUP_ID,
        "event_id": draw(event_ids),
        "v": "5.199",
    }
    return Fuzzed(event, "message_new/text", False, "too_long:object.message.text")


def vk_events(kinds: Iterable[str] | None = None, *, valid: bool | None = None) -> st.SearchStrategy[Fuzzed]:
    """VK Callback API / Long Poll events of a community (without ``secret``): valid, broken, and
    over the text limit. ``kinds`` narrows the draw to some of :data:`VK_KINDS`; ``valid`` to valid
    or invalid ones."""
    return _mixed("vk", _chosen(kinds, VK_KINDS), valid)
