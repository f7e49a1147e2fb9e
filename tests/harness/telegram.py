"""The aiogram side of the Telegram sandbox: a real ``Bot`` pointed at a FakeTelegramServer, a
polling block, and our own Telegram wiring (dispatcher, signer, outbox worker) aimed at the server
(the sandbox itself speaks HTTP only and imports no aiogram)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.app.telegram import build_bot, build_delivery, build_dispatcher
from bot.app.wiring import App
from bot.delivery.worker import OutboxWorker
from bot.inbound.worker import InboundWorker
from bot.sandbox.telegram import FakeTelegramServer
from handlers.telegram.callbacks import CallbackSigner, callback_signer
from tests.harness.pipeline import telegram_pipeline


class LocalAiohttpSession(AiohttpSession):
    """AiohttpSession without the SSL-shutdown sleep in close() (there is no SSL on 127.0.0.1)."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def make_session(server: FakeTelegramServer) -> AiohttpSession:
    """An aiogram ``AiohttpSession`` pointed at ``server`` (with the fast ``close()``)."""
    return LocalAiohttpSession(api=TelegramAPIServer.from_base(server.base_url))


def make_bot(server: FakeTelegramServer, token: str | None = None, **kwargs: Any) -> Bot:
    """A real aiogram ``Bot`` whose session points at ``server``; close it with
    ``await bot.session.close()`` (``polling()`` does that on exit)."""
    return Bot(token or server.token, session=make_session(server), **kwargs)


@contextlib.asynccontextmanager
async def running(
    server: FakeTelegramServer,
    app: App,
    dispatcher: Dispatcher,
    bot: Bot,
    worker: OutboxWorker | None = None,
    *,
    continuous: bool = True,
) -> AsyncIterator[InboundWorker]:
    """The product's pipeline for the block: getUpdates into the inbound queue, the inbound worker
    feeding our dispatcher, and `worker` (by default one with rate limits lifted) delivering.

    With `continuous=False` the outbox is left to the test (``deliver_all``, a partial worker):
    for staff flows that count what a notice delivered, where no citizen waits for an answer.
    """
    if worker is None:
        worker = build_delivery(app, bot, dispatcher["signer"], global_rate=1000.0, chat_rate=1000.0)
    try:
        deliveries = [worker] if continuous else []
        async with telegram_pipeline(server, app, dispatcher, bot, deliveries) as inbound:
            yield inbound
    finally:
        await bot.session.close()


@contextlib.asynccontextmanager
async def aiogram_polling(
    server: FakeTelegramServer, dp: Dispatcher, bot: Bot, *, polling_timeout: int = 1, **kwargs: Any
) -> AsyncIterator[asyncio.Task[None]]:
    """Run aiogram's own ``dp.start_polling(bot)`` (the sandbox's own tests; the product polls with
    ``TelegramPoller``) for the duration of the block, then stop it.

    Enters once the first ``getUpdates`` reached the server. The bot session is closed on exit
    (aiogram's default ``close_bot_session=True``; pass ``close_bot_session=False`` to keep it).
    """
    start = len(server.calls)
    task = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, polling_timeout=polling_timeout, **kwargs)
    )
    deadline = asyncio.get_running_loop().time() + 5.0
    while not any(c.method == "getUpdates" for c in server.calls[start:]):
        if task.done():
            await task
            raise AssertionError("polling stopped before calling getUpdates")
        if asyncio.get_running_loop().time() > deadline:
            task.cancel()
            raise AssertionError("polling did not call getUpdates within 5 s")
        await server.wait_activity(0.05)
    try:
        yield task
    finally:
        if not task.done():
            try:
                await dp.stop_polling()
            except RuntimeError:
                task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def wire(server: FakeTelegramServer, app: App) -> tuple[Bot, CallbackSigner, Dispatcher, OutboxWorker]:
    """Our own Telegram wiring pointed at the local server; rate limits lifted for speed."""
    bot = build_bot(server.token, server.base_url)
    signer = callback_signer(server.token)
    dispatcher = build_dispatcher(app, signer=signer)
    worker = build_delivery(app, bot, signer, global_rate=1000.0, chat_rate=1000.0, group_rate=1000.0)
    return bot, signer, dispatcher, worker


async def deliver_all(worker: OutboxWorker) -> int:
    """Run the outbox until nothing is due or being sent (bounded); how many rows this call handled.

    Inside `running` the worker also runs on its own, so the count is only what this call took.
    """
    total = 0
    for _ in range(50):
        handled = await worker.run_once()
        total += handled
        if handled == 0 and worker.in_flight == 0:
            return total
        if handled == 0:
            await asyncio.sleep(0.02)
    raise AssertionError("the outbox did not drain")


def wire_on_clock(
    server: FakeTelegramServer, app: App
) -> tuple[Bot, CallbackSigner, Dispatcher, OutboxWorker]:
    """Our Telegram wiring; the buttons' expiry follows the test's movable clock."""
    bot = build_bot(server.token, server.base_url)
    signer = callback_signer(server.token, app.services.clock)
    dispatcher = build_dispatcher(app, signer=signer)
    worker = build_delivery(app, bot, signer, global_rate=1000.0, chat_rate=1000.0, group_rate=1000.0)
    return bot, signer, dispatcher, worker
