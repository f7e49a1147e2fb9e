"""Callback API delivery as VK does it.

With a callback URL configured (:meth:`VkCallback.use_callback`), every event is POSTed as
``{"type", "object", "group_id", "event_id", "v", "secret"}``; anything but a 200 with the body
``ok`` — another status or body, no answer within ``callback_policy.timeout``, a reset or refused
connection — is POSTed again after a short backoff (with ``X-Retry-Counter``), up to
``callback_policy.max_attempts`` POSTs in all (VK's first one and 5 retries by default), and then
given up. Events of one peer go one at a time and in order. Without a callback URL events go to the
Bots Long Poll history (``use_long_poll``); events still being retried when the URL is removed go
there too. Only loopback URLs are ever posted to.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Hashable, Sequence
from typing import Any

from bot.sandbox.pusher import Attempt, Delivery, Pusher, PushPolicy, Route
from bot.sandbox.vk.records import _UNSET, CALLBACK_TIMEOUT, DEFAULT_GROUP_ID, DEFAULT_TOKEN
from bot.sandbox.vk.state import VkState

OK = "ok"
VK_ATTEMPTS = 6
"""The first POST and VK's 5 retries."""


def _is_ok(status: int, body: str) -> bool:
    return status == 200 and body == OK


def _lane_of(key: str, event: Any) -> Hashable:
    obj = event.get("object") if isinstance(event, dict) else None
    if isinstance(obj, dict):
        message = obj.get("message")
        for source in (message, obj):
            if not isinstance(source, dict):
                continue
            for field in ("peer_id", "user_id", "from_id"):
                peer = source.get(field)
                if isinstance(peer, int) and not isinstance(peer, bool):
                    return ("peer", peer)
    return ("event", key)


