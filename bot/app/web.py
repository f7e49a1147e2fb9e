"""The product's web application, composed: health probes from the App, the webhooks given."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aiohttp import web
from aiohttp.typedefs import Handler
from sqlalchemy import text

from bot.app.wiring import App
from bot.web.server import Mount, Probe
from bot.web.server import build_web_app as build_http_app


def build_web_app(
    app: App, posts: Mapping[str, Handler] | None = None, mounts: Sequence[Mount] = ()
) -> web.Application:
    """/healthz over the database (and Redis when used), `posts` and `mounts` (the webhooks)."""

    async def database() -> None:
        async with app.db.session() as session:
            await session.execute(text("SELECT 1"))

    probes: list[Probe] = [database]
    if app.redis is not None:
        redis = app.redis

        async def ping() -> None:
            await redis.ping()

        probes.append(ping)
    return build_http_app(probes, posts, mounts)
