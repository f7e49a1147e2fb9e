"""Delivers outbox messages to VK citizens through the community's API, within 20 requests a second.

Each messages.send carries a random_id derived from the outbox row's idempotency key and the part's
index, so a retry after a lost answer (or a worker killed after the send) is dropped by VK instead
of reaching the citizen twice. Photos an operator attached in Telegram are fetched and uploaded to
VK first (photos.getMessagesUploadServer → upload → photos.saveMessagesPhoto).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from vkbottle import API, PhotoMessageUploader, VKAPIError

from bot.i18n import Translator
from bot.outbox import DONE_PARTS, Delivery, Failed, Kind, Outcome, RetryAfter, Sent, Unreachable, views_of
from bot.pacing import TokenBucket
from handlers.vk.citizen import SLOW_DOWN_CODES, UNREACHABLE_CODES, random_id_for
from handlers.vk.render import render

log = logging.getLogger(__name__)

# VK takes up to 10 attachments in one message.
ATTACHMENT_LIMIT = 10
# VK's flood control (error 9) gives no waiting time; this is a pause that lets it pass.
FLOOD_PAUSE_SECONDS = 5.0
TOO_FAST_PAUSE_SECONDS = 1.0

PhotoSource = Callable[[str], Awaitable[bytes]]


class VkMessenger:
    """The outbox's Messenger for VK citizens."""

    platform = "vk"

    def __init__(
        self, api: API, translator: Translator, gate: TokenBucket, photo_source: PhotoSource | None = None
    ) -> None:
        self._api = api
        self._translator = translator
        self._gate = gate
        self._photo_source = photo_source
        self._uploader = PhotoMessageUploader(api)

    async def deliver(self, delivery: Delivery) -> Outcome:
        """Send one outbox message; VK errors become outcomes, never exceptions."""
        if delivery.kind not in (Kind.CITIZEN, Kind.DIRECT):
            return Failed(f"vk cannot deliver {delivery.kind.value} messages")
        try:
            peer_id = int(delivery.target.removeprefix("vk:"))
        except ValueError:
            return Failed(f"bad target {delivery.target!r}")
        payload = delivery.payload
        messages = render(views_of(payload), str(payload.get("lang", "ru")), self._translator)
        done = int(payload.get(DONE_PARTS, 0))
        sent = done
        try:
            attachments = await self._attachments(payload, peer_id) if done == 0 else []
            for index in range(done, len(messages)):
                message = messages[index]
                params: dict[str, Any] = {
                    "peer_id": peer_id,
                    "random_id": random_id_for(f"{delivery.key}:{index}"),
                    "message": message.text,
                }
                if message.keyboard is not None:
                    params["keyboard"] = message.keyboard_json()
                if index == 0 and attachments:
                    params["attachment"] = ",".join(attachments)
                await self._gate.take()
                await self._api.messages.send(**params)
                sent += 1
        except VKAPIError as error:
            if error.code in UNREACHABLE_CODES:
                return Unreachable(f"vk {error.code}: {error}")
            if error.code in SLOW_DOWN_CODES:
                pause = FLOOD_PAUSE_SECONDS if error.code == 9 else TOO_FAST_PAUSE_SECONDS
                # The budget is the community's: replies and other deliveries wait as well.
                self._gate.slow_down(pause)
                return RetryAfter(pause, done_parts=sent)
            return Failed(f"vk {error.code}: {error}", done_parts=sent)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            # ValueError: an answer that is not JSON (a proxy's error page, an upload server hiccup).
            return Failed(f"network: {type(error).__name__}: {error}", done_parts=sent)
        return Sent()

    async def _attachments(self, payload: dict[str, Any], peer_id: int) -> list[str]:
        """Upload the message's photos to VK; returns attachment strings for messages.send."""
        photos = [str(p) for p in payload.get("photos", [])][:ATTACHMENT_LIMIT]
        if not photos or self._photo_source is None:
            return []
        attachments: list[str] = []
        for ref in photos:
            data = await self._photo_source(ref)
            # Three calls per photo (server, upload, save): two of them count against the rate.
            await self._gate.take()
            await self._gate.take()
            attachments.append(await self._uploader.upload(file_source=data, peer_id=peer_id))
        return attachments
