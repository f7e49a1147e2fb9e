"""The product's update pipeline in a test: a poller into the inbound queue, the inbound worker,
and outbox delivery running continuously, as `python -m bot run` runs them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import timedelta

from aiogram import Bot, Dispatcher
from sqlalchemy import func, select

from bot.app.wiring import App
from bot.delivery.worker import OutboxWorker
from bot.inbound.worker import InboundWorker, Processor
from bot.sandbox.telegram import FakeTelegramServer
from handlers.telegram.inbound import TelegramUpdates
from handlers.telegram.polling import TelegramPoller
from storage.models import InboundUpdate, OutboxMessage


async def eventually(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Wait until `condition()` holds (checked every 20 ms), or fail after `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"not so within {within} s")
        await asyncio.sleep(0.02)


async def settled(app: App, within: float = 10.0) -> None:
    """Wait until every stored update is processed and every outbox row is sent (or failed for good)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        async with app.db.session() as session:
            waiting = await session.scalar(
                select(func.count()).select_from(InboundUpdate).where(InboundUpdate.status == "pending")
            )
            unsent = await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
            )
        if not waiting and not unsent:
            return
        if loop.time() > deadline:
            raise AssertionError(f"{waiting} updates and {unsent} messages still pending after {within} s")
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def processing(
    app: App, processors: Mapping[str, Processor], deliveries: Sequence[OutboxWorker] = ()
) -> AsyncIterator[InboundWorker]:
    """The inbound worker (and the given delivery workers) running for the block's duration."""
    stop = asyncio.Event()
    worker = InboundWorker(
        app.inbound,
        processors,
        idle_seconds=0.05,
        album_quiet=timedelta(seconds=app.settings.album_wait_seconds),
    )
    removals = [app.replies.on_queued(delivery.wake) for delivery in deliveries]
    tasks = [asyncio.create_task(worker.run(stop), name="inbound")]
    tasks += [asyncio.create_task(delivery.run(stop), name="outbox") for delivery in deliveries]
    try:
        yield worker
    finally:
        stop.set()
        for removal in removals:
            removal()
        await asyncio.wait_for(asyncio.gather(*tasks), 15)


@contextlib.asynccontextmanager
async def telegram_pipeline(
    server: FakeTelegramServer,
    app: App,
    dispatcher: Dispatcher,
    bot: Bot,
    deliveries: Sequence[OutboxWorker],
    *,
    polling_timeout: int = 1,
) -> AsyncIterator[InboundWorker]:
    """getUpdates → inbound queue → aiogram's dispatcher → outbox → the local Bot API server.

    Entered once the first getUpdates reached the server, so no update is sent before it listens.
    """
    start = len(server.calls)
    async with processing(app, {"tg": TelegramUpdates(dispatcher, bot)}, deliveries) as worker:
        stop = asyncio.Event()
        poller = TelegramPoller(
            bot,
            app.inbound,
            dispatcher.resolve_used_update_types(),
            timeout=polling_timeout,
            on_stored=worker.wake,
        )
        task = asyncio.create_task(poller.run(stop), name="polling-tg")
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 5.0
            while not any(c.method == "getUpdates" for c in server.calls[start:]):
                if task.done():
                    await task
                    raise AssertionError("polling stopped before calling getUpdates")
                if loop.time() > deadline:
                    raise AssertionError("polling did not call getUpdates within 5 s")
                await server.wait_activity(0.05)
            yield worker
        finally:
            stop.set()
            await asyncio.wait_for(task, polling_timeout + 10)
