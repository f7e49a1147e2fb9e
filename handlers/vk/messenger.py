"""Delivers outbox messages to VK citizens through the community's API, within 20 requests a second.

Each messages.send carries a random_id derived from the outbox row's idempotency key and the part's
index, so a retry after a lost answer (or a worker killed after the send) is dropped by VK instead
of reaching the citizen twice. Photos an operator attached in Telegram are fetched and uploaded to
VK first (photos.getMessagesUploadServer → upload → photos.saveMessagesPhoto).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
from vkbottle import API, PhotoMessageUploader, VKAPIError

from bot.core.i18n import Translator
from bot.delivery.outbox import DONE_PARTS, Kind, views_of
from bot.delivery.pacing import Pacer
from bot.delivery.ports import Delivery, Failed, Outcome, RetryAfter, Sent, Unreachable
from handlers.vk.citizen import SLOW_DOWN_CODES, UNREACHABLE_CODES, random_id_for
from handlers.vk.render import render

log = logging.getLogger(__name__)

# VK takes up to 10 attachments in one message.
ATTACHMENT_LIMIT = 10
# VK's flood control (error 9) gives no waiting time; this is a pause that lets it pass.
FLOOD_PAUSE_SECONDS = 5.0
TOO_FAST_PAUSE_SECONDS = 1.0

# messages.send takes up to 100 peer_ids: one call, one request of the community's budget.
PEER_IDS_LIMIT = 100

PhotoSource = Callable[[str], Awaitable[bytes]]


class VkMessenger:
    """The outbox's Messenger for VK citizens; a notice goes to up to 100 citizens per call."""

    platform = "vk"
    batch_limit = PEER_IDS_LIMIT

    def __init__(
        self, api: API, translator: Translator, gate: Pacer, photo_source: PhotoSource | None = None
    ) -> None:
        self._api = api
        self._translator = translator
        self._gate = gate
        self._photo_source = photo_source
        self._uploader = PhotoMessageUploader(api)
        # A notice's photo is uploaded once and attached for every recipient.
        self._shared_attachments: dict[str, str] = {}

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
        # A notice's parts get the same random_ids whether sent alone or in a peer_ids batch.
        stem = f"notice:{delivery.notice_id}" if delivery.notice_id is not None else delivery.key
        try:
            attachments = await self._attachments(payload, peer_id) if done == 0 else []
            for index in range(done, len(messages)):
                message = messages[index]
                params: dict[str, Any] = {
                    "peer_id": peer_id,
                    "random_id": random_id_for(f"{stem}:{index}"),
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
            # Flood control slows the community's whole budget: replies and other deliveries wait too.
            return self._error_outcome(error, sent)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            # ValueError: an answer that is not JSON (a proxy's error page, an upload server hiccup).
            return Failed(f"network: {type(error).__name__}: {error}", done_parts=sent)
        return Sent()

    async def deliver_many(self, deliveries: Sequence[Delivery]) -> list[Outcome]:
        """Send one notice to many citizens with peer_ids; each part carries one random_id for all.

        VK drops a repeated (peer, random_id) pair, so a batch retried after a crash reaches only the
        citizens who did not get it. Per-peer errors come back per peer.
        """
        if not deliveries:
            return []
        first = deliveries[0]
        payload = first.payload
        messages = render(views_of(payload), str(payload.get("lang", "ru")), self._translator)
        peers: dict[int, int] = {}
        outcomes: list[Outcome | None] = [None] * len(deliveries)
        for index, delivery in enumerate(deliveries):
            try:
                peers[int(delivery.target.removeprefix("vk:"))] = index
            except ValueError:
                outcomes[index] = Failed(f"bad target {delivery.target!r}")
        done = {index: int(deliveries[index].payload.get(DONE_PARTS, 0)) for index in peers.values()}
        try:
            attachments = await self._shared_photos(payload)
        except VKAPIError as error:
            return [o or self._error_outcome(error, 0) for o in outcomes]
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            return [o or Failed(f"photo: {type(error).__name__}: {error}") for o in outcomes]
        for part, message in enumerate(messages):
            waiting = [
                peer for peer, index in peers.items() if outcomes[index] is None and done[index] <= part
            ]
            if not waiting:
                continue
            params: dict[str, Any] = {
                "peer_ids": ",".join(map(str, waiting)),
                "random_id": random_id_for(f"notice:{first.notice_id}:{part}"),
                "message": message.text,
            }
            if message.keyboard is not None:
                params["keyboard"] = message.keyboard_json()
            if part == 0 and attachments:
                params["attachment"] = ",".join(attachments)
            await self._gate.take()
            try:
                # The raw request: vkbottle's typed answer for peer_ids cannot hold per-peer errors.
                response = await self._api.request("messages.send", params)
            except VKAPIError as error:
                for peer in waiting:
                    outcomes[peers[peer]] = self._error_outcome(error, done[peers[peer]])
                break
            except (aiohttp.ClientError, TimeoutError, ValueError) as error:
                for peer in waiting:
                    index = peers[peer]
                    outcomes[index] = Failed(
                        f"network: {type(error).__name__}: {error}", done_parts=done[index]
                    )
                break
            for item in response.get("response") or []:
                found = peers.get(int(item.get("peer_id", 0)))
                if found is None:
                    continue
                index = found
                error_info = item.get("error")
                if error_info:
                    code = int(error_info.get("code", 0))
                    outcomes[index] = self._code_outcome(
                        code, str(error_info.get("description", "")), done[index]
                    )
                else:
                    done[index] = part + 1
        return [o or Sent() for o in outcomes]

    def _error_outcome(self, error: VKAPIError, done_parts: int) -> Outcome:
        return self._code_outcome(int(error.code), str(error), done_parts)

    def _code_outcome(self, code: int, text: str, done_parts: int) -> Outcome:
        if code in UNREACHABLE_CODES:
            return Unreachable(f"vk {code}: {text}")
        if code in SLOW_DOWN_CODES:
            pause = FLOOD_PAUSE_SECONDS if code == 9 else TOO_FAST_PAUSE_SECONDS
            self._gate.slow_down(pause)
            return RetryAfter(pause, done_parts=done_parts)
        return Failed(f"vk {code}: {text}", done_parts=done_parts)

    async def _shared_photos(self, payload: dict[str, Any]) -> list[str]:
        """Attachments for a message sent to many peers: uploaded once, without a peer."""
        attachments: list[str] = []
        for ref in [str(p) for p in payload.get("photos", [])][:ATTACHMENT_LIMIT]:
            cached = self._shared_attachments.get(ref)
            if cached is None:
                if self._photo_source is None:
                    continue
                data = await self._photo_source(ref)
                await self._gate.take()
                await self._gate.take()
                cached = await self._uploader.upload(file_source=data)
                self._shared_attachments[ref] = cached
            attachments.append(cached)
        return attachments

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
