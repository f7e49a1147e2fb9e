"""The HTTP server: Telegram webhook (secret checked, repeats ignored), VK Callback API, and health."""

from __future__ import annotations

from collections.abc import Mapping

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web
from aiohttp.typedefs import Handler
from sqlalchemy import text

from bot.app.wiring import App
from bot.core.config import secret_matches

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class SecretCheckedRequestHandler(SimpleRequestHandler):
    """aiogram's webhook handler with a refusal that never fails.

    aiogram compares the header with `secrets.compare_digest` on str, which raises TypeError (a 500,
    and Telegram retries) when a request carries non-ASCII; here any mismatch is a plain 403.
    """

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        if not self.secret_token:
            return True
        return secret_matches(telegram_secret_token, self.secret_token)

    async def handle(self, request: web.Request) -> web.Response:
        if not self.verify_secret(request.headers.get(SECRET_HEADER, ""), self.bot):
            return web.Response(status=403, text="wrong secret")
        return await super().handle(request)

    __call__ = handle


def build_web_app(
    app: App,
    bot: Bot | None = None,
    dispatcher: Dispatcher | None = None,
    posts: Mapping[str, Handler] | None = None,
) -> web.Application:
    """An aiohttp application with /healthz, the Telegram webhook when a bot is given, and `posts`."""
    web_app = web.Application()

    async def health(_request: web.Request) -> web.Response:
        try:
            async with app.db.session() as session:
                await session.execute(text("SELECT 1"))
            if app.redis is not None:
                await app.redis.ping()
        except Exception as error:  # a health check reports, it never raises
            return web.json_response({"status": "degraded", "error": type(error).__name__}, status=503)
        return web.json_response({"status": "ok"})

    web_app.router.add_get("/healthz", health)
    for path, handler in (posts or {}).items():
        web_app.router.add_post(path, handler)
    if bot is not None and dispatcher is not None:
        secret = app.settings.webhook_secret.get_secret_value() if app.settings.webhook_secret else None
        SecretCheckedRequestHandler(dispatcher=dispatcher, bot=bot, secret_token=secret).register(
            web_app, path=app.settings.webhook_path
        )
        setup_application(web_app, dispatcher, bot=bot)
    return web_app
