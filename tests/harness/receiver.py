"""A webhook endpoint on 127.0.0.1 whose answers a test scripts: what the sandbox's Telegram webhook
and VK Callback API pushers POST to in their self-tests (an error status, no answer, a dropped
connection, or holding requests until several are in flight at once)."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web

from bot.sandbox.signal import Signal

# A held or hanging request waits at most this long, so a broken test never hangs on one.
HOLD_LIMIT = 10.0


@dataclass(frozen=True)
class Answer:
    """What the endpoint does with one request."""

    status: int = 200
    body: str = "ok"
    hang: bool = False
    """Never answer (the client gives up; the handler is cancelled when it does)."""
    reset: bool = False
    """Drop the connection without an answer."""


OK = Answer()
HANG = Answer(hang=True)
RESET = Answer(reset=True)


def status(code: int, body: str = "") -> Answer:
    """Answer with HTTP ``code`` and ``body``."""
    return Answer(status=code, body=body)


@dataclass(frozen=True)
class Received:
    """One request the endpoint got."""

    body: Any
    headers: dict[str, str] = field(repr=False)


class Receiver:
    """POST endpoint at :attr:`url`: answers follow ``script``, then ``default``.

    ``hold`` > 0 keeps the first requests unanswered until that many are in flight at once
    (proof that they were sent concurrently), then lets them all go.
    """

    def __init__(self, *script: Answer, default: Answer = OK, port: int = 0, hold: int = 0) -> None:
        self.received: list[Received] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._script = deque(script)
        self._default = default
        self._port = port
        self._hold = hold
        self._held = asyncio.Event()
        self._changed = Signal()
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}/hook"

    def bodies(self) -> list[Any]:
        return [r.body for r in self.received]

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        # Cancelled on disconnect: a hanging answer ends when the sandbox gives up on it.
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self._port)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def wait_received(self, count: int, timeout: float = 10.0) -> list[Received]:  # noqa: ASYNC109 - an overall deadline
        """Wait until ``count`` requests came (AssertionError after ``timeout``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.received) < count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"{len(self.received)} requests within {timeout} s, not {count}")
            await self._changed.wait(remaining)
        return list(self.received)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self.received.append(Received(body, dict(request.headers)))
        answer = self._script.popleft() if self._script else self._default
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self._changed.fire()
        try:
            if self._hold and not self._held.is_set():
                if self.in_flight >= self._hold:
                    self._held.set()
                await asyncio.wait_for(self._held.wait(), HOLD_LIMIT)
            if answer.hang:
                await asyncio.sleep(HOLD_LIMIT)
            if answer.reset and request.transport is not None:
                request.transport.abort()
                raise asyncio.CancelledError
            return web.Response(status=answer.status, text=answer.body)
        finally:
            self.in_flight -= 1
            self._changed.fire()
