"""The aiohttp application: /healthz from the given probes, POST routes, and mounted webhooks.

Platform-free: a messenger's webhook arrives as a `Mount` built by its adapter, so this room never
imports a messenger library and the health check knows only that a probe may fail.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence

from aiohttp import web
from aiohttp.typedefs import Handler

PROBE_SECONDS = 3.0
# A dependency the process needs (the database, Redis): raises when it does not answer.
Probe = Callable[[], Awaitable[None]]
# Adds routes of its own to the application (a messenger's webhook).
Mount = Callable[[web.Application], None]


def build_web_app(
    probes: Sequence[Probe] = (), posts: Mapping[str, Handler] | None = None, mounts: Sequence[Mount] = ()
) -> web.Application:
    """/healthz answering 200 while every probe passes (503 naming the failure otherwise)."""
    web_app = web.Application()

    async def health(_request: web.Request) -> web.Response:
        try:
            for probe in probes:
                # A server cut off mid-connection may never answer: that too is "degraded".
                async with asyncio.timeout(PROBE_SECONDS):
                    await probe()
        except Exception as error:  # a health check reports, it never raises
            return web.json_response({"status": "degraded", "error": type(error).__name__}, status=503)
        return web.json_response({"status": "ok"})

    web_app.router.add_get("/healthz", health)
    for path, handler in (posts or {}).items():
        web_app.router.add_post(path, handler)
    for mount in mounts:
        mount(web_app)
    return web_app
