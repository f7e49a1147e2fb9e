"""Citizens' private messages to the VK community: VK events → Inbound → dialog runner → messages.

Events arrive by Long Poll or by the Callback API; both store them in the inbound queue
(`arrival_of` says where each belongs), which hands each citizen's events, in order and once, to
`VkCitizenBot.process` and so to vkbottle's router.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import replace
from typing import Any

import aiohttp
from vkbottle import API, Bot, VKAPIError
from vkbottle.bot import BotLabeler
from vkbottle_types.events import GroupEventType

from bot.core.messages import Inbound, InboundKind
from bot.delivery.pacing import Pacer
from bot.inbound.queue import Arrival, InboundItem
from bot.inbound.worker import RetryLater, Unprocessable
from dialogs.engine import DialogRunner
from handlers.vk.render import LOCATION_PAYLOAD

log = logging.getLogger(__name__)

PLATFORM = "vk"
SEND_ATTEMPTS = 4
# VK's client language ids (client_info.lang_id) for the languages we speak.
LANG_IDS = {0: "ru", 3: "en"}
# VK attachment types → the names the dialogs use for unsupported media.
MEDIA_NAMES = {
    "sticker": "sticker",
    "audio_message": "voice",
    "video": "video",
    "audio": "audio",
    "doc": "document",
    "graffiti": "sticker",
    "poll": "poll",
    "wall": "other",
    "link": "other",
}
# Peer ids from this value up are group conversations: the bot answers citizens privately only.
CHAT_PEER_BASE = 2_000_000_000
# The errors that mean "this citizen cannot be written to": privacy settings, blacklist, no consent.
UNREACHABLE_CODES = frozenset({7, 900, 901, 902, 936})
# Flood control and "too many requests": wait and send again.
SLOW_DOWN_CODES = frozenset({6, 9})


def _translated(
    translate: Callable[[dict[str, Any]], Inbound | None], event: dict[str, Any]
) -> Inbound | None:
    """The event in the dialogs' words; a shape VK never sends (wrong types, missing ids) is unprocessable."""
    obj = event.get("object")
    if not isinstance(obj, dict):
        raise Unprocessable("a VK event without an object")
    try:
        return translate(obj)
    except (TypeError, ValueError, AttributeError, KeyError) as error:
        raise Unprocessable(f"not a VK event ({type(error).__name__})") from None


@contextlib.contextmanager
def _kept() -> Iterator[None]:
    """Inside a handler: an exception is kept for `VkCitizenBot.process` instead of reaching vkbottle."""
    try:
        yield
    except Exception as error:
        failures = _failure.get()
        if failures is None:
            raise
        failures.append(error)


def random_id_for(key: str) -> int:
    """A stable positive int32 from a key: VK drops a repeated (peer, random_id) send."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") & 0x7FFFFFFF


def _decode_payload(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str) and raw:
        try:
            value = json.loads(raw)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}
    return {}


def _button_id(payload: dict[str, Any]) -> str:
    value = payload.get("b")
    return value[:64] if isinstance(value, str) else ""


def _largest_photo_url(photo: dict[str, Any]) -> str | None:
    sizes = [s for s in photo.get("sizes") or [] if isinstance(s, dict) and s.get("url")]
    if not sizes:
        return None
    best = max(sizes, key=lambda s: int(s.get("width") or 0) * int(s.get("height") or 0))
    return str(best["url"])


def inbound_from_message(obj: dict[str, Any]) -> Inbound | None:
    """Translate a message_new object; None for messages the bot must not answer (group chats)."""
    message = obj.get("message") or {}
    peer_id = int(message.get("peer_id") or 0)
    from_id = int(message.get("from_id") or 0)
    if peer_id >= CHAT_PEER_BASE or from_id <= 0:
        return None
    client = obj.get("client_info") or {}
    hint = LANG_IDS.get(int(client.get("lang_id") or 0), "ru")

    def make(kind: InboundKind, **fields: Any) -> Inbound:
        return Inbound(platform=PLATFORM, user_id=str(from_id), kind=kind, language_hint=hint, **fields)

    text = str(message.get("text") or "")
    payload = _decode_payload(message.get("payload"))
    if payload.get("command") == "start":
        # VK's "Start" button sends the text «Начать» with this payload.
        return make(InboundKind.COMMAND, command="start", text="/start")
    if _button_id(payload):
        return make(InboundKind.BUTTON, button=_button_id(payload))
    attachments = [a for a in message.get("attachments") or [] if isinstance(a, dict)]
    photos = tuple(
        url
        for a in attachments
        if a.get("type") == "photo"
        for url in [_largest_photo_url(a.get("photo") or {})]
        if url
    )
    geo = message.get("geo") or {}
    coordinates = geo.get("coordinates") if isinstance(geo, dict) else None
    if photos:
        return make(InboundKind.PHOTOS, photos=photos, text=text)
    if isinstance(coordinates, dict) and "latitude" in coordinates and "longitude" in coordinates:
        return make(
            InboundKind.LOCATION, lat=float(coordinates["latitude"]), lon=float(coordinates["longitude"])
        )
    if payload == LOCATION_PAYLOAD:
        # The location button pressed on a client that sent no coordinates.
        return make(InboundKind.UNSUPPORTED, media="location")
    if attachments and not text:
        kind = str(attachments[0].get("type"))
        return make(InboundKind.UNSUPPORTED, media=MEDIA_NAMES.get(kind, "other"))
    if text.startswith("/") and len(text) > 1:
        command = text[1:].split(maxsplit=1)[0].lower()
        return make(InboundKind.COMMAND, command=command, text=text)
    if text:
        return make(InboundKind.TEXT, text=text)
    return make(InboundKind.UNSUPPORTED, media="other")


def inbound_from_event(obj: dict[str, Any]) -> Inbound | None:
    """Translate a message_event (a callback button press)."""
    user_id = int(obj.get("user_id") or 0)
    if user_id <= 0 or int(obj.get("peer_id") or 0) >= CHAT_PEER_BASE:
        return None
    payload = _decode_payload(obj.get("payload"))
    return Inbound(
        platform=PLATFORM, user_id=str(user_id), kind=InboundKind.BUTTON, button=_button_id(payload)
    )


def event_key(event: dict[str, Any]) -> str:
    """The de-duplication key of a VK event: its event_id, or (old API versions) a hash of the event."""
    event_id = event.get("event_id")
    if isinstance(event_id, str) and event_id:
        return f"{PLATFORM}:{event_id[:80]}"
    digest = hashlib.sha256(json.dumps(event, sort_keys=True, default=str).encode()).hexdigest()
    return f"{PLATFORM}:h:{digest[:40]}"


def peer_of(event: dict[str, Any]) -> int:
    """The citizen's peer id an event belongs to (0 when it names none)."""
    obj = event.get("object")
    if not isinstance(obj, dict):
        return 0
    message = obj.get("message")
    source = message if isinstance(message, dict) else obj
    peer = source.get("peer_id")
    return peer if isinstance(peer, int) and not isinstance(peer, bool) else 0