class VkCallback(VkState):
    """Where events go (Callback API or Long Poll), redelivery, and waiting for acknowledgement."""

    def __init__(
        self, group_id: int = DEFAULT_GROUP_ID, token: str = DEFAULT_TOKEN, rate_limit: int = 20
    ) -> None:
        """Create the server (``async with`` starts it). ``token`` is the only accepted token."""
        super().__init__(group_id, token, rate_limit)
        self.callback_policy = PushPolicy(timeout=CALLBACK_TIMEOUT, max_attempts=VK_ATTEMPTS)
        """Timeout, backoff, attempts and connection cap of Callback API POSTs (set it freely)."""
        self._callback: Route | None = None
        self._await_first_attempt = True
        self._events_by_key: dict[str, Any] = {}
        self._raw_keys = itertools.count(1)
        self._pusher = Pusher(
            post=self._post_event,
            accepts=_is_ok,
            policy=lambda: self.callback_policy,
            route=lambda: self._callback,
            hand_back=lambda delivery: self._enqueue(delivery.payload),
            changed=self._changed.fire,
            on_attempt=lambda made: self.callback_responses.append((made.status, made.body)),
        )
        self._pushers.append(self._pusher)

    def use_callback(self, url: str, secret: str | None, *, await_first_attempt: bool = True) -> None:
        """From now on POST events to ``url`` (with ``secret`` when set).

        A scripted user's action returns once the first POST of its event was answered (or
        failed), so the bot has it; with ``await_first_attempt=False`` it returns as soon as the
        event is queued. Redeliveries always happen in the background.
        """
        self._callback = Route(url, secret)
        self._await_first_attempt = await_first_attempt

    def use_long_poll(self) -> None:
        """Deliver events through the long-poll history again (the default)."""
        self._callback = None

    def push_raw_event(self, event: Any) -> str:
        """Send any JSON value as an event (for fuzzing), by Callback API or Long Poll as events
        go now; returns the key it is tracked by (its ``event_id`` when that is a new string).

        It goes exactly as given, except that a dict without ``"secret"`` gets the configured one.
        """
        event_id = event.get("event_id") if isinstance(event, dict) else None
        if isinstance(event_id, str) and event_id not in self._events_by_key:
            key = event_id
        else:
            key = f"raw-{next(self._raw_keys)}"
        self._route_event(key, event)
        return key

    def _route_event(self, key: str, event: Any) -> Delivery | None:
        self._events_by_key[key] = event
        if self._callback is None:
            self._enqueue(event)
            return None
        return self._pusher.enqueue(key, event, _lane_of(key, event))

    async def _first_attempt(self, delivery: Delivery) -> None:
        if not self._await_first_attempt:
            return
        policy = self.callback_policy
        # Enough for the POST and a few earlier events of the peer; a lane stuck longer is a bug.
        bound = policy.timeout * 3 + 5.0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + bound
        while not delivery.attempts and delivery.state in ("queued", "sending"):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"event {delivery.key}: no Callback API POST finished within {bound} s (earlier "
                    "events of the peer still retried?); use_callback(..., await_first_attempt=False) "
                    "returns without waiting"
                )
            await self._changed.wait(remaining)

    async def _post_event(self, route: Route, delivery: Delivery, retry: int) -> tuple[int, str]:
        if self._client is None:
            raise RuntimeError("FakeVkServer is not started")
        self._fetched(delivery.payload)
        body = delivery.payload
        if isinstance(body, dict) and "secret" not in body and route.secret is not None:
            body = {**body, "secret": route.secret}
        headers = {"Content-Type": "application/json", "User-Agent": "VKCallbackAPI"}
        if retry:
            headers["X-Retry-Counter"] = str(retry)
        data = json.dumps(body, ensure_ascii=False).encode()
        async with self._client.post(route.url, data=data, headers=headers) as response:
            return response.status, (await response.read()).decode("utf-8", "replace")

    async def post_callback(self, event: dict[str, Any], secret: str | None = _UNSET) -> tuple[int, str]:
        """POST one event to the callback URL once, outside the queue; returns (HTTP status, body),
        status 0 with the error when no answer came.

        ``secret`` defaults to the configured one; None sends the event without a secret.
        """
        if self._callback is None:
            raise RuntimeError("no callback URL configured (use_callback)")
        secret = self._callback.secret if secret is _UNSET else secret
        body = {k: v for k, v in event.items() if k != "secret"}
        key = str(event.get("event_id"))
        once = Delivery(key, body, _lane_of(key, body), state="forced")
        made = await self._pusher.attempt(Route(self._callback.url, secret), once, 0, duplicate=True)
        return made.status, made.body

    async def resend_event(
        self,
        event_id: str,
        times: int = 2,
        urls: Sequence[str] | None = None,
        secret: str | None = _UNSET,
    ) -> list[Attempt]:
        """POST event ``event_id`` ``times`` more times at once, round-robin over ``urls``
        (default: the callback URL), as a VK retrying on several connections; returns the attempts.

        They carry ``X-Retry-Counter`` and are recorded on the event's delivery as duplicates.
        ``secret`` defaults to the configured one; None sends none.
        """
        if event_id not in self._events_by_key:
            raise AssertionError(f"no event {event_id!r} was sent")
        event = self._events_by_key[event_id]
        if urls is None:
            if self._callback is None:
                raise RuntimeError("no callback URL configured: pass the URLs to resend to")
            urls = [self._callback.url]
        if secret is _UNSET:
            secret = self._callback.secret if self._callback is not None else None
        if isinstance(event, dict):
            event = {k: v for k, v in event.items() if k != "secret"}
        delivery = self._pusher.forced(event_id, event, _lane_of(event_id, event))
        return await self._pusher.repeat(delivery, [Route(url, secret) for url in urls], times)

    def callback_delivery(self, event_id: str) -> Delivery:
        """The Callback API record of event ``event_id``: its state and every POST made of it."""
        delivery = self._pusher.get(event_id)
        if delivery is None:
            raise AssertionError(f"event {event_id!r} was never queued for the Callback API")
        return delivery

    def callback_deliveries(self) -> list[Delivery]:
        """Every event queued for the Callback API, in order."""
        return self._pusher.deliveries()

    async def wait_attempts(self, event_id: str, count: int, timeout: float = 10.0) -> Delivery:  # noqa: ASYNC109 - an overall deadline
        """Wait until event ``event_id`` was POSTed ``count`` times by the queue (or its delivery
        ended, acknowledged or given up); returns its delivery. AssertionError after ``timeout``."""
        return await self._pusher.wait_tries(
            event_id, count, timeout, self._changed.wait, f"event {event_id!r}"
        )

    @property
    def callback_peak_connections(self) -> int:
        """The most queued Callback API POSTs that were in flight at once."""
        return self._pusher.max_in_flight

    async def wait_acknowledged(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - an overall deadline
        """Wait until every event so far was acknowledged: a 200 ``ok`` to a Callback API POST of
        it, or a long-poll request for a later ``ts``.

        Raises AssertionError naming what is missing (with each event's attempts) after
        ``timeout`` seconds, or at once if an event was given up after its last retry.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            given_up = self._pusher.given_up()
            if given_up:
                shown = "; ".join(d.describe() for d in given_up)
                raise AssertionError(
                    f"VK gave up on events after {self.callback_policy.max_attempts} POSTs: {shown}"
                )
            pending = self._pusher.pending()
            unread = self._current_ts - self._lp_acked_ts
            if not pending and unread <= 0:
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                parts = [d.describe() for d in pending]
                if unread > 0:
                    parts.append(f"{unread} long-poll events not fetched (is the bot polling?)")
                raise AssertionError(f"events not acknowledged within {timeout} s: {'; '.join(parts)}")
            await self._changed.wait(remaining)
