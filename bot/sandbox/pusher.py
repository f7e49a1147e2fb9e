"""Redelivery the way the platforms do it, shared by the Telegram webhook and the VK Callback API.

An item (an update, an event) is queued on a lane and POSTed; an answer the platform does not take
(a refusal, a timeout, a reset or refused connection) is followed by another POST of the same item
after a backoff, until one is taken or the attempts run out. Items of one lane (one chat) go one at
a time and in order, as Telegram does, and a later item waits behind one being retried; lanes run
side by side within ``max_connections`` POSTs in flight. Only loopback addresses are ever posted to.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import aiohttp

from bot.sandbox.signal import Signal

DeliveryState = Literal[
    "queued", "sending", "retrying", "acknowledged", "given up", "handed back", "dropped", "forced"
]
PENDING_STATES: frozenset[DeliveryState] = frozenset({"queued", "sending", "retrying"})
# Beyond this many doublings the delay is capped anyway (and 2 ** n stays a small float).
_MAX_DOUBLINGS = 30


@dataclass(frozen=True)
class PushPolicy:
    """How a pusher redelivers. The platforms wait seconds to minutes between tries; tests want
    milliseconds, so every figure is configurable."""

    timeout: float = 10.0
    """Seconds one POST may take (connecting, the answer and its body) before it counts as failed."""
    backoff: float = 0.1
    """Delay before the first redelivery; doubled after each further failure, up to ``max_backoff``."""
    max_backoff: float = 2.0
    max_attempts: int = 1000
    """POSTs of one item (the first included) before it is given up."""
    max_connections: int = 40
    """POSTs in flight at once over all lanes (a route may set its own, as setWebhook does)."""

    def __post_init__(self) -> None:
        if self.timeout <= 0 or self.backoff < 0 or self.max_backoff < self.backoff:
            raise ValueError(f"timeout > 0 and 0 <= backoff <= max_backoff, got {self}")
        if self.max_attempts < 1 or self.max_connections < 1:
            raise ValueError(f"max_attempts and max_connections must be at least 1, got {self}")

    def delay(self, failures: int) -> float:
        """The wait after the ``failures``-th failed POST of an item."""
        return min(self.backoff * 2.0 ** min(max(failures - 1, 0), _MAX_DOUBLINGS), self.max_backoff)


@dataclass(frozen=True)
class Route:
    """Where items go: the URL, the secret the platform presents, and an optional connection cap."""

    url: str
    secret: str | None = None
    max_connections: int | None = None


@dataclass(frozen=True)
class Attempt:
    """One POST of an item and what came back."""

    url: str
    status: int
    """The HTTP status; 0 when no answer came (timeout, refused or reset connection, not loopback)."""
    body: str
    """The answer's body, or what went wrong when ``status`` is 0."""
    accepted: bool
    """Whether the platform takes this answer as delivered (2xx for Telegram, 200 "ok" for VK)."""
    retry: int
    """0 for the first POST of an item, n for its n-th redelivery (or the n-th forced duplicate)."""
    duplicate: bool
    """Made by a test on purpose (``redeliver``/``resend_event``), outside the queue."""
    started_at: float
    finished_at: float

    def describe(self) -> str:
        """``503`` / ``0 (ServerDisconnectedError: …)`` — for assertion messages."""
        return str(self.status) if self.status else f"0 ({self.body})"


