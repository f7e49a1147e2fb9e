"""What both fake API servers share: an aiohttp server on 127.0.0.1, its lifecycle, and stopping
the pushers (webhook / Callback API redelivery) it runs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Self

import aiohttp
from aiohttp import web

from bot.sandbox.pusher import Pusher


class LoopbackServer(ABC):
    """Listens on 127.0.0.1 on a free port; holds a client session for the posts it makes itself."""

    max_body = 1024 * 1024

    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self._port = 0
        self._closing = False
        # Redelivery queues the server runs on its own: stopped before the client session closes.
        self._pushers: list[Pusher] = []

    @abstractmethod
    def _add_routes(self, app: web.Application) -> None:
        """The server's own routes."""

    @abstractmethod
    def _wake_waiters(self) -> None:
        """Wake whatever waits on the server (long polls), so stopping never hangs on them."""

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        if not self._port:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"http://127.0.0.1:{self._port}"

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a free port."""
        app = web.Application(client_max_size=self.max_body)
        self._add_routes(app)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        self._client = aiohttp.ClientSession()
        self._closing = False

    async def stop(self) -> None:
        """Stop redelivering, wake pending long polls and shut the server down."""
        for pusher in self._pushers:
            await pusher.close()
        self._closing = True
        self._wake_waiters()
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        """Start the server (``async with Server() as server``)."""
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Stop the server."""
        await self.stop()
