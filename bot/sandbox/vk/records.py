"""VK API constants, error answers and what tests read back (recorded calls, sent messages)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

API_VERSION = "5.199"
DEFAULT_GROUP_ID = 227000001
DEFAULT_TOKEN = "vk1.a.test-community-token"

MAX_MESSAGE_LENGTH = 9000
MAX_PEER_IDS = 100
MAX_ATTACHMENTS = 10
LABEL_LIMIT = 40
PAYLOAD_LIMIT = 255
ROW_WIDTH = 5
REGULAR_ROWS, REGULAR_BUTTONS = 10, 40
INLINE_ROWS, INLINE_BUTTONS = 6, 10
SNACKBAR_LIMIT = 90
LONG_POLL_MAX_WAIT = 25
# How long a Callback API POST may take before it counts as failed (status 0).
CALLBACK_TIMEOUT = 10.0
MAX_UPLOAD = 50 * 1024 * 1024
CHAT_PEER_BASE = 2_000_000_000
# What a current VK client reports in client_info.button_actions.
CLIENT_BUTTON_ACTIONS = (
    "text",
    "vkpay",
    "open_app",
    "location",
    "open_link",
    "callback",
    "intent_subscribe",
    "intent_unsubscribe",
)
# Keyboard button actions: required and optional fields of the "action" object.
_ACTION_FIELDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "text": (frozenset({"label"}), frozenset({"payload"})),
    "callback": (frozenset({"label"}), frozenset({"payload"})),
    "location": (frozenset(), frozenset({"payload"})),
    "open_link": (frozenset({"link", "label"}), frozenset({"payload"})),
    "vkpay": (frozenset({"hash"}), frozenset({"payload"})),
    "open_app": (frozenset({"app_id", "label"}), frozenset({"owner_id", "hash", "payload"})),
}
# Buttons that take a whole keyboard row.
_FULL_WIDTH_ACTIONS = frozenset({"location", "vkpay", "open_app"})
_COLORS = frozenset({"primary", "secondary", "negative", "positive"})
# (type, width, height) of the photo copies VK lists in "sizes".
_PHOTO_SIZES = (("s", 75, 56), ("m", 130, 97), ("x", 604, 453), ("y", 807, 605), ("z", 1280, 960))
_ATTACHMENT = re.compile(r"^(?P<type>[a-z_]+?)(?P<owner>-?\d+)_(?P<id>\d+)(?:_(?P<key>[A-Za-z0-9]+))?$")
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM")

ERROR_MESSAGES = {
    1: "Unknown error occurred",
    3: "Unknown method passed",
    5: "User authorization failed: invalid access_token (4).",
    6: "Too many requests per second",
    7: "Permission to perform this action is denied",
    8: "Invalid request: v is required",
    9: "Flood control",
    10: "Internal server error",
    14: "Captcha needed",
    15: "Access denied",
    18: "User was deleted or banned",
    100: "One of the parameters specified was missing or invalid",
    113: "Invalid user id",
    900: "Can't send messages for users from blacklist",
    901: "Can't send messages for users without permission",
    902: "Can't send messages to this user due to their privacy settings",
    911: "Keyboard format is invalid",
    914: "Message is too long",
}

# Nearest of these names the city of a sent location.
_CITIES = (
    ("Екатеринбург", 56.8389, 60.6057),
    ("Москва", 55.7558, 37.6173),
    ("Санкт-Петербург", 59.9343, 30.3351),
    ("Нижний Тагил", 57.9101, 59.9813),
    ("Каменск-Уральский", 56.4149, 61.9189),
    ("Первоуральск", 56.9054, 59.9436),
)


def tiny_jpeg() -> bytes:
    """A valid 8×8 mid-grey baseline JPEG (one block, DC only; 159 bytes)."""
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    dqt = b"\xff\xdb\x00\x43\x00" + b"\x01" * 64
    sof0 = b"\xff\xc0\x00\x0b\x08\x00\x08\x00\x08\x01\x01\x11\x00"
    one_code = bytes([1] + [0] * 15) + b"\x00"  # a single 1-bit Huffman code ("0") for symbol 0
    dht = b"\xff\xc4\x00\x14\x00" + one_code + b"\xff\xc4\x00\x14\x10" + one_code
    sos = b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
    # DC difference category 0 ("0"), then end-of-block ("0"), padded with 1 bits.
    return b"\xff\xd8" + app0 + dqt + sof0 + dht + sos + b"\x3f" + b"\xff\xd9"


_TINY_JPEG = tiny_jpeg()
_UNSET: Any = object()


class _VkError(Exception):
    """An error answer of the VK API."""

    def __init__(self, code: int, message: str | None = None, **extra: Any) -> None:
        self.code = code
        self.message = message or ERROR_MESSAGES.get(code, "Unknown error occurred")
        self.extra = extra
        super().__init__(self.message)


def _invalid(detail: str) -> _VkError:
    return _VkError(100, f"{ERROR_MESSAGES[100]}: {detail}")


def _bad_keyboard(detail: str) -> _VkError:
    return _VkError(911, f"{ERROR_MESSAGES[911]}: {detail}")


# --------------------------------------------------------------------------------------------
# Records exposed to tests
# --------------------------------------------------------------------------------------------


@dataclass
class VkApiCall:
    """One call of an API method (``/method/<name>``), in arrival order.

    ``params`` are the strings the client sent (query and body, without ``access_token``);
    ``error`` is the VK error code of the answer or None; ``result`` the ``response`` value.
    Long-poll checks and uploads are not API calls and are not recorded here.
    """

    method: str
    params: dict[str, str]
    at: float
    error: int | None = None
    result: Any = None
    done: bool = False


@dataclass
class VkSentMessage:
    """A message the bot created in a conversation, with its latest content."""

    id: int
    peer_id: int
    text: str
    random_id: int
    keyboard: dict[str, Any] | None
    attachments: list[str]
    at: float
    conversation_message_id: int = 0
    edits: list[str] = field(default_factory=list)
    """Previous texts, oldest first (one per messages.edit)."""
    touched: int = field(default=0, repr=False)

    @property
    def inline(self) -> bool:
        """Whether the message carries an inline keyboard."""
        return bool(self.keyboard and self.keyboard.get("inline"))

    def buttons(self) -> list[dict[str, Any]]:
        """The keyboard's button ``action`` objects, row by row."""
        return _actions(self.keyboard)

    def labels(self) -> list[str]:
        """Labels of the keyboard's text and callback buttons."""
        return _labels(self.keyboard)