@dataclass
class Delivery:
    """One item and every POST made of it, in order."""

    key: int | str
    """The update id (Telegram) or event id (VK) the sandbox tracks the item by."""
    payload: Any = field(repr=False)
    lane: Hashable
    state: DeliveryState = "queued"
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def acknowledged(self) -> bool:
        """Whether one of the queue's POSTs of this item was accepted."""
        return self.state == "acknowledged"

    @property
    def statuses(self) -> list[int]:
        """HTTP statuses of the queue's own POSTs (forced duplicates left out), 0 for no answer."""
        return [a.status for a in self.attempts if not a.duplicate]

    @property
    def tries(self) -> int:
        """How many times the queue POSTed this item."""
        return len(self.statuses)

    def describe(self) -> str:
        """``5 (retrying): 503, 0 (timeout …)`` — for assertion messages."""
        shown = ", ".join(a.describe() for a in self.attempts if not a.duplicate) or "not posted yet"
        return f"{self.key} ({self.state}): {shown}"


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine (the sandbox never posts anywhere else)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _dropped(delivery: Delivery) -> bool:
    # A function, so the check is not narrowed away: drop_pending() runs while the POST is awaited.
    return delivery.state == "dropped"


PostFn = Callable[[Route, Delivery, int], Awaitable[tuple[int, str]]]


