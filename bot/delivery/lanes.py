"""Delivery lanes: each recipient's rows go out in order on a task of their own, so a slow recipient
holds up nobody but itself.

A lane is the claimed rows to one (platform, target), sent one after another; lanes run side by
side within the worker's send slots (`bot.delivery.slots`). A row claimed for a target that already
has a lane joins the end of that lane, so it can neither overtake nor run beside an earlier one. A
VK notice goes to up to 100 citizens in one call: such a batch is one job over many targets, and a
lane for one of them, claimed meanwhile, starts when the batch is over.

Every row keeps the lease of the claim that took it. A lane starts no send within LEASE_MARGIN of
its row's lease end: it gives that row and the ones behind it back, due at once, so no other worker
can send a row while this one still might.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.clock import Clock
from bot.delivery.outbox import LEASE_MARGIN
from bot.delivery.ports import Delivery, Failed, Messenger, Outcome, Sent
from bot.delivery.records import OutcomeRecorder
from bot.delivery.slots import Slots
from storage.db import TRANSIENT_ERRORS

log = logging.getLogger(__name__)

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Leased:
    """A claimed row and the end of its claim's lease."""

    delivery: Delivery
    lease_until: datetime

    @property
    def key(self) -> Key:
        return (self.delivery.platform, self.delivery.target)


@dataclass(eq=False)
class Job:
    """A lane (one target, its rows in order) or a batch (one notice to many targets in one call)."""

    keys: tuple[Key, ...]
    rows: deque[Leased]
    batch: bool = False
    # The job this one waits for: a batch still sending to this lane's target.
    after: asyncio.Task[None] | None = None
    sending: list[Leased] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    # It holds answers or statuses: when it ends, rows queued behind them meanwhile may be claimed.
    conversation: bool = False

    def extend(self, rows: Sequence[Leased]) -> None:
        self.rows.extend(rows)
        self.conversation = self.conversation or any(item.delivery.notice_id is None for item in rows)


