"""Running the bot: Telegram and/or VK, by long polling or through one aiohttp webhook server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

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
from bot.delivery.outbox import release_leases
from bot.inbound.worker import InboundWorker, Processor
from bot.services.incidents.digest import WeeklyDigest
from bot.services.periodic import every
from bot.services.reports.sla import SlaScheduler
from bot.services.retention import RetentionPurge
from bot.web.server import Mount

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger(__name__)

# Seconds between passes over the deadlines: a reminder is at most this late.
SLA_INTERVAL = 30.0
# A burst is caught within 15 minutes of its start (bench/spikes.py) at one pass every five.
SPIKE_INTERVAL = 300.0
# The digest is due at its weekday and hour; checking every five minutes sends it on time enough.
DIGEST_INTERVAL = 300.0


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


NO_TOKEN = 3


def check_command(settings: Settings, *, webhook: bool) -> int:
    """`python -m bot check`: 0 when `run` would start, 2 on a setting error, 3 with no token at all
    (`make run` starts the training sandbox then)."""
    try:
        if telegram_token(settings) is None and vk_token(settings) is None:
            print("no messenger token: TELEGRAM_BOT_TOKEN and VK_BOT_TOKEN are not set", file=sys.stderr)
            return NO_TOKEN
        check_settings(settings, webhook=webhook)
    except ConfigError as error:
        print(str(error), file=sys.stderr)
        return 2
    return 0


class Role(StrEnum):
    """What one process does: receive updates over HTTP, process and deliver them, or both."""

    WEB = "web"
    WORKER = "worker"
    ALL = "all"

    @property
    def receives(self) -> bool:
        return self is not Role.WORKER

    @property
    def works(self) -> bool:
        return self is not Role.WEB


async def run_bot(settings: Settings, *, webhook: bool, role: Role = Role.ALL) -> None:
    """Build the app and serve the configured messengers until SIGINT/SIGTERM.

    Nothing exits on a database or Redis outage: receivers answer 503 (or hold their position),
    workers wait and resume. Only a task that fails for another reason (a revoked token) stops
    the process.
    """
    check_settings(settings, webhook=webhook)
    if role is Role.WEB and not webhook:
        raise ConfigError("--role web receives webhooks: run it with --webhook (polling runs in a worker)")
    app = await build_app(settings)
    await serve(app, stop_on_signals(), webhook=webhook, role=role)


def stop_on_signals() -> asyncio.Event:
    """An event SIGINT and SIGTERM set: the process stops cleanly on either."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def serve(
    app: App,
    stop: asyncio.Event,
    *,
    webhook: bool = False,
    role: Role = Role.ALL,
    mounts: Sequence[Mount] = (),
    sla_interval: float = SLA_INTERVAL,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Run a built app's messengers, workers and HTTP server (with `mounts`) until `stop` is set."""
    settings = app.settings
    tg_token, vk_token_ = telegram_token(settings), vk_token(settings)
    run = _Run(app, stop, role, webhook)
    run.mounts.extend(mounts)
    try:
        if app.db.is_sqlite and role.works:
            # One process owns a SQLite file: updates it had leased when it died are due at once.
            released = await app.inbound.release_leases()
            async with app.db.session() as session:
                released += await release_leases(session, app.services.clock.now())
            if released:
                log.info("%s updates and messages left mid-way by the last run are due again", released)
        if role.works:
            # Deadlines run beside update handling; like delivery, they resume from the database.
            scheduler = SlaScheduler(app.db, app.calendar, app.services.clock)
            run.task(scheduler.run(stop, sla_interval), "sla")
            purge = RetentionPurge.from_settings(app.db, app.services.clock, settings)
            run.task(purge.run(stop), "retention")
            # The weekly digest of repeated reports (once per ISO week per recipient, keyed in the outbox).
            digest = WeeklyDigest(app.db, app.services.clock, ZoneInfo(settings.timezone))
            run.task(digest.run(stop, DIGEST_INTERVAL), "digest")
            # Routing edited through another process (or the CLI) reaches this one within seconds.
            run.task(_keep_catalog_fresh(app, stop), "reference")
            run.task(_keep_model_fresh(app, stop), "model")
        bot = await run.telegram(tg_token) if tg_token is not None else None
        if vk_token_ is not None:
            await run.vk(vk_token_, bot)
        if role.works:
            run.task(run.worker.run(stop), "inbound")
        await run.serve_http()
        if on_ready is not None:
            on_ready()
        await run.wait()
    finally:
        await run.close()


async def _keep_catalog_fresh(app: App, stop: asyncio.Event) -> None:
    catalog = app.services.catalog

    async def one_pass() -> None:
        if await catalog.refresh(app.db):
            log.info("reference data reloaded (version %s)", catalog.version)

    await every(app.settings.reference_refresh_seconds, stop, one_pass, log, "reference data")


async def _keep_model_fresh(app: App, stop: asyncio.Event) -> None:
    model = app.model_file
    if model is None:
        return

    async def one_pass() -> None:
        # Loading a model takes a few hundred milliseconds: off the event loop.
        if await asyncio.to_thread(model.refresh):
            log.info("classifier model reloaded from %s", model.path)

    await every(app.settings.model_refresh_seconds, stop, one_pass, log, "classifier model")


