"""Running the bot: Telegram and/or VK, by long polling or through one aiohttp webhook server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.app.wiring import App, build_app
from bot.core.config import (
    ConfigError,
    Settings,
    telegram_token,
    vk_callback_secret,
    vk_token,
    webhook_secret,
)
from bot.services.reports.sla import SlaScheduler
from bot.services.retention import RetentionPurge

if TYPE_CHECKING:
    from aiogram import Bot, Dispatcher

log = logging.getLogger(__name__)


def check_settings(settings: Settings, *, webhook: bool) -> tuple[str | None, str | None]:
    """The Telegram and VK tokens to run with; ConfigError naming what is missing."""
    tg, vk = telegram_token(settings), vk_token(settings)
    if tg is None and vk is None:
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN is not set: put the token from @BotFather (and/or VK_BOT_TOKEN) "
            "into the environment or .env"
        )
    if webhook and tg is not None:
        if not settings.webhook_base_url:
            raise ConfigError("WEBHOOK_BASE_URL is not set: give the public https:// address for --webhook")
        webhook_secret(settings)
    if webhook and vk is not None:
        vk_callback_secret(settings)
        if not settings.vk_confirmation_code:
            raise ConfigError(
                "VK_CONFIRMATION_CODE is not set: copy it from the community's Callback API page"
            )
    return tg, vk


async def run_bot(settings: Settings, *, webhook: bool) -> None:
    """Build the app and serve the configured messengers until SIGINT/SIGTERM."""
    tg_token, vk_token_ = check_settings(settings, webhook=webhook)
    app = await build_app(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    tasks: list[asyncio.Task[None]] = []
    cleanups: list[Callable[[], Awaitable[None]]] = [app.close]
    posts: dict[str, Handler] = {}
    bot: Bot | None = None
    try:
        # Deadlines run beside update handling; like delivery, they resume from the database.
        scheduler = SlaScheduler(app.db, app.calendar, app.services.clock)
        tasks.append(asyncio.create_task(scheduler.run(stop), name="sla"))
        purge = RetentionPurge.from_settings(app.db, app.services.clock, settings)
        tasks.append(asyncio.create_task(purge.run(stop), name="retention"))
        dispatcher: Dispatcher | None = None
        if tg_token is not None:
            bot, dispatcher = await _start_telegram(app, tg_token, webhook, stop, tasks, cleanups)
        if vk_token_ is not None:
            await _start_vk(app, vk_token_, bot, webhook, stop, tasks, cleanups, posts)
        from bot.app.web import build_web_app

        # Health is served in polling mode too (the Docker healthcheck uses it).
        runner = web.AppRunner(build_web_app(app, bot if dispatcher else None, dispatcher, posts))
        await runner.setup()
        cleanups.insert(0, runner.cleanup)
        await web.TCPSite(runner, settings.web_host, settings.web_port).start()
        log.info("HTTP server on %s:%s", settings.web_host, settings.web_port)
        waiter = asyncio.create_task(stop.wait())
        # A background task that dies (polling with a revoked token, say) stops the whole process.
        done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not waiter and task.exception() is not None:
                log.error("%s stopped: %s", task.get_name(), task.exception())
        waiter.cancel()
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        for cleanup in cleanups:
            with contextlib.suppress(Exception):
                await cleanup()


async def _start_telegram(
    app: App,
    token: str,
    webhook: bool,
    stop: asyncio.Event,
    tasks: list[asyncio.Task[None]],
    cleanups: list[Callable[[], Awaitable[None]]],
) -> tuple[Bot, Dispatcher | None]:
    """The Telegram bot, and its dispatcher when updates come by webhook (served by the web app)."""
    from bot.app.telegram import build_bot, build_delivery, build_dispatcher, publish_commands
    from handlers.telegram.callbacks import callback_signer
    from handlers.telegram.comms_progress import NoticeProgress

    settings = app.settings
    bot = build_bot(token, settings.telegram_api_url)
    cleanups.insert(0, bot.session.close)
    signer = callback_signer(token)
    dispatcher = build_dispatcher(app, skip_repeats=webhook, signer=signer)
    tasks.append(asyncio.create_task(build_delivery(app, bot, signer).run(stop), name="outbox-tg"))
    # Progress messages of notices going out, in the comms chats, a few times a minute.
    progress = NoticeProgress(bot, app.notices, app.services.translator, signer)
    tasks.append(asyncio.create_task(progress.run(stop), name="notice-progress"))
    await publish_commands(bot, app.services.translator)
    if webhook:
        assert settings.webhook_base_url is not None and settings.webhook_secret is not None
        url = settings.webhook_base_url.rstrip("/") + settings.webhook_path
        await bot.set_webhook(url, secret_token=settings.webhook_secret.get_secret_value())
        log.info("Telegram: webhook at %s", settings.webhook_path)
        return bot, dispatcher
    await bot.delete_webhook(drop_pending_updates=False)

    async def poll() -> None:
        polling = asyncio.create_task(
            dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
        )
        await stop.wait()
        with contextlib.suppress(RuntimeError):
            await dispatcher.stop_polling()
        await polling

    log.info("Telegram: polling for updates")
    tasks.append(asyncio.create_task(poll(), name="polling-tg"))
    return bot, None


async def _start_vk(
    app: App,
    token: str,
    bot: Bot | None,
    webhook: bool,
    stop: asyncio.Event,
    tasks: list[asyncio.Task[None]],
    cleanups: list[Callable[[], Awaitable[None]]],
    posts: dict[str, Handler],
) -> None:
    from bot.app.vk import build_vk, build_vk_delivery, poll_vk, vk_callback_handler
    from handlers.telegram.files import photo_source

    settings = app.settings
    vk = await build_vk(app, token)
    cleanups.insert(0, vk.close)
    tasks.append(
        asyncio.create_task(build_vk_delivery(app, vk, photo_source(bot)).run(stop), name="outbox-vk")
    )
    if webhook:
        secret = settings.vk_callback_secret.get_secret_value() if settings.vk_callback_secret else None
        posts[settings.vk_callback_path] = vk_callback_handler(
            vk, secret=secret, confirmation=settings.vk_confirmation_code
        )
        log.info("VK: Callback API at %s", settings.vk_callback_path)
        return
    tasks.append(asyncio.create_task(poll_vk(vk, settings.vk_state_dir, stop), name="polling-vk"))
