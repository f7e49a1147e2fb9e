"""The outbox worker: claims due rows, delivers them through the platform's messenger, records outcomes.

Delivery is continuous: claimed rows go into lanes (`bot.delivery.lanes`), one per recipient, each
sending its rows in order on its own task, and the worker claims the next due rows while lanes are
still sending. A recipient that is slow (a group chat paced at 20 messages a minute, a chat under
flood control) holds only its own lane. Delivery is at least once: a worker killed mid-send leaves
its rows leased, and they are sent again once the lease runs out.
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
from bot.delivery.lanes import Lanes
from bot.delivery.outbox import LEASE
from bot.delivery.ports import Delivery, Messenger, NoNotices, NoticePolicy, OnUnreachable
from bot.delivery.records import OutcomeRecorder
from bot.delivery.slots import Slots
from storage.db import TRANSIENT_ERRORS, Database
from storage.models import OutboxMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Claim:
    """Rows one claim leased (until `lease_until`), and how many it settled without sending."""

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
        slow_after: float = 2.0,
        stop_grace: float = 5.0,
    ) -> None:
        self._db = db
        self._messengers = dict(messengers)
        self._clock = clock
        self._batch = batch
        self._idle_seconds = idle_seconds
        self._recorder = OutcomeRecorder(db, clock, max_attempts, on_unreachable)
        # Sends to different recipients overlap (network latency would cap a sequential sender far
        # below the platform's rate); sends to one recipient stay in order. A send slower than
        # `slow_after` seconds is waiting for its own recipient and lends its slot (see slots.py).
        self._concurrency = concurrency
        self._slow_after = slow_after
        self._stop_grace = stop_grace
        self._notices: NoticePolicy = notices or NoNotices()
        # Set by wake() and by lanes with news (room for a batch, rows due again): claim now.
        self._nudge = asyncio.Event()
        # The lanes of `run` and of any `run_once` going on, and rows claimed not yet in lanes.
        self._live: set[Lanes] = set()
        self._undispatched = 0

    @property
    def in_flight(self) -> int:
        """Rows this worker has claimed and not yet recorded (being sent, or waiting in a lane)."""
        return self._undispatched + sum(lanes.in_flight for lanes in self._live)

    def messenger(self, platform: str) -> Messenger:
        """The messenger this worker sends `platform`'s rows through."""
        return self._messengers[platform]

    def wake(self) -> None:
        """Claim now instead of at the next poll: a row was just queued in this process.

        Call it once the transaction that queued the row has committed (a claim before that does not
        see it), from the event loop the worker runs in. Rows written by other processes are still
        found by the poll every `idle_seconds`.
        """
        self._nudge.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; a briefly unavailable database is waited out, never fatal.

        On stop, rows claimed but not started are given back at once, sends in flight get
        `stop_grace` seconds to finish and be recorded, and any still running then are cancelled.
        """
        group = asyncio.TaskGroup()
        lanes = self._lanes(group, nudge=self._nudge)
        try:
            async with group:
                try:
                    await self._claim_continuously(stop, lanes)
                finally:
                    await lanes.close(self._stop_grace)
        finally:
            self._live.discard(lanes)

    async def run_once(self) -> int:
        """One pass: claim due rows in id order, deliver them, record outcomes; returns rows handled.

        It waits for every lane it starts. Beside `run` it is one more claimer, like a second
        worker: the rows run's lanes hold are leased, so it does not take them.
        """
        claim = await self._claim_due()
        group = asyncio.TaskGroup()
        lanes = self._lanes(group)
        try:
            async with group:
                held = await self._dispatch(claim, lanes)
        finally:
            self._live.discard(lanes)
        return claim.handled + held + lanes.settled

    def _lanes(self, group: asyncio.TaskGroup, nudge: asyncio.Event | None = None) -> Lanes:
        """Lanes whose jobs run in `group` (entered before the first row is added), counted in in_flight."""
        slots = Slots(self._concurrency, spare=self._concurrency, slow_after=self._slow_after)
        lanes = Lanes(
            group, self._messengers, self._recorder, self._clock, slots, room=self._batch, nudge=nudge
        )
        self._live.add(lanes)
        return lanes

    async def _claim_continuously(self, stop: asyncio.Event, lanes: Lanes) -> None:
        while not stop.is_set():
            self._nudge.clear()
            try:
                more = await self._claim_into(lanes)
            except TRANSIENT_ERRORS as error:
                log.warning("outbox: database unavailable (%s); retrying", error)
                await self._pause(stop, nudged=False)
                continue
            except Exception:
                # A bug in one row must not stop every later row; its lease lets it retry.
                log.exception("outbox: claiming failed")
                await self._pause(stop, nudged=False)
                continue
            if not more:
                await self._pause(stop, nudged=True)

    async def _claim_into(self, lanes: Lanes) -> bool:
        """Claim what there is room for into the lanes; whether to claim again at once.

        About one batch of rows waits for a send slot, claimed while the lanes send the rows before
        them, so the rate budget is not left idle while the database works. Answers and statuses
        are claimed up to a second batch beyond that: one never waits for a notice's backlog.
        """
        if lanes.unstarted >= 2 * self._batch:
            return False
        claim = await self._claim_due(with_notices=lanes.unstarted < self._batch)
        await self._dispatch(claim, lanes)
        return bool(claim.deliveries or claim.handled) and lanes.unstarted < 2 * self._batch

    async def _pause(self, stop: asyncio.Event, *, nudged: bool) -> None:
        """Wait for `stop` or `idle_seconds`, and with `nudged` also for wake() or news from the lanes."""
        waits = [asyncio.ensure_future(stop.wait())]
        if nudged:
            waits.append(asyncio.ensure_future(self._nudge.wait()))
        try:
            await asyncio.wait(waits, timeout=self._idle_seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    async def _claim_due(self, *, with_notices: bool = True) -> Claim:
        now = self._clock.now()
        lease_until = now + LEASE
        deliveries, handled = await self._claim(now, lease_until, with_notices=with_notices)
        self._undispatched += len(deliveries)
        return Claim(deliveries, handled, lease_until)

    async def _dispatch(self, claim: Claim, lanes: Lanes) -> int:
        """Hand a claim's rows to the lanes; returns how many the notice policy held back."""
        if not claim.deliveries:
            return 0
        try:
            deliveries, held = await self._hold(claim.deliveries, self._clock.now())
            lanes.add(deliveries, claim.lease_until)
        finally:
            self._undispatched -= len(claim.deliveries)
        return held

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

    async def _claim(
        self, now: datetime, lease_until: datetime, *, with_notices: bool = True
    ) -> tuple[list[Delivery], int]:
        """Lease the due rows this worker may send now; rows for unreachable citizens die here."""
        return await claim_rows(
            self._db,
            self._notices,
            platforms=self._messengers,
            batch=self._batch,
            now=now,
            lease_until=lease_until,
            with_notices=with_notices,
        )
