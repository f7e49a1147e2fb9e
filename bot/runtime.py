"""Running the bot: long polling, or an aiohttp webhook server."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot, Dispatcher
from aiohttp import web

from bot.app import App, build_app
from bot.config import ConfigError, Settings
from bot.sla import SlaScheduler

log = logging.getLogger(__name__)


async def run_bot(settings: Settings, token: str, *, webhook: bool) -> None:
    """Build the app and serve Telegram until stopped."""
    from handlers.telegram.setup import (
        build_bot,
        build_delivery,
        build_dispatcher,
        callback_signer,
        publish_commands,
    )

    if webhook and not settings.webhook_base_url:
        raise ConfigError("WEBHOOK_BASE_URL is not set: give the public https:// address for --webhook")
    if webhook and settings.webhook_secret is None:
        raise ConfigError(
            "WEBHOOK_SECRET is not set: webhook mode needs a secret token (1-256 of A-Z a-z 0-9 _ -)"
        )
    app = await build_app(settings)
    bot = build_bot(token, settings.telegram_api_url)
    signer = callback_signer(token)
    dispatcher = build_dispatcher(app, skip_repeats=webhook, signer=signer)
    stop = asyncio.Event()
    # Delivery and deadlines run beside update handling; both resume from the database after a restart.
    background = [
        asyncio.create_task(build_delivery(app, bot, signer).run(stop), name="outbox"),
        asyncio.create_task(SlaScheduler(app.db, app.calendar, app.services.clock).run(stop), name="sla"),
    ]
    try:
        await publish_commands(bot)
        if not webhook:
            from bot.web import build_web_app

            # Health stays reachable in polling mode too (the Docker healthcheck uses it).
            runner = web.AppRunner(build_web_app(app, None, None))
            await runner.setup()
            await web.TCPSite(runner, settings.web_host, settings.web_port).start()
            try:
                await bot.delete_webhook(drop_pending_updates=False)
                log.info("polling for updates")
                await dispatcher.start_polling(bot, handle_signals=True)
            finally:
                await runner.cleanup()
            return
        await _serve_webhook(app, bot, dispatcher, settings)
    finally:
        stop.set()
        await asyncio.gather(*background, return_exceptions=True)
        await bot.session.close()
        await app.close()


async def _serve_webhook(app: App, bot: Bot, dispatcher: Dispatcher, settings: Settings) -> None:
    from bot.web import build_web_app

    assert settings.webhook_base_url is not None and settings.webhook_secret is not None
    url = settings.webhook_base_url.rstrip("/") + settings.webhook_path
    await bot.set_webhook(url, secret_token=settings.webhook_secret.get_secret_value())
    runner = web.AppRunner(build_web_app(app, bot, dispatcher))
    await runner.setup()
    await web.TCPSite(runner, settings.web_host, settings.web_port).start()
    log.info("webhook server on %s:%s%s", settings.web_host, settings.web_port, settings.webhook_path)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