def _actions(keyboard: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not keyboard:
        return []
    return [
        button["action"]
        for row in keyboard.get("buttons") or []
        for button in row
        if isinstance(button, dict) and isinstance(button.get("action"), dict)
    ]


def _labels(keyboard: dict[str, Any] | None) -> list[str]:
    return [str(a["label"]) for a in _actions(keyboard) if a.get("type") in ("text", "callback")]


@dataclass
class _Peer:
    """A conversation of the community with one peer."""

    peer_id: int
    messages: list[VkSentMessage] = field(default_factory=list)
    keyboard: dict[str, Any] | None = None
    keyboard_message_id: int = 0
    blocked: bool = False
    wrote: bool = False
    cmid: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


@dataclass
class _Failure:
    code: int
    peer_id: int | None


@dataclass
class _PendingAnswer:
    user_id: int
    peer_id: int
    answered: bool = False
    event_data: dict[str, Any] | None = None


_Handler = Callable[[dict[str, str]], Awaitable[Any]]


def _int_param(params: dict[str, str], name: str, *, required: bool = False) -> int | None:
    raw = params.get(name)
    if raw is None or raw.strip() == "":
        if required:
            raise _invalid(f"{name} is a required parameter")
        return None
    try:
        return int(raw.strip())
    except ValueError:
        raise _invalid(f"{name} not integer") from None


def _int_list(params: dict[str, str], name: str) -> list[int]:
    raw = params.get(name, "")
    values: list[int] = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            values.append(int(part))
        except ValueError:
            raise _invalid(f"{name} should be a list of integers") from None
    return values


def _nearest_city(lat: float, lon: float) -> str:
    return min(_CITIES, key=lambda c: (c[1] - lat) ** 2 + (c[2] - lon) ** 2)[0]


class VkPerson(Protocol):
    """Who writes to the community (a FakeVkUser)."""

    user_id: int
    first_name: str
    last_name: str
    lang_id: int
