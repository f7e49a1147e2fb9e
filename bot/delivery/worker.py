"""The outbox worker: claims due rows, delivers them through the platform's messenger, records outcomes.

Delivery is at least once: a worker killed mid-send leaves its rows leased, and they are sent again
once the lease runs out. Sends to one recipient stay in order; sends to different ones overlap.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update

from bot.core.clock import Clock
from bot.delivery.claims import claim_rows
from bot.delivery.outbox import LEASE, LEASE_MARGIN
from bot.delivery.ports import (
    Delivery,
    Failed,
    Messenger,
    NoNotices,
    NoticePolicy,
    OnUnreachable,
    Outcome,
    Sent,
)
from bot.delivery.records import OutcomeRecorder
from storage.db import TRANSIENT_ERRORS, Database
from storage.models import OutboxMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Claim:
    """Rows one pass leased (until `lease_until`), and how many it settled without sending."""

    deliveries: list[Delivery]
    handled: int
    lease_until: datetime


class OutboxWorker:
    """Claims due outbox rows, delivers them through the platform's messenger, records the outcome."""

    def __init__(
        self,
        db: Database,
        messengers: Mapping[str, Messenger],
        clock: Clock,
        *,
        batch: int = 200,
        max_attempts: int = 8,
        idle_seconds: float = 0.5,
        on_unreachable: OnUnreachable | None = None,
        concurrency: int = 32,
        notices: NoticePolicy | None = None,
    ) -> None:
        self._db = db
        self._messengers = dict(messengers)
        self._clock = clock
        self._batch = batch
        self._idle_seconds = idle_seconds
        self._recorder = OutcomeRecorder(db, clock, max_attempts, on_unreachable)
        # Sends to different recipients overlap (network latency would cap a sequential sender far
        # below the platform's rate); sends to one recipient stay in order.
        self._concurrency = concurrency
        self._notices: NoticePolicy = notices or NoNotices()
        self._wake = asyncio.Event()
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        """Rows this worker has claimed and not yet recorded (being sent, or claimed ahead)."""
        return self._in_flight

    def wake(self) -> None:
        """A row was just queued in this process: look now instead of at the next idle poll."""
        self._wake.set()

    def messenger(self, platform: str) -> Messenger:
        """The messenger this worker sends `platform`'s rows through."""
        return self._messengers[platform]

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; a briefly unavailable database is waited out, never fatal."""
        ahead: asyncio.Task[Claim] | None = None
        try:
            while not stop.is_set():
                try:
                    task, ahead = ahead, None
                    claim = await task if task is not None else await self._claim_due()
                    if claim.deliveries:
                        # The next rows are claimed while these go out: the platform's rate budget
                        # is not left idle while the database works (thousands of notice rows a pass).
                        ahead = asyncio.create_task(self._claim_due(), name="outbox-claim-ahead")
                    handled = await self._deliver_claim(claim)
                except TRANSIENT_ERRORS as error:
                    log.warning("outbox: database unavailable (%s); retrying", error)
                    handled = 0
                except ExceptionGroup as group:
                    # Sends run in a task group: a database outage while recording arrives wrapped.
                    transient, rest = group.split(lambda error: isinstance(error, TRANSIENT_ERRORS))
                    if rest is not None:
                        log.exception("outbox: delivery pass failed", exc_info=rest)
                    elif transient is not None:
                        log.warning("outbox: database unavailable (%s); retrying", transient.exceptions[0])
                    handled = 0
                except Exception:
                    # A bug in one message must not stop every later message; its lease lets it retry.
                    log.exception("outbox: delivery pass failed")
                    handled = 0
                if handled == 0 and ahead is None:
                    await self._idle(stop)
        finally:
            if ahead is not None:
                await self._give_back(ahead)

    async def _idle(self, stop: asyncio.Event) -> None:
        """Until the idle poll, a wake-up or stop."""
        if self._wake.is_set():
            self._wake.clear()
            return
        waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        await asyncio.wait(waiters, timeout=self._idle_seconds, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()
        self._wake.clear()

    async def _give_back(self, ahead: asyncio.Task[Claim]) -> None:
        """Rows claimed ahead but never sent are due again at once, not only when their lease ends."""
        try:
            claim = await ahead
            self._in_flight -= len(claim.deliveries)
            if claim.deliveries:
                await self._recorder.release([d.id for d in claim.deliveries], claim.lease_until)
        except Exception as error:
            # Their lease runs out and the next worker takes them: late, not lost.
            log.warning("outbox: could not give back rows claimed ahead (%s)", error)

    async def run_once(self) -> int:
        """One pass: claim due rows in id order, deliver them, record outcomes; returns rows handled."""
        return await self._deliver_claim(await self._claim_due())

    async def _claim_due(self) -> Claim:
        now = self._clock.now()
        lease_until = now + LEASE
        deliveries, handled = await self._claim(now, lease_until)
        self._in_flight += len(deliveries)
        return Claim(deliveries, handled, lease_until)

    async def _deliver_claim(self, claim: Claim) -> int:
        """Deliver what one claim leased and record the outcomes; returns rows handled."""
        try:
            return await self._deliver_leased(claim)
        finally:
            self._in_flight -= len(claim.deliveries)

    async def _deliver_leased(self, claim: Claim) -> int:
        lease_until, handled = claim.lease_until, claim.handled
        if not claim.deliveries:
            return handled
        deliveries, held = await self._hold(claim.deliveries, self._clock.now())
        chains: dict[tuple[str, str], list[Delivery]] = {}
        for delivery in deliveries:
            chains.setdefault((delivery.platform, delivery.target), []).append(delivery)
        units: list[list[Delivery]] = []
        batches: dict[tuple[str, int, str], list[Delivery]] = {}
        for chain in chains.values():
            first = chain[0]
            messenger = self._messengers[first.platform]
            if len(chain) == 1 and first.notice_id is not None and hasattr(messenger, "deliver_many"):
                lang = str(first.payload.get("lang", ""))
                batches.setdefault((first.platform, first.notice_id, lang), []).append(first)
            else:
                units.append(chain)
        results: list[tuple[Delivery, Outcome]] = []
        release: list[int] = []
        limit = asyncio.Semaphore(self._concurrency)

        async def run_chain(chain: list[Delivery]) -> None:
            async with limit:
                for index, delivery in enumerate(chain):
                    if self._clock.now() >= lease_until - LEASE_MARGIN:
                        release.extend(d.id for d in chain[index:])
                        return
                    outcome = await self._deliver(delivery)
                    # Recorded at once: a crash can then only repeat the sends still in flight.
                    await self._recorder.record([(delivery, outcome)])
                    results.append((delivery, outcome))
                    if not isinstance(outcome, Sent):
                        # A later message to this target must wait behind the one that did not go out.
                        release.extend(d.id for d in chain[index + 1 :])
                        return

        async def run_batch(group: list[Delivery]) -> None:
            async with limit:
                if self._clock.now() >= lease_until - LEASE_MARGIN:
                    release.extend(d.id for d in group)
                    return
                outcomes = list(zip(group, await self._deliver_many(group), strict=True))
                await self._recorder.record(outcomes)
                results.extend(outcomes)

        work = [run_chain(chain) for chain in units]
        for (platform, _notice, _lang), group in batches.items():
            size = max(1, int(getattr(self._messengers[platform], "batch_limit", 1)))
            work += [run_batch(group[i : i + size]) for i in range(0, len(group), size)]
        # A task group: if one send fails hard, the others are cancelled rather than left running.
        async with asyncio.TaskGroup() as jobs:
            for job in work:
                jobs.create_task(job)
        if release:
            await self._recorder.release(release, lease_until)
        return handled + len(results) + held

    async def _deliver(self, delivery: Delivery) -> Outcome:
        messenger = self._messengers[delivery.platform]
        try:
            return await messenger.deliver(delivery)
        except Exception as error:
            # Messengers map API errors to outcomes; anything else is a bug worth a retry and a log.
            log.exception("outbox: messenger %s raised on message %s", delivery.platform, delivery.id)
            return Failed(f"{type(error).__name__}: {error}")

    async def _deliver_many(self, group: list[Delivery]) -> list[Outcome]:
        messenger = self._messengers[group[0].platform]
        try:
            outcomes = list(await messenger.deliver_many(group))  # type: ignore[attr-defined]
        except Exception as error:
            log.exception("outbox: messenger %s raised on a batch of %s", group[0].platform, len(group))
            return [Failed(f"{type(error).__name__}: {error}") for _ in group]
        if len(outcomes) != len(group):
            return [Failed("messenger returned a wrong number of outcomes") for _ in group]
        return outcomes

    async def _hold(self, deliveries: list[Delivery], now: datetime) -> tuple[list[Delivery], int]:
        """Notice rows the policy holds (quiet hours) go back to wait until the moment it names."""
        if all(delivery.notice_id is None for delivery in deliveries):
            return deliveries, 0
        ready: list[Delivery] = []
        held: dict[datetime, list[int]] = {}
        for delivery in deliveries:
            until = self._notices.held_until(delivery, now) if delivery.notice_id is not None else None
            if until is not None:
                held.setdefault(until, []).append(delivery.id)
                continue
            ready.append(delivery)
        if held:
            async with self._db.session() as session:
                for until, ids in held.items():
                    await session.execute(
                        update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(next_attempt_at=until)
                    )
        return ready, sum(len(ids) for ids in held.values())

    async def _claim(self, now: datetime, lease_until: datetime) -> tuple[list[Delivery], int]:
        """Lease the due rows this worker may send now; rows for unreachable citizens die here."""
        return await claim_rows(
            self._db,
            self._notices,
            platforms=self._messengers,
            batch=self._batch,
            now=now,
            lease_until=lease_until,
        )