class Pusher:
    """Queues items per lane and POSTs them until accepted (see the module docstring)."""

    def __init__(
        self,
        *,
        post: PostFn,
        accepts: Callable[[int, str], bool],
        policy: Callable[[], PushPolicy],
        route: Callable[[], Route | None],
        hand_back: Callable[[Delivery], None],
        changed: Callable[[], None],
        on_attempt: Callable[[Attempt], None] | None = None,
    ) -> None:
        """``post`` makes one POST and returns (status, body), raising aiohttp/OS errors as they
        come; ``route`` says where items go now (None: the platform stopped pushing, and
        ``hand_back`` gets each item instead — to the getUpdates queue or the long-poll history)."""
        self._post = post
        self._accepts = accepts
        self._policy = policy
        self._route = route
        self._hand_back = hand_back
        self._changed = changed
        self._on_attempt = on_attempt
        self._all: list[Delivery] = []
        self._by_key: dict[int | str, Delivery] = {}
        self._lanes: dict[Hashable, deque[Delivery]] = {}
        self._workers: dict[Hashable, asyncio.Task[None]] = {}
        self._freed = Signal()
        self._in_flight = 0
        self.max_in_flight = 0
        """The most queue POSTs that were in flight at once."""

    # ------------------------------------------------------------------ queueing

    def enqueue(self, key: int | str, payload: Any, lane: Hashable) -> Delivery:
        """Queue an item at the end of its lane; its first POST starts as soon as the lane is free."""
        delivery = Delivery(key, payload, lane)
        self._all.append(delivery)
        self._by_key[key] = delivery
        self._lanes.setdefault(lane, deque()).append(delivery)
        if lane not in self._workers:
            self._workers[lane] = asyncio.get_running_loop().create_task(self._run_lane(lane))
        self._changed()
        return delivery

    def get(self, key: int | str) -> Delivery | None:
        """The newest item tracked under ``key``."""
        return self._by_key.get(key)

    def deliveries(self) -> list[Delivery]:
        """Every item queued so far, in order."""
        return list(self._all)

    def pending(self) -> list[Delivery]:
        """Items not acknowledged yet and still being tried."""
        return [d for d in self._all if d.state in PENDING_STATES]

    def given_up(self) -> list[Delivery]:
        """Items whose attempts ran out."""
        return [d for d in self._all if d.state == "given up"]

    def drop_pending(self) -> int:
        """Forget every pending item (Telegram's ``drop_pending_updates``); returns how many."""
        dropped = self.pending()
        for delivery in dropped:
            delivery.state = "dropped"
        self._changed()
        return len(dropped)

    def forced(self, key: int | str, payload: Any, lane: Hashable) -> Delivery:
        """The record forced duplicates of an item are kept on (the queued one if there is one)."""
        delivery = self._by_key.get(key)
        if delivery is None:
            delivery = Delivery(key, payload, lane, state="forced")
            self._by_key[key] = delivery
        return delivery

    # ------------------------------------------------------------------ posting

    async def attempt(self, route: Route, delivery: Delivery, retry: int, *, duplicate: bool) -> Attempt:
        """POST ``delivery`` once to ``route`` and record the outcome on it (never raises for
        network trouble: that is a status 0 attempt)."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        policy = self._policy()
        if not is_loopback(route.url):
            status, body = 0, f"not posted: {route.url} is not a loopback address"
        else:
            try:
                async with asyncio.timeout(policy.timeout):
                    status, body = await self._post(route, delivery, retry)
            except TimeoutError:
                status, body = 0, f"no answer within {policy.timeout} s"
            except (aiohttp.ClientError, OSError) as error:
                status, body = 0, f"{type(error).__name__}: {error}"
        made = Attempt(
            url=route.url,
            status=status,
            body=body,
            accepted=self._accepts(status, body),
            retry=retry,
            duplicate=duplicate,
            started_at=started,
            finished_at=loop.time(),
        )
        delivery.attempts.append(made)
        if self._on_attempt is not None:
            self._on_attempt(made)
        self._changed()
        return made

    async def repeat(self, delivery: Delivery, routes: Sequence[Route], times: int) -> list[Attempt]:
        """POST ``delivery`` ``times`` times at once, round-robin over ``routes``, outside the queue
        and its connection cap (a platform that lost its answers and is retrying on several
        connections); returns the attempts in route order."""
        if times < 1 or not routes:
            raise ValueError("repeat needs times >= 1 and at least one route")
        jobs = [self.attempt(routes[n % len(routes)], delivery, n + 1, duplicate=True) for n in range(times)]
        return list(await asyncio.gather(*jobs))

    async def wait_tries(
        self,
        key: int | str,
        count: int,
        within: float,
        changed: Callable[[float], Awaitable[object]],
        what: str,
    ) -> Delivery:
        """Wait until item `key` was POSTed `count` times (or its delivery ended, acknowledged or
        given up); AssertionError naming `what` after `within` seconds. `changed(remaining)` waits
        for the fake's next change."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            delivery = self.get(key)
            if delivery is not None and (delivery.tries >= count or delivery.state not in PENDING_STATES):
                return delivery
            remaining = deadline - loop.time()
            if remaining <= 0:
                shown = delivery.describe() if delivery is not None else "never queued"
                raise AssertionError(f"{what} not POSTed {count} times within {within} s: {shown}")
            await changed(remaining)

    async def close(self) -> None:
        """Stop every lane (the items stay as they are); bounded: the workers are cancelled."""
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._workers.clear()
        self._lanes.clear()

    async def _run_lane(self, lane: Hashable) -> None:
        queue = self._lanes[lane]
        try:
            while queue:
                delivery = queue[0]
                if delivery.state == "queued":
                    await self._deliver(delivery)
                queue.popleft()
        finally:
            # No await since the last emptiness check: a concurrent enqueue has not slipped in.
            if self._lanes.get(lane) is queue and not queue:
                del self._lanes[lane]
            self._workers.pop(lane, None)

    async def _deliver(self, delivery: Delivery) -> None:
        policy = self._policy()
        for retry in range(policy.max_attempts):
            route = self._route()
            if route is None:
                delivery.state = "handed back"
                self._hand_back(delivery)
                self._changed()
                return
            delivery.state = "sending"
            async with self._slot(route.max_connections or policy.max_connections, policy.timeout):
                made = await self.attempt(route, delivery, retry, duplicate=False)
            if made.accepted:
                delivery.state = "acknowledged"
                self._changed()
                return
            if _dropped(delivery):
                return
            if retry + 1 < policy.max_attempts:
                delivery.state = "retrying"
                await asyncio.sleep(policy.delay(retry + 1))
                if _dropped(delivery):
                    return
        delivery.state = "given up"
        self._changed()

    @contextlib.asynccontextmanager
    async def _slot(self, limit: int, recheck: float) -> AsyncIterator[None]:
        # Each wait ends when a slot frees up (or after `recheck`, to look again): no lost wake-up.
        while self._in_flight >= limit:
            await self._freed.wait(recheck)
        self._in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            yield
        finally:
            self._in_flight -= 1
            self._freed.fire()