class _Run:
    """The tasks and clean-ups of one process, gathered while it starts."""

    def __init__(self, app: App, stop: asyncio.Event, role: Role, webhook: bool) -> None:
        self.app = app
        self.stop = stop
        self.role = role
        self.webhook = webhook
        self.tasks: list[asyncio.Task[None]] = []
        self.cleanups: list[Callable[[], Awaitable[None]]] = [app.close]
        self.posts: dict[str, Handler] = {}
        self.mounts: list[Mount] = []
        self.processors: dict[str, Processor] = {}
        self.worker = InboundWorker(
            app.inbound,
            self.processors,
            concurrency=app.settings.inbound_concurrency,
            album_quiet=timedelta(seconds=app.settings.album_wait_seconds),
        )

    def task(self, work: Coroutine[Any, Any, None], name: str) -> None:
        self.tasks.append(asyncio.create_task(work, name=name))

    async def telegram(self, token: str) -> Bot:
        """The Telegram bot: its webhook (web) or poller, processor and delivery (worker)."""
        from bot.app.telegram import build_bot, build_delivery, build_dispatcher, publish_commands
        from handlers.telegram.callbacks import callback_signer
        from handlers.telegram.comms_progress import NoticeProgress
        from handlers.telegram.inbound import TelegramUpdates
        from handlers.telegram.polling import TelegramPoller
        from handlers.telegram.webhook import webhook_mount

        app, settings, stop = self.app, self.app.settings, self.stop
        bot = build_bot(token, settings.telegram_api_url)
        self.cleanups.insert(0, bot.session.close)
        signer = callback_signer(token)
        # By webhook, a citizen's button press is answered in the webhook's own response.
        dispatcher = build_dispatcher(app, signer=signer, callbacks_answered=self.webhook)
        await publish_commands(bot, app.services.translator)
        if self.role.works:
            self.processors["tg"] = TelegramUpdates(dispatcher, bot)
            delivery = build_delivery(app, bot, signer)
            app.replies.on_queued(delivery.wake)
            self.task(delivery.run(stop), "outbox-tg")
            # Spikes of reports, checked every few minutes, alert the ЦУР chat.
            watch = dispatcher.get("spike_watch")
            if watch is not None:
                self.task(watch.run(stop, SPIKE_INTERVAL), "spikes")
            # Progress messages of notices going out, in the comms chats, a few times a minute.
            progress = NoticeProgress(bot, app.notices, app.services.translator, signer)
            self.task(progress.run(stop), "notice-progress")
        if self.webhook:
            if self.role.receives:
                assert settings.webhook_base_url is not None and settings.webhook_secret is not None
                secret = settings.webhook_secret.get_secret_value()
                self.mounts.append(
                    webhook_mount(
                        app.inbound,
                        settings.webhook_path,
                        secret,
                        self.worker.wake,
                        answer_citizen_callbacks=True,
                    )
                )
                url = settings.webhook_base_url.rstrip("/") + settings.webhook_path
                await bot.set_webhook(
                    url, secret_token=secret, allowed_updates=dispatcher.resolve_used_update_types()
                )
                log.info("Telegram: webhook at %s", settings.webhook_path)
            return bot
        await bot.delete_webhook(drop_pending_updates=False)
        poller = TelegramPoller(
            bot, app.inbound, dispatcher.resolve_used_update_types(), on_stored=self.worker.wake
        )
        log.info("Telegram: polling for updates")
        self.task(poller.run(stop), "polling-tg")
        return bot

    async def vk(self, token: str, bot: Bot | None) -> None:
        """The VK community: Callback API (web) or Long Poll, processor and delivery (worker)."""
        from bot.app.vk import build_vk, build_vk_delivery, vk_callback_handler
        from handlers.telegram.files import photo_source
        from handlers.vk.polling import poll_vk

        app, settings, stop = self.app, self.app.settings, self.stop
        vk = await build_vk(app, token)
        self.cleanups.insert(0, vk.close)
        if self.role.works:
            self.processors["vk"] = vk.citizens.process
            delivery = build_vk_delivery(app, vk, photo_source(bot))
            app.replies.on_queued(delivery.wake)
            self.task(delivery.run(stop), "outbox-vk")
        if self.webhook:
            if self.role.receives:
                secret = (
                    settings.vk_callback_secret.get_secret_value() if settings.vk_callback_secret else None
                )
                self.posts[settings.vk_callback_path] = vk_callback_handler(
                    vk,
                    app.inbound,
                    secret=secret,
                    confirmation=settings.vk_confirmation_code,
                    on_stored=self.worker.wake,
                )
                log.info("VK: Callback API at %s", settings.vk_callback_path)
            return
        self.task(
            poll_vk(
                vk.api, vk.group_id, app.inbound, settings.vk_state_dir, stop, on_stored=self.worker.wake
            ),
            "polling-vk",
        )

    async def serve_http(self) -> None:
        """Health in every role (the container healthcheck uses it); webhooks where updates are received."""
        from bot.app.web import build_web_app

        settings = self.app.settings
        runner = web.AppRunner(build_web_app(self.app, self.posts, self.mounts))
        await runner.setup()
        self.cleanups.insert(0, runner.cleanup)
        # SO_REUSEPORT: several webhook processes may listen on one port, the kernel spreads connections.
        await web.TCPSite(
            runner, settings.web_host, settings.web_port, reuse_port=self.webhook and self.role.receives
        ).start()
        log.info("HTTP server on %s:%s (%s)", settings.web_host, settings.web_port, self.role.value)

    async def wait(self) -> None:
        """Until stopped, or until a task fails for good (a revoked token, say)."""
        waiter = asyncio.create_task(self.stop.wait())
        done, _ = await asyncio.wait([waiter, *self.tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not waiter and task.exception() is not None:
                log.error("%s stopped: %s", task.get_name(), task.exception())
        waiter.cancel()

    async def close(self) -> None:
        self.stop.set()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for cleanup in self.cleanups:
            with contextlib.suppress(Exception):
                await cleanup()
