"""VK Long Poll into the inbound queue: the position (`ts`) is saved only past stored events.

vkbottle's polling saves `ts` once the consumer asks for the next batch; the consumer here asks
only after the batch is committed, waiting out a database that is away, so a crash or an outage
never skips an event (redelivered ones are dropped by the queue's keys).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

from vkbottle import API
from vkbottle.polling import BotPolling

from bot.inbound.queue import InboundQueue
from handlers.vk.citizen import arrival_of
from storage.db import TRANSIENT_ERRORS

log = logging.getLogger(__name__)

MAX_PAUSE_SECONDS = 30.0


class StoredPositionPolling(BotPolling):
    """vkbottle's Long Poll, keeping its position in a configured directory.

    After a restart it resumes from the stored position, so messages sent while the bot was down
    are answered.
    """

    def __init__(self, api: API, group_id: int, state_dir: str, wait: int = 25) -> None:
        super().__init__(api, group_id=group_id, wait=wait, skip_old_events=False)
        self._state_dir = Path(state_dir)

    @property
    def ts_state_path(self) -> Path:
        return self._state_dir / "bot-polling" / f"{self.group_id}.json"


async def poll_vk(
    api: API,
    group_id: int,
    queue: InboundQueue,
    state_dir: str,
    stop: asyncio.Event,
    *,
    wait: int = 25,
    on_stored: Callable[[], None] = lambda: None,
) -> None:
    """Receive VK events by Long Poll into the queue until `stop` is set."""
    polling = StoredPositionPolling(api, group_id, state_dir, wait=wait)

    async def store(events: list[dict[str, object]]) -> None:
        arrivals = [arrival_of(event) for event in events if isinstance(event, dict)]
        pause = 0.5
        while not stop.is_set():
            try:
                await queue.put_many(arrivals)
            except TRANSIENT_ERRORS as error:
                log.warning("vk: cannot store events (%s); waiting", type(error).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=pause)
                pause = min(pause * 2, MAX_PAUSE_SECONDS)
                continue
            on_stored()
            return
        # Stopped before storing: the position is not saved past these events.
        raise asyncio.CancelledError

    async def listen() -> None:
        async for batch in polling.listen():
            await store(list(batch.get("updates") or []))

    log.info("VK: long polling community %s", group_id)
    listener = asyncio.create_task(listen(), name="vk-longpoll")
    stopper = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({listener, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        polling.stop()
        for task in (listener, stopper):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if listener.done() and not listener.cancelled() and listener.exception() is not None:
        raise listener.exception()  # type: ignore[misc]
