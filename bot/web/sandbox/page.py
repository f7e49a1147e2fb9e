"""The sandbox page's routes (mounted on the bot's own HTTP server)."""

from __future__ import annotations

from aiohttp import web

from bot.sandbox.world import SandboxWorld
from bot.web.server import Mount


def sandbox_page(world: SandboxWorld) -> Mount:
    """Routes of the sandbox page for `world`."""

    async def index(_request: web.Request) -> web.Response:
        bodies = "".join(f"<li>{chat.title}</li>" for chat in world.body_chats.values())
        return web.Response(text=f"<h1>tsur-bot sandbox</h1><ul>{bodies}</ul>", content_type="text/html")

    def mount(app: web.Application) -> None:
        app.router.add_get("/", index)

    return mount
