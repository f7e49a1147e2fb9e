"""Citizens' private messages to the VK community: VK events → Inbound → dialog runner → messages.

Events arrive by Long Poll or by the Callback API; both go through `VkCitizenBot.accept`, which
drops repeated event ids, keeps each citizen's events in order and hands them to vkbottle's router.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from vkbottle import API, Bot, VKAPIError
from vkbottle.bot import BotLabeler
from vkbottle_types.events import GroupEventType

from bot.core.i18n import Translator
from bot.core.messages import Inbound, InboundKind
from bot.delivery.pacing import Pacer
from dialogs.engine import DialogRunner, Reply
from handlers.vk.render import LOCATION_PAYLOAD, render
from storage.state import UpdateLog

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


def _event_key(event: dict[str, Any]) -> str:
    # Without an event id (old API versions) every reply must still get its own random_id.
    return str(event.get("event_id") or uuid.uuid4().hex)


class PeerQueue:
    """Runs each peer's events one after another, in arrival order; different peers in parallel."""

    def __init__(self) -> None:
        self._tails: dict[int, asyncio.Task[None]] = {}

    def submit(self, peer_id: int, work: Callable[[], Coroutine[Any, Any, None]]) -> asyncio.Task[None]:
        previous = self._tails.get(peer_id)

        async def run() -> None:
            if previous is not None:
                await asyncio.gather(previous, return_exceptions=True)
            try:
                await work()
            except Exception:
                log.exception("vk: handling an event of peer %s failed", peer_id)
            finally:
                if self._tails.get(peer_id) is task:
                    del self._tails[peer_id]

        task = asyncio.create_task(run())
        self._tails[peer_id] = task
        return task

    async def drain(self) -> None:
        """Wait for every submitted event to be handled."""
        while self._tails:
            await asyncio.gather(*list(self._tails.values()), return_exceptions=True)


class VkCitizenBot:
    """The community bot for citizens: vkbottle's Bot and router, our dialog runner behind them."""

    def __init__(
        self,
        api: API,
        runner: DialogRunner,
        translator: Translator,
        update_log: UpdateLog,
        gate: Pacer,
    ) -> None:
        self.api = api
        self._runner = runner
        self._translator = translator
        self._update_log = update_log
        self._gate = gate
        self._queue = PeerQueue()
        labeler = BotLabeler()
        labeler.raw_event(GroupEventType.MESSAGE_NEW, dataclass=dict)(self._on_message)
        labeler.raw_event(GroupEventType.MESSAGE_EVENT, dataclass=dict)(self._on_button)
        self.bot = Bot(api=api, labeler=labeler)

    async def accept(self, event: dict[str, Any]) -> asyncio.Task[None] | None:
        """Take one event from Long Poll or Callback: repeats are dropped, the rest queued per peer."""
        event_id = event.get("event_id")
        if event_id and not await self._update_log.first_time(f"vk:{event_id}"):
            return None
        obj = event.get("object") or {}
        message = obj.get("message") if isinstance(obj, dict) else None
        peer = (message or obj).get("peer_id") if isinstance(obj, dict) else None
        return self._queue.submit(int(peer or 0), lambda: self.bot.process_event(event, self.api))

    async def drain(self) -> None:
        await self._queue.drain()

    async def _on_message(self, event: dict[str, Any]) -> None:
        inbound = inbound_from_message(event.get("object") or {})
        if inbound is None:
            return
        reply = await self._runner.handle(inbound)
        await self.send_reply(int(inbound.user_id), reply, _event_key(event))

    async def _on_button(self, event: dict[str, Any]) -> None:
        obj = event.get("object") or {}
        inbound = inbound_from_event(obj)
        if inbound is None:
            return
        reply = await self._runner.handle(inbound)
        # Answered after handling, so the button's spinner stops when the reply is on its way.
        await self._call(
            lambda: self.api.messages.send_message_event_answer(
                event_id=str(obj.get("event_id")), user_id=int(obj["user_id"]), peer_id=int(obj["peer_id"])
            )
        )
        await self.send_reply(int(inbound.user_id), reply, _event_key(event))

    async def send_reply(self, peer_id: int, reply: Reply, key: str) -> None:
        """Send a reply's messages; random_ids come from `key`, so a re-handled event sends no double."""
        for index, message in enumerate(render(reply.views, reply.lang, self._translator)):
            keyboard = message.keyboard_json()
            random_id = random_id_for(f"reply:{key}:{index}")

            def send(
                text: str = message.text, kb: str | None = keyboard, rid: int = random_id
            ) -> Awaitable[Any]:
                return self.api.messages.send(peer_id=peer_id, random_id=rid, message=text, keyboard=kb)

            if not await self._call(send):
                return

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
