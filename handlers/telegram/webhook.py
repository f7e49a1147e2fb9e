"""The Telegram webhook: aiogram's request handler behind a secret check that never fails open."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

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


def webhook_mount(
    dispatcher: Dispatcher, bot: Bot, path: str, secret: str | None
) -> Callable[[web.Application], None]:
    """What mounts the webhook at `path` on the product's web application."""

    def mount(web_app: web.Application) -> None:
        SecretCheckedRequestHandler(dispatcher=dispatcher, bot=bot, secret_token=secret).register(
            web_app, path=path
        )
        setup_application(web_app, dispatcher, bot=bot)

    return mount
