"""The product's web application, composed: health probes from the App, VK posts, the Telegram webhook."""

from __future__ import annotations

from collections.abc import Mapping

from aiogram import Bot, Dispatcher
from aiohttp import web
from aiohttp.typedefs import Handler
from sqlalchemy import text

from bot.app.wiring import App
from bot.web.server import Mount, Probe
from bot.web.server import build_web_app as build_http_app
from handlers.telegram.webhook import webhook_mount


def build_web_app(
    app: App,
    bot: Bot | None = None,
    dispatcher: Dispatcher | None = None,
    posts: Mapping[str, Handler] | None = None,
) -> web.Application:
    """/healthz over the database (and Redis when used), `posts`, and the webhook when a bot is given."""

    async def database() -> None:
        async with app.db.session() as session:
            await session.execute(text("SELECT 1"))

    probes: list[Probe] = [database]
    if app.redis is not None:
        redis = app.redis

        async def ping() -> None:
            await redis.ping()

        probes.append(ping)
    mounts: list[Mount] = []
    if bot is not None and dispatcher is not None:
        secret = app.settings.webhook_secret.get_secret_value() if app.settings.webhook_secret else None
        mounts.append(webhook_mount(dispatcher, bot, app.settings.webhook_path, secret))
    return build_http_app(probes, posts, mounts)
