"""The inbound worker: processes stored updates, each conversation in order, until it is told to stop.

An update is processed in one unit of work: its effects and its being marked done are committed
together (see `storage.unit`), so a process killed midway leaves the row leased, with nothing of
its work stored, and it is processed again once the lease runs out. Processors make that
safe: replies are outbox rows keyed by the update, a report is filed once per draft, and the
dialog state remembers the last update it applied. Storage that is away (database, Redis) is
waited out: the update stays queued and is tried again, never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from bot.inbound.queue import InboundItem, InboundQueue
from storage.db import TRANSIENT_ERRORS

log = logging.getLogger(__name__)

Processor = Callable[[InboundItem], Awaitable[None]]

# A platform that keeps failing (RetryLater) gets this many tries before the update is given up.
MAX_ATTEMPTS = 8
MAX_BACKOFF_SECONDS = 60.0


class Unprocessable(Exception):
    """An update that can never be processed (not valid JSON for its platform): no retry."""


class RetryLater(Exception):
    """The platform failed for now (a network error, its server, a flood wait): process the update again.

    Any other failure is given up at once: re-running a handler that failed halfway would repeat
    what it had already done (a message to a chat), and a bug does not mend itself.
    """

    def __init__(self, reason: str, delay: float | None = None) -> None:
        super().__init__(reason)
        self.delay = delay


def backoff(attempt: int) -> float:
    """Seconds before the next try: 1, 2, 4 … up to a minute."""
    return float(min(2.0**attempt, MAX_BACKOFF_SECONDS))


class InboundWorker:
    """Claims stored updates and runs each through its platform's processor; many conversations at once."""

    def __init__(
        self,
        queue: InboundQueue,
        processors: Mapping[str, Processor],
        *,
        concurrency: int = 16,
        idle_seconds: float = 0.25,
        album_quiet: timedelta = timedelta(seconds=1),
        deadline_seconds: float | None = None,
    ) -> None:
        self._queue = queue
        # Not copied: start-up adds each platform's processor after wiring the receivers to `wake`.
        self._processors = processors
        self._concurrency = concurrency
        self._idle_seconds = idle_seconds
        self._album_quiet = album_quiet
        # A processor stuck longer than its lease would have its update processed twice at once.
        self._deadline = deadline_seconds or queue.lease.total_seconds() * 0.8
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        """Something was just stored in this process: look now instead of at the next idle poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Process until `stop` is set; storage that is away is waited out, never fatal."""
        try:
            while not stop.is_set():
                started = 0
                free = self._concurrency - len(self._running)
                if free > 0:
                    try:
                        started = await self._start(free)
                    except TRANSIENT_ERRORS as error:
                        log.warning("inbound: storage unavailable (%s); retrying", type(error).__name__)
                        await self._pause(stop, 1.0)
                        continue
                    except Exception:
                        log.exception("inbound: claiming updates failed")
                        await self._pause(stop, 1.0)
                        continue
                if started and len(self._running) < self._concurrency:
                    continue
                await self._wait(stop)
        finally:
            await self._finish_running()

    async def run_once(self) -> int:
        """Process everything due now (and what becomes due meanwhile), then return how many were handled."""
        total = 0
        while True:
            items = await self._queue.claim(
                self._processors, limit=self._concurrency, album_quiet=self._album_quiet
            )
            if not items:
                return total
            await asyncio.gather(*(self._process(item) for item in items))
            total += len(items)

    async def _start(self, free: int) -> int:
        items = await self._queue.claim(self._processors, limit=free, album_quiet=self._album_quiet)
        for item in items:
            task = asyncio.create_task(self._process(item), name=f"inbound-{item.key}")
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return len(items)

    async def _wait(self, stop: asyncio.Event) -> None:
        """Until a conversation finishes, something new is stored here, the idle poll, or stop."""
        self._wake.clear()
        waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(
                [*waiters, *self._running], timeout=self._idle_seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiter in waiters:
                waiter.cancel()

    @staticmethod
    async def _pause(stop: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)

    async def _finish_running(self) -> None:
        # Updates being processed get a moment to finish; the rest keep their lease and run again later.
        if self._running:
            _, pending = await asyncio.wait(set(self._running), timeout=5.0)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _process(self, item: InboundItem) -> None:
        processor = self._processors[item.platform]
        try:
            async with asyncio.timeout(self._deadline), self._queue.processing(item):
                await processor(item)
        except TRANSIENT_ERRORS as error:
            # Not the update's fault: tried again (uncounted) once storage is back.
            log.warning("inbound: %s waits for storage (%s)", item.key, type(error).__name__)
            await self._settle(
                self._queue.retry(item, delay=backoff(1), error=type(error).__name__, counted=False)
            )
            return
        except RetryLater as error:
            reason = f"retry: {error}"
            if item.attempts + 1 >= MAX_ATTEMPTS:
                log.error("inbound: %s given up after %s tries (%s)", item.key, item.attempts + 1, error)
                await self._settle(self._queue.give_up(item, reason))
            else:
                delay = error.delay if error.delay is not None else backoff(item.attempts)
                log.warning("inbound: %s tried again in %.0f s (%s)", item.key, delay, error)
                await self._settle(self._queue.retry(item, delay=delay, error=reason, counted=True))
            return
        except Unprocessable as error:
            log.warning("inbound: %s cannot be processed: %s", item.key, error)
            await self._settle(self._queue.give_up(item, f"unprocessable: {error}"))
            return
        except Exception as error:
            # The frames and the type, not the text: an exception's text may quote what the citizen wrote.
            frames = "".join(traceback.format_tb(error.__traceback__))
            log.error("inbound: processing %s failed with %s\n%s", item.key, type(error).__name__, frames)
            await self._settle(self._queue.give_up(item, type(error).__name__))

    @staticmethod
    async def _settle(outcome: Awaitable[None]) -> None:
        try:
            await outcome
        except TRANSIENT_ERRORS as error:
            # The row keeps its lease and is processed again when it runs out: late, and processed once.
            log.warning("inbound: could not record an outcome (%s)", type(error).__name__)
