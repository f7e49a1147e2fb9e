"""A fake VK API (community bot side) for end-to-end tests of the vkbottle bot.

The real vkbottle ``API`` talks to it over real HTTP on 127.0.0.1::

    async with FakeVkServer() as server:
        api = API(server.token)
        api.API_URL = server.base_url           # "http://127.0.0.1:PORT/method/"
        citizen = server.user(7001)
        ...                                     # run BotPolling(api) or a Callback API endpoint
        await citizen.send_text("Нет света")
        answer = await citizen.replies()

What it does:

* serves ``/method/<name>`` like ``api.vk.com``: params from the query string and an urlencoded or
  multipart body, the token checked (error 5), ``v`` required (error 8), unknown methods refused
  (error 3), every answer ``{"response": ...}`` or ``{"error": {"error_code", "error_msg",
  "request_params"}}`` with HTTP 200, as VK does;
* enforces the community token's 20 requests a second (error 6) and records the busiest second
  (:attr:`FakeVkServer.max_rps`);
* ``messages.send`` as VK does it: a required ``random_id`` with de-duplication per (peer,
  random_id) (0 disables it), 9000 characters at most (914), keyboards validated like VK (911:
  sizes, labels, payloads, ``location`` rules, ``one_time`` with ``inline``), attachments that
  must be photos saved through ``photos.saveMessagesPhoto`` (or photos users sent), ``peer_ids``
  with per-peer results, blocked peers (901) and scripted failures (``fail_next``); it keeps each
  peer's persistent keyboard the way a VK client shows it;
* the photo upload flow (``photos.getMessagesUploadServer`` → multipart POST → ``photos.
  saveMessagesPhoto``) with VK's upload-server answers, and serves photos at ``/photos/<name>.jpg``;
* Bots Long Poll (``groups.getLongPollServer`` → ``act=a_check``) with ``failed`` 1/2 answers and
  the full event history (an older ``ts`` re-reads events), or Callback API delivery (JSON POSTs
  with the ``secret``) — see :meth:`FakeVkServer.use_callback`;
* scripted users (:class:`FakeVkUser`) who write, send photos, locations, stickers and voice
  messages, press keyboard buttons (``message_new`` with a payload or ``message_event``) and wait
  for the bot's replies. Events follow API 5.199 and parse into vkbottle's typed models.

Not modelled: VK's per-user flood limits beyond the token rate, Callback API retries, captchas
(unless injected with ``fail_next(..., 14)``), messages.delete and group chats management.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import re
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes.loopback import LoopbackServer
from tests.fakes.signal import Signal

__all__ = [
    "API_VERSION",
    "DEFAULT_GROUP_ID",
    "DEFAULT_TOKEN",
    "FakeVkServer",
    "FakeVkUser",
    "VkApiCall",
    "VkSentMessage",
    "tiny_jpeg",
]

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


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class FakeVkServer(LoopbackServer):
    """A VK API server for one community on 127.0.0.1 that records every call and serves events."""

    max_body = MAX_UPLOAD + 1024 * 1024

    def __init__(
        self,
        group_id: int = DEFAULT_GROUP_ID,
        token: str = DEFAULT_TOKEN,
        rate_limit: int = 20,
    ) -> None:
        """Create the server (``async with`` starts it). ``token`` is the only accepted token."""
        self.group_id = group_id
        self.token = token
        self.rate_limit = rate_limit
        self.group_name = "ЦУР Свердловской области"
        self.screen_name = f"club{group_id}"
        self.require_permission = False
        """When True, messages.send to a user who never wrote to the community fails with 901."""
        self.sent: list[VkSentMessage] = []
        self.requests: list[VkApiCall] = []
        self.uploaded: list[bytes] = []
        self.events: list[dict[str, Any]] = []
        """Every event pushed (by long poll or callback), in order."""
        self.callback_responses: list[tuple[int, str]] = []
        self.max_rps = 0
        super().__init__()
        self._users: dict[int, FakeVkUser] = {}
        self._peers: dict[int, _Peer] = {}
        self._message_ids = itertools.count(101)
        self._touch_seq = 0
        self._dedup: dict[tuple[int, int], VkSentMessage] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._answers: dict[str, _PendingAnswer] = {}
        # Long poll: every event since ts = _ts_base; keys handed out by getLongPollServer.
        self._history: list[dict[str, Any]] = []
        self._ts_base = 100
        self._lp_keys: set[str] = set()
        self._lp_signal = Signal()
        # Callback API delivery.
        self._callback: tuple[str, str | None] | None = None
        # Photos: upload sessions, uploaded-not-saved files, saved photos, served bytes.
        self._upload_sessions: dict[str, int | None] = {}
        self._upload_server = 851_234
        self._upload_secret = secrets.token_bytes(16)
        self._pending_uploads: dict[str, bytes] = {}
        self._photos: dict[tuple[int, int], str] = {}
        self._photo_ids = itertools.count(457_239_017)
        self._photo_bytes: dict[str, bytes] = {}
        # Rate accounting: accepted calls (for error 6) and all calls (for max_rps).
        self._accepted: deque[float] = deque()
        self._seen: deque[float] = deque()
        self._in_flight = 0
        self._last_activity = 0.0
        self._changed = Signal()
        self._versions = itertools.count(10_000_001)
        self._handlers: dict[str, _Handler] = {
            name.lower(): handler
            for name, handler in {
                "groups.getById": self._groups_get_by_id,
                "groups.getLongPollServer": self._groups_get_long_poll_server,
                "messages.send": self._messages_send,
                "messages.edit": self._messages_edit,
                "messages.sendMessageEventAnswer": self._messages_send_message_event_answer,
                "messages.setActivity": self._one,
                "messages.markAsRead": self._one,
                "photos.getMessagesUploadServer": self._photos_get_messages_upload_server,
                "photos.saveMessagesPhoto": self._photos_save_messages_photo,
                "users.get": self._users_get,
                "utils.getServerTime": self._utils_get_server_time,
            }.items()
        }

    # ---------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/method/`` — assign to vkbottle's ``API.API_URL``."""
        return f"{self.root_url}/method/"

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/method/{name}", self._handle_method)
        app.router.add_route("*", "/lp/{group_id}", self._handle_long_poll)
        app.router.add_post("/upload/photo", self._handle_upload)
        app.router.add_get("/photos/{name}.jpg", self._handle_photo)

    def _wake_waiters(self) -> None:
        self._lp_signal.fire()

    # ---------------------------------------------------------------- scripting

    def user(self, user_id: int, first_name: str = "Иван", lang_id: int = 0) -> FakeVkUser:
        """The scripted VK user with this id (created on first use; ``lang_id`` 0 ru, 3 en)."""
        if user_id <= 0:
            raise ValueError("VK user ids are positive")
        if user_id not in self._users:
            self._users[user_id] = FakeVkUser(self, user_id, first_name, lang_id)
        return self._users[user_id]

    def fail_next(self, method: str, code: int, times: int = 1, peer_id: int | None = None) -> None:
        """Answer the next ``times`` calls of ``method`` with VK error ``code`` (nothing is done).

        With ``peer_id``, only calls addressed to that peer (peer_id/user_id/peer_ids) fail.
        Typical codes: 9 flood control, 10 internal error, 6 too many requests, 901/902 can't send.
        """
        queue = self._failures.setdefault(method.lower(), [])
        queue.extend(_Failure(code, peer_id) for _ in range(times))

    def block(self, peer_id: int) -> None:
        """The user forbade messages from the community: every later send to them fails with 901."""
        self._peer(peer_id).blocked = True

    def unblock(self, peer_id: int) -> None:
        """The user allowed messages again."""
        self._peer(peer_id).blocked = False

    def use_callback(self, url: str, secret: str | None) -> None:
        """From now on deliver events as Callback API POSTs to ``url`` (with ``secret`` when set)."""
        self._callback = (url, secret)

    def use_long_poll(self) -> None:
        """Deliver events through the long-poll queue again (the default)."""
        self._callback = None

    def expire_long_poll_keys(self) -> None:
        """Invalidate every long-poll key: the next a_check gets ``{"failed": 2}``."""
        self._lp_keys.clear()

    def push_event(self, type_: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Build a full event and deliver it; returns the event.

        With the Callback API configured the POST runs in the background (see
        :meth:`deliver_event` to await it).
        """
        event = self._make_event(type_, obj)
        if self._callback is None:
            self._enqueue(event)
        else:
            task = asyncio.get_running_loop().create_task(self.post_callback(event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return event

    async def deliver_event(self, type_: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Like :meth:`push_event`, but a callback POST is awaited before returning."""
        event = self._make_event(type_, obj)
        if self._callback is None:
            self._enqueue(event)
        else:
            await self.post_callback(event)
        return event

    async def post_callback(self, event: dict[str, Any], secret: str | None = _UNSET) -> tuple[int, str]:
        """POST one event to the callback URL like VK does; returns (HTTP status, body).

        ``secret`` defaults to the configured one; None sends the event without a secret.
        """
        if self._callback is None:
            raise RuntimeError("no callback URL configured (use_callback)")
        if self._client is None:
            raise RuntimeError("FakeVkServer is not started")
        url, configured = self._callback
        secret = configured if secret is _UNSET else secret
        body = {k: v for k, v in event.items() if k != "secret"}
        if secret is not None:
            body["secret"] = secret
        data = json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "VKCallbackAPI"}
        try:
            async with self._client.post(
                url, data=data, headers=headers, timeout=aiohttp.ClientTimeout(total=CALLBACK_TIMEOUT)
            ) as response:
                result = (response.status, await response.text())
        except (aiohttp.ClientError, TimeoutError) as error:
            result = (0, f"{type(error).__name__}: {error}")
        self.callback_responses.append(result)
        self._changed.fire()
        return result

    def photo_url(self, name: str) -> str:
        """URL of a photo served by the fake (uploaded bytes for saved photos, else a tiny JPEG)."""
        return f"{self.root_url}/photos/{name}.jpg"

    # ---------------------------------------------------------------- inspection

    def messages_to(self, peer_id: int) -> list[VkSentMessage]:
        """Messages the bot sent to that peer (latest content), in order."""
        peer = self._peers.get(peer_id)
        return list(peer.messages) if peer else []

    def keyboard_of(self, peer_id: int) -> dict[str, Any] | None:
        """The persistent keyboard the peer currently sees (None if none)."""
        peer = self._peers.get(peer_id)
        return peer.keyboard if peer else None

    def unanswered_events(self) -> list[str]:
        """Ids of message_event presses the bot never answered with sendMessageEventAnswer."""
        return [event_id for event_id, pending in self._answers.items() if not pending.answered]

    def event_answer(self, event_id: str) -> dict[str, Any] | None:
        """The ``event_data`` the bot answered a message_event with (None if none or unanswered)."""
        pending = self._answers.get(event_id)
        return pending.event_data if pending else None

    def calls_of(self, method: str) -> list[VkApiCall]:
        """All calls of ``method`` (case-insensitive), in order."""
        return [c for c in self.requests if c.method.lower() == method.lower()]

    # ---------------------------------------------------------------- internals: events

    def _make_event(self, type_: str, obj: dict[str, Any]) -> dict[str, Any]:
        event = {
            "group_id": self.group_id,
            "type": type_,
            "event_id": secrets.token_hex(20),
            "v": API_VERSION,
            "object": obj,
        }
        self.events.append(event)
        return event

    def _enqueue(self, event: dict[str, Any]) -> None:
        self._history.append(event)
        self._lp_signal.fire()

    @property
    def _current_ts(self) -> int:
        return self._ts_base + len(self._history)

    def _peer(self, peer_id: int) -> _Peer:
        if peer_id not in self._peers:
            self._peers[peer_id] = _Peer(peer_id)
        return self._peers[peer_id]

    def _touch(self, message: VkSentMessage) -> None:
        self._touch_seq += 1
        message.touched = self._touch_seq
        self._changed.fire()

    def _user_message(
        self,
        user: FakeVkUser,
        text: str,
        *,
        attachments: list[dict[str, Any]] | None = None,
        payload: str | None = None,
        geo: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A message_new object for a message ``user`` writes to the community."""
        peer = self._peer(user.user_id)
        peer.wrote = True
        message: dict[str, Any] = {
            "date": int(time.time()),
            "from_id": user.user_id,
            "id": next(self._message_ids),
            "out": 0,
            "version": next(self._versions),
            "attachments": attachments or [],
            "conversation_message_id": next(peer.cmid),
            "fwd_messages": [],
            "important": False,
            "is_hidden": False,
            "peer_id": user.user_id,
            "random_id": 0,
            "text": text,
        }
        if payload is not None:
            message["payload"] = payload
        if geo is not None:
            message["geo"] = geo
        return {
            "message": message,
            "client_info": {
                "button_actions": list(CLIENT_BUTTON_ACTIONS),
                "keyboard": True,
                "inline_keyboard": True,
                "carousel": True,
                "lang_id": user.lang_id,
            },
        }

    def _button_event(self, user: FakeVkUser, payload: Any, cmid: int) -> dict[str, Any]:
        """A message_event object (a callback button press), remembered until answered."""
        event_id = secrets.token_hex(6)
        self._answers[event_id] = _PendingAnswer(user.user_id, user.user_id)
        obj: dict[str, Any] = {
            "user_id": user.user_id,
            "peer_id": user.user_id,
            "event_id": event_id,
            "payload": payload,
            "conversation_message_id": cmid,
        }
        return obj

    def _user_photo(self, user: FakeVkUser) -> dict[str, Any]:
        photo_id = next(self._photo_ids)
        access_key = secrets.token_hex(9)
        self._photos[(user.user_id, photo_id)] = access_key
        sizes = [
            {"height": h, "width": w, "type": t, "url": self.photo_url(f"u{user.user_id}_{photo_id}_{t}")}
            for t, w, h in _PHOTO_SIZES
        ]
        return {
            "type": "photo",
            "photo": {
                "album_id": -3,
                "date": int(time.time()),
                "id": photo_id,
                "owner_id": user.user_id,
                "access_key": access_key,
                "sizes": sizes,
                "text": "",
                "has_tags": False,
            },
        }

    # ---------------------------------------------------------------- internals: HTTP

    async def _params(self, request: web.Request) -> dict[str, str]:
        params: dict[str, str] = dict(request.query)
        if (
            request.method == "POST"
            and request.can_read_body
            and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, str):
                    params[key] = value
        return params

    async def _handle_method(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        try:
            params = await self._params(request)
        except ValueError:
            params = {}
        token = params.pop("access_token", None)
        auth = request.headers.get("Authorization", "")
        if token is None and auth.startswith("Bearer "):
            token = auth[len("Bearer ") :]
        now = time.monotonic()
        call = VkApiCall(method=name, params=params, at=now)
        self.requests.append(call)
        self._seen.append(now)
        while self._seen and self._seen[0] <= now - 1.0:
            self._seen.popleft()
        self.max_rps = max(self.max_rps, len(self._seen))
        self._in_flight += 1
        self._activity()
        body: dict[str, Any]
        try:
            result = await self._execute(name, params, token)
        except _VkError as error:
            call.error = error.code
            request_params = [
                {"key": "method", "value": name},
                {"key": "oauth", "value": "1"},
                *({"key": k, "value": v} for k, v in params.items()),
            ]
            body = {
                "error": {
                    "error_code": error.code,
                    "error_msg": error.message,
                    "request_params": request_params,
                    **error.extra,
                }
            }
        except Exception as exc:  # a bug in the fake itself: loud, but still in VK's shape
            call.error = 10
            body = {"error": {"error_code": 10, "error_msg": f"Internal server error: {exc!r}"}}
        else:
            call.result = result
            body = {"response": result}
        finally:
            call.done = True
            self._in_flight -= 1
            self._activity()
        return web.json_response(body, dumps=lambda obj: json.dumps(obj, ensure_ascii=False))

    def _activity(self) -> None:
        self._last_activity = asyncio.get_running_loop().time()
        self._changed.fire()

    async def _execute(self, name: str, params: dict[str, str], token: str | None) -> Any:
        handler = self._handlers.get(name.lower())
        if handler is None:
            raise _VkError(3)
        if token is None or not hmac.compare_digest(token, self.token):
            raise _VkError(5)
        version = params.get("v", "").strip()
        if not version:
            raise _VkError(8)
        try:
            if float(version) < 5.0:
                raise _VkError(8, "Invalid request: versions below 5.0 are no longer supported")
        except ValueError:
            raise _VkError(8, "Invalid request: invalid v (version) parameter") from None
        now = time.monotonic()
        while self._accepted and self._accepted[0] <= now - 1.0:
            self._accepted.popleft()
        if len(self._accepted) >= self.rate_limit:
            raise _VkError(6)
        self._accepted.append(now)
        self._inject_failure(name, params)
        return await handler(params)

    def _inject_failure(self, name: str, params: dict[str, str]) -> None:
        queue = self._failures.get(name.lower())
        if not queue:
            return
        peers: set[int] = set()
        for key in ("peer_id", "user_id"):
            with contextlib.suppress(_VkError):
                value = _int_param(params, key)
                if value is not None:
                    peers.add(value)
        for key in ("peer_ids", "user_ids"):
            with contextlib.suppress(_VkError):
                peers.update(_int_list(params, key))
        for index, failure in enumerate(queue):
            if failure.peer_id is None or failure.peer_id in peers:
                del queue[index]
                extra: dict[str, Any] = {}
                if failure.code == 14:
                    sid = secrets.token_hex(6)
                    extra = {"captcha_sid": sid, "captcha_img": f"{self.root_url}/captcha.php?sid={sid}"}
                raise _VkError(failure.code, **extra)

    async def _handle_long_poll(self, request: web.Request) -> web.Response:
        params = await self._params(request)
        if request.match_info["group_id"] != str(self.group_id) or params.get("key") not in self._lp_keys:
            return web.json_response({"failed": 2})
        if params.get("act") != "a_check":
            return web.json_response({"failed": 2})
        try:
            ts = int(params.get("ts", ""))
        except ValueError:
            return web.json_response({"failed": 1, "ts": str(self._current_ts)})
        if ts > self._current_ts or ts < self._ts_base:
            return web.json_response({"failed": 1, "ts": str(self._current_ts)})
        try:
            wait = min(max(int(params.get("wait", LONG_POLL_MAX_WAIT)), 0), LONG_POLL_MAX_WAIT)
        except ValueError:
            wait = LONG_POLL_MAX_WAIT
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while ts == self._current_ts and not self._closing and loop.time() < deadline:
            await self._lp_signal.wait(deadline - loop.time())
        updates = self._history[ts - self._ts_base :]
        return web.json_response(
            {"ts": str(self._current_ts), "updates": updates},
            dumps=lambda obj: json.dumps(obj, ensure_ascii=False),
        )

    async def _handle_upload(self, request: web.Request) -> web.Response:
        if request.query.get("sid") not in self._upload_sessions:
            return web.json_response({"error": "ERR_UPLOAD_BAD_SIGNATURE: upload url is invalid or expired"})
        data = b""
        if request.content_type == "multipart/form-data":
            form = await request.post()
            for key in ("photo", "file", "file1"):
                value = form.get(key)
                if isinstance(value, web.FileField):
                    data = value.file.read()
                    break
        if not data:
            return web.json_response({"error": "ERR_UPLOAD_FILE_NOT_UPLOADED: file not uploaded"})
        self.uploaded.append(data)
        photo = "[]"
        if data.startswith(_IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
            token = secrets.token_hex(12)
            self._pending_uploads[token] = data
            photo = json.dumps(
                [
                    {
                        "markers_restarted": True,
                        "photo": f"{token}:w",
                        "sizes": [],
                        "latitude": 0,
                        "longitude": 0,
                    }
                ],
                separators=(",", ":"),
            )
        self._changed.fire()
        return web.json_response(
            {"server": self._upload_server, "photo": photo, "hash": self._upload_hash(photo)}
        )

    def _upload_hash(self, photo: str) -> str:
        message = f"{self._upload_server}:{photo}".encode()
        return hmac.new(self._upload_secret, message, hashlib.sha256).hexdigest()[:32]

    async def _handle_photo(self, request: web.Request) -> web.Response:
        data = self._photo_bytes.get(request.match_info["name"], _TINY_JPEG)
        return web.Response(body=data, content_type="image/jpeg")

    # ---------------------------------------------------------------- API methods

    async def _one(self, params: dict[str, str]) -> Any:
        return 1

    async def _utils_get_server_time(self, params: dict[str, str]) -> Any:
        return int(time.time())

    def _group_object(self, group_id: int) -> dict[str, Any]:
        own = group_id == self.group_id
        return {
            "id": group_id,
            "name": self.group_name if own else f"Сообщество {group_id}",
            "screen_name": self.screen_name if own else f"club{group_id}",
            "is_closed": 0,
            "type": "group",
        }

    async def _groups_get_by_id(self, params: dict[str, str]) -> Any:
        ids = _int_list(params, "group_ids") or _int_list(params, "group_id") or [self.group_id]
        return {"groups": [self._group_object(abs(i)) for i in ids], "profiles": []}

    async def _groups_get_long_poll_server(self, params: dict[str, str]) -> Any:
        group_id = _int_param(params, "group_id", required=True)
        if group_id != self.group_id:
            raise _VkError(15, "Access denied: no access to this group")
        key = secrets.token_hex(20)
        self._lp_keys.add(key)
        return {"key": key, "server": f"{self.root_url}/lp/{self.group_id}", "ts": str(self._current_ts)}

    def _send_targets(self, params: dict[str, str]) -> tuple[list[int], bool]:
        for key in ("peer_ids", "user_ids"):
            if params.get(key, "").strip():
                peers = _int_list(params, key)
                if not peers:
                    raise _invalid(f"{key} is invalid")
                if len(peers) > MAX_PEER_IDS:
                    raise _invalid(f"{key} is too long, max {MAX_PEER_IDS} items")
                return list(dict.fromkeys(peers)), True
        for key in ("peer_id", "user_id"):
            value = _int_param(params, key)
            if value is not None:
                return [value], False
        chat_id = _int_param(params, "chat_id")
        if chat_id is not None:
            return [CHAT_PEER_BASE + chat_id], False
        raise _invalid("you should specify peer_id, user_id, domain, chat_id or user_ids param")

    def _parse_keyboard(self, raw: str) -> dict[str, Any]:
        try:
            keyboard = json.loads(raw)
        except ValueError:
            raise _bad_keyboard("keyboard should be a valid JSON object") from None
        if not isinstance(keyboard, dict):
            raise _bad_keyboard("keyboard should be a valid JSON object")
        rows = keyboard.get("buttons")
        if not isinstance(rows, list):
            raise _bad_keyboard("buttons field is required and should be an array")
        inline = keyboard.get("inline", False)
        one_time = keyboard.get("one_time", False)
        for name, flag in (("inline", inline), ("one_time", one_time)):
            if not isinstance(flag, bool):
                raise _bad_keyboard(f"{name} should be boolean")
        if inline and one_time:
            raise _bad_keyboard("one_time is not supported for inline keyboards")
        max_rows, max_buttons = (INLINE_ROWS, INLINE_BUTTONS) if inline else (REGULAR_ROWS, REGULAR_BUTTONS)
        if len(rows) > max_rows:
            raise _bad_keyboard(f"keyboard should contain no more than {max_rows} rows")
        total = 0
        for r, row in enumerate(rows):
            if not isinstance(row, list) or not row:
                raise _bad_keyboard(f"row {r} should be a non-empty array")
            if len(row) > ROW_WIDTH:
                raise _bad_keyboard(f"row {r} contains too much columns")
            for c, button in enumerate(row):
                self._check_button(r, c, button, inline=inline, row_size=len(row))
            total += len(row)
        if total > max_buttons:
            raise _bad_keyboard(f"keyboard should contain no more than {max_buttons} buttons")
        return keyboard

    def _check_button(self, r: int, c: int, button: Any, *, inline: bool, row_size: int) -> None:
        where = f"button [{r}][{c}]"
        if not isinstance(button, dict) or not isinstance(button.get("action"), dict):
            raise _bad_keyboard(f"{where} should contain action object")
        action: dict[str, Any] = button["action"]
        kind = action.get("type")
        if kind not in _ACTION_FIELDS:
            raise _bad_keyboard(f"{where} action type is invalid")
        required, optional = _ACTION_FIELDS[str(kind)]
        fields = set(action) - {"type"}
        if fields - required - optional:
            raise _bad_keyboard(f"{where} action contains unknown fields")
        missing = required - fields
        if missing:
            raise _bad_keyboard(f"{where} action should contain {sorted(missing)[0]} field")
        if "color" in button and button["color"] not in _COLORS:
            raise _bad_keyboard(f"{where} color is invalid")
        if "label" in action:
            label = action["label"]
            if not isinstance(label, str) or len(label) < 1:
                raise _bad_keyboard(f"{where} label should be at least 1 letters length")
            if len(label) > LABEL_LIMIT:
                raise _bad_keyboard(f"{where} label should be not more than {LABEL_LIMIT} letters length")
        if "payload" in action:
            payload = action["payload"]
            if not isinstance(payload, str):
                raise _bad_keyboard(f"{where} payload should be a string")
            if len(payload) > PAYLOAD_LIMIT:
                raise _bad_keyboard(f"{where} payload should be not more than {PAYLOAD_LIMIT} bytes length")
            try:
                json.loads(payload)
            except ValueError:
                raise _bad_keyboard(f"{where} payload should be a valid JSON") from None
        if kind == "open_link" and not re.match(r"^https?://\S+$", str(action["link"])):
            raise _bad_keyboard(f"{where} link is invalid")
        if kind == "location" and inline:
            raise _bad_keyboard(f"{where} location buttons are not supported in inline keyboards")
        if kind in _FULL_WIDTH_ACTIONS and row_size > 1:
            raise _bad_keyboard(f"{where} of type {kind} should be the only button in its row")

    def _check_attachments(self, raw: str) -> list[str]:
        items = [item.strip() for item in raw.split(",") if item.strip()]
        if len(items) > MAX_ATTACHMENTS:
            raise _invalid(f"attachment: too many attachments, max {MAX_ATTACHMENTS}")
        for item in items:
            match = _ATTACHMENT.match(item)
            if match is None or match["type"] != "photo":
                raise _invalid(f"attachment {item} is invalid")
            owner, photo_id = int(match["owner"]), int(match["id"])
            access_key = self._photos.get((owner, photo_id))
            if access_key is None:
                raise _invalid(f"attachment {item}: photo not found")
            key = match["key"]
            if (key is not None and key != access_key) or (key is None and owner != -self.group_id):
                raise _invalid(f"attachment {item}: access_key is invalid")
        return items

    def _content_check(self, text: str, attachments: list[str], params: dict[str, str]) -> None:
        if len(text) > MAX_MESSAGE_LENGTH:
            raise _VkError(914)
        has_geo = bool(params.get("lat", "").strip() and params.get("long", "").strip())
        if not text.strip() and not attachments and not params.get("sticker_id") and not has_geo:
            raise _invalid("message is empty or invalid")

    async def _messages_send(self, params: dict[str, str]) -> Any:
        peers, multi = self._send_targets(params)
        random_id = _int_param(params, "random_id", required=True)
        assert random_id is not None
        text = params.get("message", "")
        attachments = self._check_attachments(params.get("attachment", ""))
        raw_keyboard = params.get("keyboard", "")
        keyboard = self._parse_keyboard(raw_keyboard) if raw_keyboard.strip() else None
        self._content_check(text, attachments, params)
        results: list[dict[str, Any]] = []
        for peer_id in peers:
            try:
                message = self._create_message(peer_id, random_id, text, keyboard, attachments)
            except _VkError as error:
                if not multi:
                    raise
                results.append(
                    {"peer_id": peer_id, "error": {"code": error.code, "description": error.message}}
                )
            else:
                results.append(
                    {
                        "peer_id": peer_id,
                        "message_id": message.id,
                        "conversation_message_id": message.conversation_message_id,
                    }
                )
        if multi:
            return results
        return results[0]["message_id"]

    def _create_message(
        self,
        peer_id: int,
        random_id: int,
        text: str,
        keyboard: dict[str, Any] | None,
        attachments: list[str],
    ) -> VkSentMessage:
        if peer_id == 0:
            raise _invalid("peer_id is invalid")
        if random_id != 0 and (peer_id, random_id) in self._dedup:
            return self._dedup[(peer_id, random_id)]
        peer = self._peer(peer_id)
        if peer.blocked or (self.require_permission and 0 < peer_id < CHAT_PEER_BASE and not peer.wrote):
            raise _VkError(901)
        message = VkSentMessage(
            id=next(self._message_ids),
            peer_id=peer_id,
            text=text,
            random_id=random_id,
            keyboard=keyboard,
            attachments=list(attachments),
            at=time.monotonic(),
            conversation_message_id=next(peer.cmid),
        )
        if random_id != 0:
            self._dedup[(peer_id, random_id)] = message
        if keyboard is not None and not keyboard.get("inline"):
            if keyboard.get("buttons"):
                peer.keyboard, peer.keyboard_message_id = keyboard, message.id
            else:
                peer.keyboard, peer.keyboard_message_id = None, 0
        peer.messages.append(message)
        self.sent.append(message)
        self._touch(message)
        return message

    async def _messages_edit(self, params: dict[str, str]) -> Any:
        peer_id = _int_param(params, "peer_id", required=True)
        assert peer_id is not None
        message_id = _int_param(params, "message_id")
        cmid = _int_param(params, "conversation_message_id") or _int_param(params, "cmid")
        if message_id is None and cmid is None:
            raise _invalid("message_id is undefined")
        peer = self._peers.get(peer_id)
        target = None
        if peer is not None:
            target = next(
                (
                    m
                    for m in peer.messages
                    if (message_id is not None and m.id == message_id)
                    or (message_id is None and m.conversation_message_id == cmid)
                ),
                None,
            )
        if target is None:
            raise _invalid("message_id is invalid")
        text = params.get("message", "")
        attachments = (
            self._check_attachments(params["attachment"]) if "attachment" in params else target.attachments
        )
        raw_keyboard = params.get("keyboard", "")
        keyboard = self._parse_keyboard(raw_keyboard) if raw_keyboard.strip() else None
        self._content_check(text, attachments, params)
        target.edits.append(target.text)
        target.text = text
        target.attachments = list(attachments)
        # An edit without a keyboard takes the message's keyboard away.
        target.keyboard = keyboard
        self._touch(target)
        return 1

    async def _messages_send_message_event_answer(self, params: dict[str, str]) -> Any:
        event_id = params.get("event_id", "")
        user_id = _int_param(params, "user_id", required=True)
        peer_id = _int_param(params, "peer_id", required=True)
        pending = self._answers.get(event_id)
        if pending is None or pending.user_id != user_id or pending.peer_id != peer_id:
            raise _invalid("event_id is invalid")
        event_data: dict[str, Any] | None = None
        if params.get("event_data", "").strip():
            try:
                event_data = json.loads(params["event_data"])
            except ValueError:
                raise _invalid("event_data should be a valid JSON") from None
            if not isinstance(event_data, dict):
                raise _invalid("event_data should be a JSON object")
            kind = event_data.get("type")
            if kind == "show_snackbar":
                text = event_data.get("text")
                if not isinstance(text, str) or not 1 <= len(text) <= SNACKBAR_LIMIT:
                    raise _invalid(f"event_data.text should be 1..{SNACKBAR_LIMIT} characters")
            elif kind == "open_link":
                if not re.match(r"^https?://\S+$", str(event_data.get("link", ""))):
                    raise _invalid("event_data.link is invalid")
            elif kind == "open_app":
                if not isinstance(event_data.get("app_id"), int):
                    raise _invalid("event_data.app_id is invalid")
            else:
                raise _invalid("event_data.type is invalid")
        pending.answered = True
        pending.event_data = event_data
        self._changed.fire()
        return 1

    async def _photos_get_messages_upload_server(self, params: dict[str, str]) -> Any:
        peer_id = _int_param(params, "peer_id")
        sid = secrets.token_hex(10)
        self._upload_sessions[sid] = peer_id
        return {
            "album_id": -3,
            "upload_url": f"{self.root_url}/upload/photo?act=do_add&aid=-3&gid={self.group_id}&sid={sid}",
            "user_id": 0,
            "group_id": self.group_id,
        }

    async def _photos_save_messages_photo(self, params: dict[str, str]) -> Any:
        photo = params.get("photo", "")
        server = _int_param(params, "server")
        if not photo or server != self._upload_server:
            raise _invalid("photo is undefined")
        if not hmac.compare_digest(params.get("hash", ""), self._upload_hash(photo)):
            raise _invalid("hash is invalid")
        try:
            items = json.loads(photo)
            token = str(items[0]["photo"]).split(":", 1)[0]
        except (ValueError, LookupError, TypeError):
            raise _invalid("photos_list is invalid") from None
        data = self._pending_uploads.pop(token, None)
        if data is None:
            raise _invalid("photos_list is invalid")
        owner_id = -self.group_id
        photo_id = next(self._photo_ids)
        access_key = secrets.token_hex(9)
        self._photos[(owner_id, photo_id)] = access_key
        sizes = []
        for t, w, h in _PHOTO_SIZES:
            name = f"g{self.group_id}_{photo_id}_{t}"
            self._photo_bytes[name] = data
            sizes.append({"height": h, "width": w, "type": t, "url": self.photo_url(name)})
        return [
            {
                "album_id": -3,
                "date": int(time.time()),
                "id": photo_id,
                "owner_id": owner_id,
                "access_key": access_key,
                "sizes": sizes,
                "text": "",
                "has_tags": False,
            }
        ]

    async def _users_get(self, params: dict[str, str]) -> Any:
        users: list[dict[str, Any]] = []
        for raw in params.get("user_ids", params.get("user_id", "")).split(","):
            raw = raw.strip()
            if not raw:
                continue
            digits = raw[2:] if raw.startswith("id") else raw
            if not digits.isdigit() or int(digits) <= 0:
                raise _VkError(113)
            user_id = int(digits)
            known = self._users.get(user_id)
            users.append(
                {
                    "id": user_id,
                    "first_name": known.first_name if known else "Пользователь",
                    "last_name": known.last_name if known else f"№{user_id}",
                    "can_access_closed": True,
                    "is_closed": False,
                }
            )
        return users


# --------------------------------------------------------------------------------------------
# Scripted people
# --------------------------------------------------------------------------------------------


class FakeVkUser:
    """A scripted VK user writing to the community in a private conversation (peer id == user id)."""

    def __init__(
        self, server: FakeVkServer, user_id: int, first_name: str, lang_id: int, last_name: str = "Тестов"
    ) -> None:
        """Use :meth:`FakeVkServer.user` instead of calling this directly."""
        self.server = server
        self.user_id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.lang_id = lang_id
        self._cursor = 0

    # ---------------------------------------------------------------- writing

    async def _message(self, text: str, **fields: Any) -> dict[str, Any]:
        obj = self.server._user_message(self, text, **fields)
        return await self.server.deliver_event("message_new", obj)

    async def send_text(self, text: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """Write a text (optionally with a message payload); returns the message_new event."""
        raw = None if payload is None else json.dumps(payload, ensure_ascii=False)
        return await self._message(text, payload=raw)

    async def send_command(self, cmd: str) -> dict[str, Any]:
        """Write ``/cmd`` (the leading slash is optional)."""
        return await self.send_text(cmd if cmd.startswith("/") else f"/{cmd}")

    async def send_photos(self, count: int, text: str = "") -> dict[str, Any]:
        """Send ONE message with ``count`` photos (VK puts up to 10 into a message)."""
        if not 1 <= count <= MAX_ATTACHMENTS:
            raise ValueError(f"a VK message holds 1..{MAX_ATTACHMENTS} photos")
        photos = [self.server._user_photo(self) for _ in range(count)]
        return await self._message(text, attachments=photos)

    def _geo(self, lat: float, lon: float) -> dict[str, Any]:
        city = _nearest_city(lat, lon)
        return {
            "type": "point",
            "coordinates": {"latitude": lat, "longitude": lon},
            "place": {"title": f"{city}, Россия", "country": "Россия", "city": city},
        }

    async def send_location(self, lat: float, lon: float) -> dict[str, Any]:
        """Send a location (a message with "geo")."""
        return await self._message("", geo=self._geo(lat, lon))

    async def send_sticker(self) -> dict[str, Any]:
        """Send a sticker."""
        sticker_id = 9012
        images = [
            {"url": self.server.photo_url(f"sticker_{sticker_id}_{s}"), "width": s, "height": s}
            for s in (64, 128, 256, 352, 512)
        ]
        sticker = {
            "inner_type": "base_sticker_new",
            "product_id": 279,
            "sticker_id": sticker_id,
            "images": images,
            "images_with_background": images,
            "is_allowed": True,
        }
        return await self._message("", attachments=[{"type": "sticker", "sticker": sticker}])

    async def send_voice(self) -> dict[str, Any]:
        """Send a voice message."""
        voice_id = next(self.server._photo_ids)
        root = self.server.root_url
        voice = {
            "duration": 3,
            "id": voice_id,
            "owner_id": self.user_id,
            "access_key": secrets.token_hex(9),
            "link_mp3": f"{root}/audio/{voice_id}.mp3",
            "link_ogg": f"{root}/audio/{voice_id}.ogg",
            "waveform": [0, 3, 9, 17, 24, 17, 9, 3, 0],
        }
        return await self._message("", attachments=[{"type": "audio_message", "audio_message": voice}])

    # ---------------------------------------------------------------- buttons

    def _find_button(self, label: str, contains: bool) -> tuple[dict[str, Any], VkSentMessage | None, bool]:
        """The button with this label: (action, message carrying it, from the persistent keyboard)."""

        def matches(action: dict[str, Any]) -> bool:
            if action.get("type") not in ("text", "callback"):
                return False
            text = str(action.get("label", ""))
            return label in text if contains else text == label

        peer = self.server._peer(self.user_id)
        best: tuple[int, dict[str, Any], VkSentMessage | None, bool] | None = None
        for message in reversed(peer.messages):
            if not message.inline:
                continue
            action = next((a for a in message.buttons() if matches(a)), None)
            if action is not None:
                best = (message.id, action, message, False)
                break
        if peer.keyboard is not None:
            action = next((a for a in _actions(peer.keyboard) if matches(a)), None)
            if action is not None and (best is None or peer.keyboard_message_id > best[0]):
                owner = next((m for m in peer.messages if m.id == peer.keyboard_message_id), None)
                best = (peer.keyboard_message_id, action, owner, True)
        if best is None:
            visible = self.keyboard_labels() + [
                label for m in reversed(peer.messages) if m.inline for label in m.labels()
            ]
            raise AssertionError(
                f"no button {label!r} for VK user {self.user_id}; visible: {list(dict.fromkeys(visible))}"
            )
        return best[1], best[2], best[3]

    def _used_persistent(self) -> None:
        peer = self.server._peer(self.user_id)
        if peer.keyboard is not None and peer.keyboard.get("one_time"):
            peer.keyboard, peer.keyboard_message_id = None, 0

    async def press(self, label: str, *, contains: bool = False) -> dict[str, Any]:
        """Press the text/callback button with this label (newest inline one, or the persistent keyboard).

        A callback button sends a message_event; a text button a message_new with the label as
        text and the button's payload. Returns the event.
        """
        action, message, persistent = self._find_button(label, contains)
        if persistent:
            self._used_persistent()
        if action["type"] == "callback":
            raw = action.get("payload")
            payload = json.loads(raw) if isinstance(raw, str) else {}
            cmid = message.conversation_message_id if message else 0
            obj = self.server._button_event(self, payload, cmid)
            return await self.server.deliver_event("message_event", obj)
        return await self._message(str(action["label"]), payload=action.get("payload"))

    async def press_payload(self, payload: dict[str, Any], *, callback: bool = True) -> dict[str, Any]:
        """A forged press: a message_event with ``payload`` (or a message_new carrying it)."""
        if callback:
            messages = self.server.messages_to(self.user_id)
            cmid = messages[-1].conversation_message_id if messages else 0
            obj = self.server._button_event(self, payload, cmid)
            return await self.server.deliver_event("message_event", obj)
        return await self._message("", payload=json.dumps(payload, ensure_ascii=False))

    async def tap_location(self, lat: float, lon: float) -> dict[str, Any]:
        """Tap the "send location" button of the persistent keyboard: a geo message with its payload."""
        keyboard = self.server.keyboard_of(self.user_id)
        action = next((a for a in _actions(keyboard) if a.get("type") == "location"), None)
        if action is None:
            shown = self.keyboard_labels()
            raise AssertionError(
                f"no location button in the keyboard of VK user {self.user_id}; shown: {shown}"
            )
        self._used_persistent()
        return await self._message("", geo=self._geo(lat, lon), payload=action.get("payload"))

    # ---------------------------------------------------------------- reading

    async def replies(
        self,
        timeout: float = 15.0,  # noqa: ASYNC109 - an overall deadline, not for one await
        settle: float = 0.3,
    ) -> list[VkSentMessage]:
        """Wait for new bot messages to this user, then for ~``settle`` s of quiet.

        Returns the messages sent (or edited) since the previous ``replies()`` call, by id; an
        empty list if none came within ``timeout``.
        """
        server = self.server
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout

        def fresh() -> list[VkSentMessage]:
            return [m for m in server.messages_to(self.user_id) if m.touched > self._cursor]

        while not fresh() and loop.time() < deadline:
            await server._changed.wait(deadline - loop.time())
        if not fresh():
            return []
        while loop.time() < deadline:
            quiet = loop.time() - server._last_activity
            if quiet >= settle and server._in_flight == 0:
                break
            await asyncio.sleep(max(settle - quiet, 0.01))
        result = sorted(fresh(), key=lambda m: m.id)
        self._cursor = max(m.touched for m in result)
        return result

    def messages(self) -> list[VkSentMessage]:
        """Every bot message to this user."""
        return self.server.messages_to(self.user_id)

    def last_text(self) -> str:
        """Text of the newest bot message to this user."""
        messages = self.messages()
        if not messages:
            raise AssertionError(f"the bot has not written to VK user {self.user_id}")
        return messages[-1].text

    def keyboard_labels(self) -> list[str]:
        """Labels of the persistent keyboard currently shown (empty if none or removed)."""
        return _labels(self.server.keyboard_of(self.user_id))
