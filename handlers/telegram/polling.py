"""Telegram long polling into the inbound queue: the offset moves only past updates that are stored.

Telegram forgets an update once getUpdates is called with a higher offset, so the next call's
offset is raised only after the batch is committed; a database that is away is waited out with the
batch in hand (and, should the process die, Telegram still holds it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from aiogram import Bot
from aiogram.exceptions import (
    TelegramConflictError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import Update

from bot.inbound.queue import InboundQueue
from handlers.telegram.inbound import arrival_of
from storage.db import TRANSIENT_ERRORS

log = logging.getLogger(__name__)

MAX_PAUSE_SECONDS = 30.0


def _payload(update: Update) -> dict[str, object]:
    # The JSON Telegram sent, as aiogram read it (aliases such as "from" restored).
    return update.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_unset=True)


class TelegramPoller:
    """getUpdates → inbound queue, until stopped."""

    def __init__(
        self,
        bot: Bot,
        queue: InboundQueue,
        allowed_updates: Sequence[str],
        *,
        timeout: int = 25,
        on_stored: Callable[[], None] = lambda: None,
    ) -> None:
        self._bot = bot
        self._queue = queue
        self._allowed = list(allowed_updates)
        self._timeout = timeout
        self._on_stored = on_stored

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set; Telegram or storage being away is waited out, never fatal."""
        offset: int | None = None
        failures = 0
        while not stop.is_set():
            try:
                updates = await self._fetch(offset, stop)
                if updates is None:
                    return
            except TelegramRetryAfter as error:
                await self._pause(stop, float(error.retry_after))
                continue
            except (TelegramNetworkError, TelegramServerError, TelegramConflictError, TimeoutError) as error:
                # A conflict is another poller (or a webhook) on the same token: said, and tried again.
                failures += 1
                log.warning("telegram: getUpdates failed (%s); retrying", type(error).__name__)
                await self._pause(stop, min(2.0**failures, MAX_PAUSE_SECONDS))
                continue
            failures = 0
            if not updates:
                continue
            if not await self._store(updates, stop):
                return
            offset = updates[-1].update_id + 1

    async def _fetch(self, offset: int | None, stop: asyncio.Event) -> list[Update] | None:
        """One long poll, given up (None) when `stop` is set meanwhile: nothing is confirmed by that."""
        fetch = asyncio.ensure_future(
            self._bot.get_updates(offset=offset, timeout=self._timeout, allowed_updates=self._allowed)
        )
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait({fetch, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if not fetch.done():
            fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await fetch
            return None
        return fetch.result()

    async def _store(self, updates: list[Update], stop: asyncio.Event) -> bool:
        """Commit the batch, waiting for storage as long as it takes; False when stopped first."""
        arrivals = [arrival_of(_payload(update)) for update in updates]
        pause = 0.5
        while not stop.is_set():
            try:
                await self._queue.put_many(arrivals)
            except TRANSIENT_ERRORS as error:
                log.warning("telegram: cannot store updates (%s); waiting", type(error).__name__)
                await self._pause(stop, pause)
                pause = min(pause * 2, MAX_PAUSE_SECONDS)
                continue
            self._on_stored()
            return True
        return False

    @staticmethod
    async def _pause(stop: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)
