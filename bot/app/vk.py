"""The VK side of the wiring: the API client, Long Poll, the Callback API endpoint, delivery."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from vkbottle import API

from bot.app.wiring import App
from bot.core.config import secret_matches
from bot.delivery.pacing import Pacer, SlidingWindow
from bot.delivery.worker import OutboxWorker
from bot.inbound.queue import InboundQueue
from handlers.vk.citizen import VkCitizenBot, arrival_of
from handlers.vk.messenger import PEER_IDS_LIMIT, PhotoSource, VkMessenger
from storage.db import TRANSIENT_ERRORS

log = logging.getLogger(__name__)

# Callback API: VK waits for "ok" and sends the event again otherwise.
OK = "ok"


def build_vk_api(token: str, api_url: str | None) -> API:
    """A vkbottle API for the community token, talking to api.vk.com or to `api_url`."""
    api = API(token)
    if api_url:
        # vkbottle builds every method URL from this attribute; long-poll and upload URLs come
        # from the API's own answers, so they follow automatically.
        api.API_URL = api_url if api_url.endswith("/") else api_url + "/"
    return api


async def resolve_group_id(api: API, configured: int | None) -> int:
    """The community id: configured, or asked from VK with the token."""
    if configured:
        return configured
    response = await api.request("groups.getById", {})
    groups = response["response"].get("groups") or []
    if not groups:
        raise RuntimeError("VK_BOT_TOKEN does not belong to a community (groups.getById returned none)")
    return int(groups[0]["id"])


# Sends are at least this share of the average gap apart: a late one may catch up, never bunch up.
SPACING_SHARE = 0.6
WINDOW_SECONDS = 1.1


def community_gate(rate: float) -> Pacer:
    """The community's request budget: never more than `rate` calls in any one-second window.

    One call below the limit, over a window a tenth longer than VK's: requests leave paced but arrive
    with jitter, and VK counts arrivals (a fan-out to 500 reporters once had 21 arrive in a second
    with a one-second window here).
    """
    if rate >= 2:
        return SlidingWindow(int(rate) - 1, WINDOW_SECONDS, spacing=SPACING_SHARE / rate)
    return SlidingWindow(1, 1.0 / rate)


@dataclass
class VkSide:
    """Everything the VK bot needs at run time."""

    api: API
    citizens: VkCitizenBot
    gate: Pacer
    group_id: int

    async def close(self) -> None:
        await self.api.http_client.close()


async def build_vk(app: App, token: str, api_url: str | None = None) -> VkSide:
    """The VK API client, the citizen bot and the shared request budget of the community."""
    settings = app.settings
    api = build_vk_api(token, api_url or settings.vk_api_url)
    gate = community_gate(settings.vk_rate)
    citizens = VkCitizenBot(api, app.runner, gate)
    group_id = await resolve_group_id(api, settings.vk_group_id)
    return VkSide(api, citizens, gate, group_id)


def vk_callback_handler(
    vk: VkSide,
    queue: InboundQueue,
    *,
    secret: str | None,
    confirmation: str | None,
    on_stored: Callable[[], None] = lambda: None,
) -> Handler:
    """The Callback API endpoint: answers the confirmation, checks the secret, stores the event.

    "ok" only once the event is committed to the inbound queue (a repeat is stored once); with
    storage away the answer is a 503, and VK sends the event again.
    """

    async def handle(request: web.Request) -> web.Response:
        try:
            event: Any = await request.json(loads=json.loads)
        except ValueError:
            return web.Response(status=400, text="bad json")
        if not isinstance(event, dict):
            return web.Response(status=400, text="bad event")
        if int(event.get("group_id") or 0) != vk.group_id:
            return web.Response(status=403, text="wrong group")
        if event.get("type") == "confirmation":
            if not confirmation:
                log.error("VK asked for confirmation but VK_CONFIRMATION_CODE is not set")
                return web.Response(status=500, text="confirmation code not configured")
            return web.Response(text=confirmation)
        presented = event.get("secret")
        if secret is not None and not (isinstance(presented, str) and secret_matches(presented, secret)):
            log.warning("VK callback with a wrong secret refused")
            return web.Response(status=403, text="wrong secret")
        try:
            await queue.put(arrival_of(event))
        except TRANSIENT_ERRORS as error:
            log.warning("vk callback: storage unavailable (%s); answered 503", type(error).__name__)
            return web.Response(status=503, text="storage unavailable, try again")
        on_stored()
        return web.Response(text=OK)

    return handle


def build_vk_delivery(app: App, vk: VkSide, photo_source: PhotoSource | None) -> OutboxWorker:
    """The outbox worker for VK citizens, sharing the community's request budget with replies."""
    messenger = VkMessenger(vk.api, app.services.translator, vk.gate, photo_source)

    # A notice goes out 100 citizens per call: claim enough rows for a second's worth of calls.
    return app.outbox_worker({"vk": messenger}, batch=PEER_IDS_LIMIT * 20)
