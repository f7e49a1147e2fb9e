"""The Telegram webhook: an update is answered 200 only once it is stored in the inbound queue.

Telegram redelivers an update it got no 2xx for, and never one it did: so the answer comes after
the commit, a storage outage answers 503 (Telegram tries again later), and a redelivery of an
update already stored is answered 200 without being queued twice. The secret check never fails
open: any mismatch is a plain 403.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import MultipartWriter, web

from bot.core.config import secret_matches
from bot.inbound.queue import InboundQueue
from handlers.telegram.inbound import arrival_of
from storage.db import TRANSIENT_ERRORS

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's updates are far smaller; a body this large is not one.
MAX_BODY = 1 << 20
RETRY_AFTER = {"Retry-After": "1"}


def citizen_callback_id(update: Any) -> str | None:
    """The id of a button press in a private chat (a citizen's), to be answered on receipt."""
    query = update.get("callback_query") if isinstance(update, dict) else None
    if not isinstance(query, dict) or not isinstance(query.get("id"), str):
        return None
    message = query.get("message")
    chat = message.get("chat") if isinstance(message, dict) else None
    return query["id"] if isinstance(chat, dict) and chat.get("type") == "private" else None


def _answer_callback(query_id: str) -> web.Response:
    # A method in the webhook's answer, as aiogram's own webhook handler sends it (multipart).
    writer = MultipartWriter("form-data")
    for name, value in (("method", "answerCallbackQuery"), ("callback_query_id", query_id)):
        part = writer.append(value)
        part.set_content_disposition("form-data", name=name)
    return web.Response(body=writer)


def webhook_receiver(
    queue: InboundQueue,
    secret: str | None,
    on_stored: Callable[[], None] = lambda: None,
    *,
    answer_citizen_callbacks: bool = False,
) -> Callable[[web.Request], object]:
    """The aiohttp handler for POSTs from Telegram.

    With `answer_citizen_callbacks` a citizen's button press is answered (the spinner stopped) in
    the webhook's own response once stored, saving a call; nothing the citizen reads goes this way.
    """

    async def receive(request: web.Request) -> web.Response:
        if secret and not secret_matches(request.headers.get(SECRET_HEADER, ""), secret):
            return web.Response(status=403, text="wrong secret")
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413, text="too large")
        try:
            update = json.loads(await request.read())
            arrival = arrival_of(update)
        except ValueError:
            # Not an update: redelivering it would not make it one.
            return web.Response(status=400, text="not an update")
        try:
            await queue.put(arrival)
        except TRANSIENT_ERRORS as error:
            # Storage away, or more stored than the workers keep up with (StorageBusy).
            log.warning("telegram webhook: storage unavailable (%s); answered 503", type(error).__name__)
            return web.Response(status=503, text="storage unavailable, try again", headers=RETRY_AFTER)
        on_stored()
        query_id = citizen_callback_id(update) if answer_citizen_callbacks else None
        return _answer_callback(query_id) if query_id else web.Response(text="ok")

    return receive


def webhook_mount(
    queue: InboundQueue,
    path: str,
    secret: str | None,
    on_stored: Callable[[], None],
    *,
    answer_citizen_callbacks: bool = False,
) -> Callable[[web.Application], None]:
    """What mounts the webhook at `path` on the product's web application."""
    receiver = webhook_receiver(queue, secret, on_stored, answer_citizen_callbacks=answer_citizen_callbacks)

    def mount(web_app: web.Application) -> None:
        web_app.router.add_post(path, receiver)  # type: ignore[arg-type]

    return mount