def arrival_of(event: dict[str, Any]) -> Arrival:
    """Where a VK event belongs in the inbound queue: one conversation per peer."""
    key = event_key(event)
    peer = peer_of(event)
    return Arrival(key, PLATFORM, f"{PLATFORM}:{peer}" if peer else key, event)


# The failure of the event being processed: vkbottle's router logs handler errors and goes on,
# so the handler keeps it here for `process` to raise (and the inbound queue to retry).
_failure: ContextVar[list[BaseException] | None] = ContextVar("vk_failure", default=None)


class VkCitizenBot:
    """The community bot for citizens: vkbottle's Bot and router, our dialog runner behind them."""

    def __init__(self, api: API, runner: DialogRunner, gate: Pacer) -> None:
        self.api = api
        self._runner = runner
        self._gate = gate
        labeler = BotLabeler()
        labeler.raw_event(GroupEventType.MESSAGE_NEW, dataclass=dict)(self._on_message)
        labeler.raw_event(GroupEventType.MESSAGE_EVENT, dataclass=dict)(self._on_button)
        self.bot = Bot(api=api, labeler=labeler)

    async def process(self, item: InboundItem) -> None:
        """Process one queued event through vkbottle's router; what failed is raised, not swallowed."""
        failures: list[BaseException] = []
        token = _failure.set(failures)
        try:
            await self.bot.process_event(item.payloads[0], self.api)
        finally:
            _failure.reset(token)
        if failures:
            failure = failures[0]
            if isinstance(failure, VKAPIError) and failure.code in SLOW_DOWN_CODES | {10}:
                raise RetryLater(f"vk error {failure.code}") from failure
            if isinstance(failure, aiohttp.ClientError | TimeoutError):
                raise RetryLater(type(failure).__name__) from failure
            raise failure

    async def _on_message(self, event: dict[str, Any]) -> None:
        with _kept():
            inbound = _translated(inbound_from_message, event)
            if inbound is None:
                return
            # The runner queues the answer in the outbox (random_ids from its key: never doubled).
            await self._runner.handle(replace(inbound, key=event_key(event)))

    async def _on_button(self, event: dict[str, Any]) -> None:
        with _kept():
            inbound = _translated(inbound_from_event, event)
            if inbound is None:
                return
            obj = event["object"]
            if not isinstance(obj.get("event_id"), str) or not isinstance(obj.get("peer_id"), int):
                raise Unprocessable("a VK button press without its event and peer ids")
            await self._runner.handle(replace(inbound, key=event_key(event)))
            # Answered after handling, so the button's spinner stops when the reply is on its way; a
            # press redone after a restart may be too old to answer, and nothing is lost by that.
            with contextlib.suppress(VKAPIError):
                await self._call(
                    lambda: self.api.messages.send_message_event_answer(
                        event_id=str(obj.get("event_id")),
                        user_id=int(obj["user_id"]),
                        peer_id=int(obj["peer_id"]),
                    )
                )

    async def _call(self, call: Callable[[], Awaitable[Any]]) -> bool:
        """One API call within the community's rate; False when the citizen cannot be written to."""
        for attempt in range(SEND_ATTEMPTS):
            await self._gate.take()
            try:
                await call()
                return True
            except VKAPIError as error:
                if error.code in UNREACHABLE_CODES:
                    log.info("vk: cannot write to the citizen (%s %s); reply dropped", error.code, error)
                    return False
                if error.code in SLOW_DOWN_CODES and attempt < SEND_ATTEMPTS - 1:
                    await asyncio.sleep(1.0 + attempt)
                    continue
                raise
        return False