class Lanes:
    """The rows a worker has claimed and not finished, in lanes; each job a task of `group`."""

    def __init__(
        self,
        group: asyncio.TaskGroup,
        messengers: Mapping[str, Messenger],
        recorder: OutcomeRecorder,
        clock: Clock,
        slots: Slots,
        *,
        room: int,
        nudge: asyncio.Event | None = None,
    ) -> None:
        self._group = group
        self._messengers = messengers
        self._recorder = recorder
        self._clock = clock
        self._slots = slots
        # Fewer unstarted rows than this: the claiming loop is told there is room for a new batch.
        self._room = room
        self._nudge = nudge
        self._jobs: dict[Key, Job] = {}
        self._running: set[Job] = set()
        self._ids: set[int] = set()
        self._unstarted = 0
        self.settled = 0

    @property
    def unstarted(self) -> int:
        """Rows claimed whose send has not started yet."""
        return self._unstarted

    @property
    def in_flight(self) -> int:
        """Rows claimed and not yet recorded: waiting in a lane, or being sent."""
        return len(self._ids)

    def add(self, deliveries: Sequence[Delivery], lease_until: datetime) -> None:
        """Rows one claim leased (in id order): each joins its target's lane, or starts one."""
        chains: dict[Key, list[Leased]] = {}
        for delivery in deliveries:
            if delivery.id in self._ids:
                # Still ours: its lease ran out while it was being sent, and this claim took it again.
                continue
            self._ids.add(delivery.id)
            item = Leased(delivery, lease_until)
            chains.setdefault(item.key, []).append(item)
        batches: dict[tuple[str, int, str], list[Leased]] = {}
        for key, chain in chains.items():
            self._unstarted += len(chain)
            current = self._jobs.get(key)
            if current is not None and not current.batch:
                current.extend(chain)
                continue
            first = chain[0].delivery
            if current is None and len(chain) == 1 and first.notice_id is not None and self._batches(first):
                lang = str(first.payload.get("lang", ""))
                batches.setdefault((first.platform, first.notice_id, lang), []).append(chain[0])
                continue
            lane = Job((key,), deque(), after=current.task if current is not None else None)
            lane.extend(chain)
            self._start(lane)
        for (platform, _notice, _lang), group in batches.items():
            size = max(1, int(getattr(self._messengers[platform], "batch_limit", 1)))
            for start in range(0, len(group), size):
                part = group[start : start + size]
                self._start(Job(tuple(item.key for item in part), deque(part), batch=True))

    def _batches(self, delivery: Delivery) -> bool:
        return hasattr(self._messengers[delivery.platform], "deliver_many")

    def _start(self, job: Job) -> None:
        for key in job.keys:
            self._jobs[key] = job
        self._running.add(job)
        job.task = self._group.create_task(self._run(job), name="outbox-lane")

    async def _run(self, job: Job) -> None:
        if job.after is not None:
            # Its outcome is the batch's own business; only its end matters here.
            await asyncio.wait([job.after])
        try:
            if job.batch:
                await self._send_batch(job)
            else:
                await self._send_lane(job)
        except TRANSIENT_ERRORS as error:
            # What was sent but not recorded stays leased and goes again later: at least once.
            log.warning("outbox: database unavailable while delivering (%s)", error)
        except Exception:
            # A bug in one message must not stop every later message; its lease lets it retry.
            log.exception("outbox: delivery failed")
        finally:
            left = self._end(job)
        # Not on cancellation: a stopping worker has already given back what had not started.
        await self._give_back(left)
        if self._nudge is not None and (left or job.conversation):
            # Rows to this target are due (given back, or queued behind it meanwhile): claim them now.
            self._nudge.set()

    async def _send_lane(self, job: Job) -> None:
        while job.rows:
            turn = await self._slots.take(urgent=job.rows[0].delivery.notice_id is None)
            if turn is None:
                return  # stopping: the rows left are given back by `close`
            try:
                if not job.rows or self._expiring(job.rows[0]):
                    return
                item = job.rows.popleft()
                job.sending = [item]
                self._left(1)
                outcome = await self._deliver(item.delivery)
                turn.answered()
                # Recorded at once: a crash can then only repeat the sends still in flight.
                await self._recorder.record([(item.delivery, outcome)])
                self._settle(job)
            finally:
                turn.done()
            if not isinstance(outcome, Sent):
                # A later message to this target must wait behind the one that did not go out.
                return

    async def _send_batch(self, job: Job) -> None:
        turn = await self._slots.take(urgent=False)
        if turn is None:
            return
        try:
            if not job.rows or self._expiring(job.rows[0]):
                return
            job.sending = list(job.rows)
            job.rows.clear()
            self._left(len(job.sending))
            deliveries = [item.delivery for item in job.sending]
            outcomes = await self._deliver_many(deliveries)
            turn.answered()
            await self._recorder.record(list(zip(deliveries, outcomes, strict=True)))
            self._settle(job)
        finally:
            turn.done()

    def _expiring(self, item: Leased) -> bool:
        """Too close to the end of its lease to start: another worker may take it soon."""
        return self._clock.now() >= item.lease_until - LEASE_MARGIN

    def _settle(self, job: Job) -> None:
        self.settled += len(job.sending)
        self._ids.difference_update(item.delivery.id for item in job.sending)
        job.sending = []

    def _left(self, count: int) -> None:
        """`count` rows stopped waiting (started, or given back)."""
        before = self._unstarted
        self._unstarted -= count
        if self._nudge is not None and before >= self._room > self._unstarted:
            self._nudge.set()

    def _end(self, job: Job) -> list[Leased]:
        """The job is over: its targets are free, and the rows it did not start are returned."""
        # No await before the targets are free: a row claimed from now on starts a new lane.
        for key in job.keys:
            if self._jobs.get(key) is job:
                del self._jobs[key]
        self._running.discard(job)
        left = list(job.rows)
        job.rows.clear()
        self._left(len(left))
        self._ids.difference_update(item.delivery.id for item in [*left, *job.sending])
        job.sending = []
        return left

    async def _give_back(self, rows: Sequence[Leased]) -> None:
        """Rows leased but not sent are due again at once, not only when their lease ends."""
        by_lease: dict[datetime, list[int]] = {}
        for item in rows:
            by_lease.setdefault(item.lease_until, []).append(item.delivery.id)
        for lease_until, ids in by_lease.items():
            try:
                await self._recorder.release(ids, lease_until)
            except Exception as error:
                # Their lease runs out and the next claim takes them: late, not lost.
                log.warning("outbox: could not give back %s rows (%s)", len(ids), error)

    async def close(self, grace: float) -> None:
        """Start no more sends, give back every row not started, and let the sends in flight end.

        A send still running after `grace` seconds is cancelled; its row stays leased, as if the
        worker had died mid-send, since it may have reached the recipient already.
        """
        self._slots.close()
        left: list[Leased] = []
        for job in self._running:
            left.extend(job.rows)
            job.rows.clear()
        self._left(len(left))
        self._ids.difference_update(item.delivery.id for item in left)
        if left:
            await self._give_back(left)
        tasks = [job.task for job in self._running if job.task is not None]
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("outbox: %s sends still running at stop were cancelled", len(pending))
            await asyncio.wait(pending)

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
