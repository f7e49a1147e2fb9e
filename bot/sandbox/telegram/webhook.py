"""Webhook delivery as Telegram does it.

Once the bot called ``setWebhook`` (or a test called :meth:`WebhookQueue.deliver_via_webhook`),
every scripted update is queued and POSTed to the webhook with the
``X-Telegram-Bot-Api-Secret-Token`` header; anything but a 2xx — an error status, no answer within
``webhook_policy.timeout``, a reset or refused connection — is POSTed again after a short backoff,
with the same ``update_id``, until a 2xx. Updates of one chat go one at a time and in order (a
later one waits behind one being retried), at most ``max_connections`` POSTs are in flight
(setWebhook's, default 40), and a scripted action returns as soon as its update is queued.
``deleteWebhook`` hands what is still pending back to ``getUpdates``.

The bot registers an https URL the sandbox cannot reach; the test says where it really listens
with ``deliver_via_webhook``. Nothing is ever POSTed to an address off this machine: such an attempt
is recorded as failed (status 0) and retried, waiting for the test to name a loopback URL.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Hashable, Sequence
from typing import Any

import aiohttp

from bot.sandbox.pusher import Attempt, Delivery, Pusher, PushPolicy, Route
from bot.sandbox.telegram.errors import DEFAULT_TOKEN, _bad
from bot.sandbox.telegram.records import ApiCall, UploadedFile, _as_int, _decode_form_value
from bot.sandbox.telegram.updates import UpdateQueue

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_MAX_CONNECTIONS = 40
# Update kinds whose object carries the chat the update belongs to.
_CHAT_KINDS = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
    "edited_business_message",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "message_reaction",
    "message_reaction_count",
    "chat_boost",
    "removed_chat_boost",
)
# "Whatever the webhook currently uses" for redeliver's secret (None means: send none).
_CURRENT: Any = object()


def _is_2xx(status: int, body: str) -> bool:
    return 200 <= status < 300


def _dig(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _lane_of(update_id: int, update: Any) -> Hashable:
    """Telegram sends the updates of one chat in order, one at a time; others each on their own."""
    for kind in _CHAT_KINDS:
        chat_id = _dig(update, kind, "chat", "id")
        if isinstance(chat_id, int) and not isinstance(chat_id, bool):
            return ("chat", chat_id)
    chat_id = _dig(update, "callback_query", "message", "chat", "id")
    if isinstance(chat_id, int) and not isinstance(chat_id, bool):
        return ("chat", chat_id)
    if isinstance(update, dict):
        for value in update.values():
            user_id = _dig(value, "from", "id")
            if isinstance(user_id, int) and not isinstance(user_id, bool):
                return ("user", user_id)
    return ("update", update_id)


class WebhookQueue(UpdateQueue):
    """getUpdates or the webhook, whichever the bot (or the test) chose."""

    def __init__(self, token: str = DEFAULT_TOKEN) -> None:
        """Create the server (call :meth:`start` to listen). ``token`` is the only accepted token."""
        super().__init__(token)
        self.webhook_policy = PushPolicy()
        """Timeout, backoff, attempts and default connection cap of webhook POSTs (set it freely)."""
        self._webhook_override: Route | None = None
        self._pusher = Pusher(
            post=self._post_update,
            accepts=_is_2xx,
            policy=lambda: self.webhook_policy,
            route=self._webhook_route,
            hand_back=self._hand_back,
            changed=self._signal.fire,
        )
        self._pushers.append(self._pusher)

    # ------------------------------------------------------------------ choosing the way

    def deliver_via_webhook(
        self, url: str | None, secret: str | None = None, *, max_connections: int | None = None
    ) -> None:
        """POST updates to ``url`` (the bot's webhook server on 127.0.0.1) from now on, including
        those still waiting in the getUpdates queue.

        ``url`` stands in for the address the bot registered with setWebhook, if it did;
        ``secret`` and ``max_connections`` default to what the bot registered. ``None`` drops the
        stand-in: the bot's own setWebhook URL is used if it set one, else getUpdates.
        """
        self._webhook_override = None if url is None else Route(url, secret, max_connections)
        self._queue_to_webhook()

    def _webhook_route(self) -> Route | None:
        registered = self.webhook or {}
        secret = registered.get("secret_token")
        limit = registered.get("max_connections")
        max_connections = _as_int(limit, "max_connections") if limit is not None else None
        override = self._webhook_override
        if override is not None:
            return Route(
                override.url,
                override.secret if override.secret is not None else secret,
                override.max_connections or max_connections,
            )
        if self.webhook is not None:
            return Route(str(registered["url"]), secret, max_connections)
        return None

    def _queue_to_webhook(self) -> None:
        if self._webhook_route() is None:
            return
        waiting, self._queue = self._queue, []
        for update_id, update in waiting:
            self._pusher.enqueue(update_id, update, _lane_of(update_id, update))

    def _hand_back(self, delivery: Delivery) -> None:
        self._enqueue_for_polling(int(delivery.key), delivery.payload)

    async def _deliver(self, update: dict[str, Any]) -> int:
        return self._submit(update, keep_update_id=False)

    def push_raw_update(self, update: Any, *, keep_update_id: bool = False) -> int:
        """Send any JSON value as an update (for fuzzing), by webhook or getUpdates as scripted
        updates go; returns the id the sandbox tracks it by.

        A dict gets that id as its ``update_id`` unless ``keep_update_id`` (then it goes exactly as
        given, with a missing, wrong-typed or repeated ``update_id`` as the case may be).
        """
        return self._submit(update, keep_update_id=keep_update_id)

    def _submit(self, update: Any, *, keep_update_id: bool) -> int:
        update_id = self._allocate_update_id()
        if isinstance(update, dict) and not keep_update_id:
            update = {**update, "update_id": update_id}
        self._updates[update_id] = update
        if self._webhook_route() is None:
            self._enqueue_for_polling(update_id, update)
        else:
            self._pusher.enqueue(update_id, update, _lane_of(update_id, update))
        return update_id

    # ------------------------------------------------------------------ posting

    async def _post_update(self, route: Route, delivery: Delivery, retry: int) -> tuple[int, str]:
        self._delivered_at.setdefault(int(delivery.key), len(self.calls))
        self._signal.fire()
        return await self._post_json(route.url, delivery.payload, route.secret)

    async def _post_json(self, url: str, update: Any, secret: str | None) -> tuple[int, str]:
        # A method in a 200 answer (aiogram's "reply in webhook") is executed and recorded like a call.
        if self._client is None:
            raise RuntimeError("FakeTelegramServer is not started")
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        data = json.dumps(update, ensure_ascii=False).encode()
        async with self._client.post(url, data=data, headers=headers) as resp:
            if resp.status != 200 or resp.content_type != "multipart/form-data":
                return resp.status, (await resp.read()).decode("utf-8", "replace")
            params: dict[str, str] = {}
            files: dict[str, UploadedFile] = {}
            reader = aiohttp.MultipartReader(resp.headers, resp.content)
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                    continue
                if part.filename:
                    files[part.name] = self._upload(part.name, part.filename, "", bytes(await part.read()))
                else:
                    params[part.name] = await part.text()
            method = params.pop("method", "")
            if method:
                decoded = {k: _decode_form_value(k, v) for k, v in params.items()}
                await self._execute(method, decoded, files, via_webhook_reply=True)
            return resp.status, ""

    async def post_webhook(self, url: str, update: dict[str, Any], secret: str | None) -> int:
        """POST one update to ``url`` once, outside the queue; returns the HTTP status (0: no answer).

        An update without ``update_id`` gets a new one. A method in the answer (aiogram's "reply
        in webhook") is executed and recorded like a normal call (``ApiCall.via_webhook_reply``).
        """
        update = dict(update)
        if "update_id" not in update:
            update["update_id"] = self._allocate_update_id()
        key = _as_int(update["update_id"], "update_id")
        once = Delivery(key, update, _lane_of(key, update), state="forced")
        made = await self._pusher.attempt(Route(url, secret), once, 0, duplicate=True)
        return made.status

    async def redeliver(
        self,
        update_id: int,
        times: int = 2,
        urls: Sequence[str] | None = None,
        secret: str | None = _CURRENT,
    ) -> list[Attempt]:
        """POST update ``update_id`` ``times`` more times at once, round-robin over ``urls``
        (default: the webhook's), as a Telegram that lost its answers does; returns the attempts.

        The update keeps its ``update_id``; the attempts are recorded on its delivery as
        duplicates and do not change whether it counts as acknowledged. ``secret`` defaults to
        the webhook's; None sends none.
        """
        if update_id not in self._updates:
            raise AssertionError(f"no update {update_id} was sent (known: up to {self._next_update_id - 1})")
        update = self._updates[update_id]
        route = self._webhook_route()
        if urls is None:
            if route is None:
                raise RuntimeError("no webhook is set: pass the URLs to redeliver to")
            urls = [route.url]
        if secret is _CURRENT:
            secret = route.secret if route is not None else None
        delivery = self._pusher.forced(update_id, update, _lane_of(update_id, update))
        return await self._pusher.repeat(delivery, [Route(url, secret) for url in urls], times)

    # ------------------------------------------------------------------ what tests read

    def webhook_delivery(self, update_id: int) -> Delivery:
        """The webhook record of update ``update_id``: its state and every POST made of it."""
        delivery = self._pusher.get(update_id)
        if delivery is None:
            raise AssertionError(f"update {update_id} was never queued for the webhook")
        return delivery

    def webhook_deliveries(self) -> list[Delivery]:
        """Every update queued for the webhook, in order."""
        return self._pusher.deliveries()

    async def wait_attempts(self, update_id: int, count: int, timeout: float = 10.0) -> Delivery:  # noqa: ASYNC109 - an overall deadline
        """Wait until update ``update_id`` was POSTed ``count`` times by the queue (or its delivery
        ended, acknowledged or not); returns its delivery. AssertionError after ``timeout``."""
        return await self._pusher.wait_tries(
            update_id, count, timeout, self._signal.wait, f"update {update_id}"
        )

    @property
    def webhook_peak_connections(self) -> int:
        """The most queued webhook POSTs that were in flight at once (forced duplicates aside)."""
        return self._pusher.max_in_flight

    async def wait_acknowledged(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - an overall deadline
        """Wait until every update so far was acknowledged: a 2xx to a webhook POST of it, or a
        getUpdates call whose offset confirmed it.

        Raises AssertionError naming what is missing (with each update's attempts) after
        ``timeout`` seconds, or at once if an update's attempts ran out.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            given_up = self._pusher.given_up()
            if given_up:
                shown = "; ".join(d.describe() for d in given_up)
                raise AssertionError(f"the webhook gave up on updates: {shown}")
            pending = self._pusher.pending()
            if not pending and not self._queue:
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                parts = [d.describe() for d in pending]
                if self._queue:
                    ids = [update_id for update_id, _ in self._queue]
                    parts.append(f"not confirmed by getUpdates (is polling running?): {ids}")
                raise AssertionError(f"updates not acknowledged within {timeout} s: {'; '.join(parts)}")
            await self._signal.wait(remaining)

    # ------------------------------------------------------------------ the Bot API methods

    async def _set_webhook(self, call: ApiCall) -> Any:
        params = call.params
        url = str(params.get("url") or "")
        if not url:
            return await self._delete_webhook(call)
        if not url.startswith("https://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _bad("secret token contains unallowed characters")
        limit = params.get("max_connections")
        if limit is not None and not 1 <= _as_int(limit, "max_connections") <= 100:
            raise _bad("bad webhook: max_connections must be between 1 and 100")
        if params.get("drop_pending_updates"):
            self._drop_pending()
        self.webhook = dict(params)
        self._queue_to_webhook()
        return True

    async def _delete_webhook(self, call: ApiCall) -> Any:
        if call.params.get("drop_pending_updates"):
            self._drop_pending()
        self.webhook = None
        return True

    def _drop_pending(self) -> None:
        self._queue.clear()
        self._pusher.drop_pending()
