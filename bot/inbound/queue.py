"""The inbound queue: every update from a messenger is stored here before it is acknowledged.

A webhook answers 2xx (a long poller moves its offset) only once `put` has committed the update,
so an update is either stored or redelivered by the platform. The row's unique key is the
de-duplication record: a redelivery, or the same update sent to two processes, finds it and is
not queued again. Workers then `claim` rows: the earliest unfinished update of each
conversation, so one citizen's updates are processed one after another in order, by whichever
process claims them; the photos of an album wait until the album is complete and go as one item.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Integer, Select, and_, bindparam, delete, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.core.clock import Clock
from storage.db import Database, StorageBusy
from storage.models import InboundUpdate

PENDING = "pending"
DONE = "done"
DEAD = "dead"
ERROR_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Arrival:
    """One update as received: its de-duplication key, where it belongs, and its JSON."""

    key: str
    platform: str
    conversation: str
    payload: dict[str, Any]
    seq: int = 0
    album: str | None = None


@dataclass(frozen=True, slots=True)
class InboundItem:
    """What a worker processes at once: one update, or every photo of one album (in order)."""

    key: str
    platform: str
    payloads: list[dict[str, Any]]
    attempts: int
    ids: tuple[int, ...] = field(default=())


def _insert_new(session: AsyncSession) -> postgresql.Insert | sqlite.Insert:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(InboundUpdate).on_conflict_do_nothing(index_elements=[InboundUpdate.key])


def _due_statement(*, for_update: bool) -> Select[InboundUpdate]:
    """The next updates due: pending, of the given platforms, first of their conversation, and
    (for album photos) of an album complete for a while. Parameters: now, quiet_since, platforms, limit."""
    earlier = aliased(InboundUpdate)
    recent = aliased(InboundUpdate)
    row = InboundUpdate
    now = bindparam("now", type_=row.next_attempt_at.type)
    first_of_conversation = ~exists().where(
        earlier.conversation == row.conversation,
        earlier.status == PENDING,
        or_(earlier.seq < row.seq, and_(earlier.seq == row.seq, earlier.id < row.id)),
    )
    # An album is complete once no photo of it arrived for `album_quiet`.
    album_complete = or_(
        row.album.is_(None),
        ~exists().where(
            recent.album == row.album,
            recent.received_at > bindparam("quiet_since", type_=row.received_at.type),
        ),
    )
    due = (
        select(row)
        .where(
            row.status == PENDING,
            row.next_attempt_at <= now,
            row.platform.in_(bindparam("platforms", expanding=True)),
            first_of_conversation,
            album_complete,
        )
        .order_by(row.id)
        .limit(bindparam("limit", type_=Integer))
    )
    if for_update:
        # Several processes claim at once: each takes rows the others are not looking at.
        due = due.with_for_update(skip_locked=True, of=row)
    return due


class InboundQueue:
    """Stores arrivals once, hands each conversation's next update to one worker, records outcomes."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        lease: timedelta = timedelta(seconds=30),
        backlog_limit: int | None = None,
        backlog_every: float = 1.0,
    ) -> None:
        self._db = db
        self._clock = clock
        self.lease = lease
        self._backlog_limit = backlog_limit
        self._backlog_every = backlog_every
        self._backlog_seen = 0
        self._backlog_counted_at: float | None = None
        # Built once: making the statement costs more Python than running it (claims run per update).
        self._due = _due_statement(for_update=not db.is_sqlite)

    async def put(self, arrival: Arrival) -> bool:
        """Store one update (False: stored before, a redelivery); raises when storage is away."""
        return await self.put_many([arrival]) == 1

    async def put_many(self, arrivals: Sequence[Arrival]) -> int:
        """Store updates in one transaction; how many were new."""
        if not arrivals:
            return 0
        await self._admit(len(arrivals))
        now = self._clock.now()
        async with self._db.session() as session:
            statement = _insert_new(session).returning(InboundUpdate.id)
            new = 0
            for arrival in arrivals:
                values = {
                    "key": arrival.key[:96],
                    "platform": arrival.platform,
                    "conversation": arrival.conversation[:64],
                    "seq": arrival.seq,
                    "album": arrival.album[:96] if arrival.album else None,
                    "payload": arrival.payload,
                    "status": PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "received_at": now,
                }
                if (await session.execute(statement.values(**values))).scalar_one_or_none() is not None:
                    new += 1
        return new

    async def _admit(self, count: int) -> None:
        """StorageBusy when more updates wait than the limit: the receiver answers 503 (the
        platform redelivers later) and a poller waits, instead of the backlog growing without
        bound. The count is read at most every `backlog_every` seconds and grows with each put
        in between, so a burst cannot slip past it."""
        if self._backlog_limit is None:
            return
        now = time.monotonic()
        if self._backlog_counted_at is None or now - self._backlog_counted_at >= self._backlog_every:
            # Set first: updates arriving while this count runs use the last one.
            self._backlog_counted_at = now
            self._backlog_seen = await self.backlog()
        if self._backlog_seen + count > self._backlog_limit:
            raise StorageBusy(f"{self._backlog_seen} updates wait (limit {self._backlog_limit})")
        self._backlog_seen += count

    async def claim(
        self, platforms: Collection[str], *, limit: int, album_quiet: timedelta
    ) -> list[InboundItem]:
        """Lease the next update of up to `limit` conversations whose earlier updates are finished."""
        now = self._clock.now()
        row = InboundUpdate
        due = {"now": now, "quiet_since": now - album_quiet, "platforms": list(platforms), "limit": limit}
        async with self._db.session() as session:
            candidates = list(await session.scalars(self._due, due))
            items: list[InboundItem] = []
            for candidate in candidates:
                group = [candidate]
                if candidate.album is not None:
                    group = list(
                        await session.scalars(
                            select(row)
                            .where(row.album == candidate.album, row.status == PENDING)
                            .order_by(row.seq, row.id)
                        )
                    )
                ids = [member.id for member in group]
                # Conditional on still being due: another process that read the same row leases nothing.
                leased = await session.execute(
                    update(row)
                    .where(row.id == candidate.id, row.status == PENDING, row.next_attempt_at <= now)
                    .values(next_attempt_at=now + self.lease)
                )
                if not getattr(leased, "rowcount", 0):
                    continue
                if len(ids) > 1:
                    await session.execute(
                        update(row).where(row.id.in_(ids[1:])).values(next_attempt_at=now + self.lease)
                    )
                items.append(
                    InboundItem(
                        key=candidate.key,
                        platform=candidate.platform,
                        payloads=[dict(member.payload) for member in group],
                        attempts=candidate.attempts,
                        ids=tuple(ids),
                    )
                )
        return items

    @asynccontextmanager
    async def processing(self, item: InboundItem) -> AsyncIterator[None]:
        """The unit of work of processing `item`: its effects and its being done commit together.

        Not on SQLite: it has one writer at a time, and others wait for it in busy-wait sleeps, so
        a write transaction as long as an update's work stalls everyone else (measured with
        bench/intake.py, 50 citizens: 6.3 steps/s in units, 22 in short transactions). There each
        step commits on its own, and the update is marked done after its processor returned.
        """
        if self._db.is_sqlite:
            yield
            await self.finish(item)
            return
        async with self._db.unit() as unit:
            unit.before_commit(lambda session: self._mark_done(session, item))
            yield

    async def finish(self, item: InboundItem) -> None:
        """Processed: the key stays (redeliveries are still dropped), the payload goes."""
        async with self._db.session() as session:
            await self._mark_done(session, item)

    async def _mark_done(self, session: AsyncSession, item: InboundItem) -> None:
        await session.execute(
            update(InboundUpdate)
            .where(InboundUpdate.id.in_(item.ids))
            # Only the key stays: who sent it (the conversation names the chat) goes with the words.
            .values(
                status=DONE,
                payload={},
                conversation=InboundUpdate.key,
                album=None,
                finished_at=self._clock.now(),
                last_error=None,
            )
        )

    async def retry(self, item: InboundItem, *, delay: float, error: str, counted: bool) -> None:
        """Not processed this time: due again after `delay` seconds (a counted attempt when not transient)."""
        values: dict[str, Any] = {
            "next_attempt_at": self._clock.now() + timedelta(seconds=delay),
            "last_error": error[:ERROR_LIMIT],
        }
        if counted:
            values["attempts"] = InboundUpdate.attempts + 1
        async with self._db.session() as session:
            # A row already done (committed before a later step failed) stays done.
            await session.execute(
                update(InboundUpdate)
                .where(InboundUpdate.id.in_(item.ids), InboundUpdate.status == PENDING)
                .values(**values)
            )

    async def give_up(self, item: InboundItem, error: str) -> None:
        """Failed for good (kept, with its payload, until retention removes it)."""
        async with self._db.session() as session:
            await session.execute(
                update(InboundUpdate)
                .where(InboundUpdate.id.in_(item.ids), InboundUpdate.status == PENDING)
                .values(
                    status=DEAD,
                    attempts=InboundUpdate.attempts + 1,
                    finished_at=self._clock.now(),
                    last_error=error[:ERROR_LIMIT],
                )
            )

    async def release_leases(self) -> int:
        """Make every leased update due now: for a single process starting after a crash (SQLite)."""
        now = self._clock.now()
        async with self._db.session() as session:
            result = await session.execute(
                update(InboundUpdate)
                .where(InboundUpdate.status == PENDING, InboundUpdate.next_attempt_at > now)
                .values(next_attempt_at=now)
            )
        return int(getattr(result, "rowcount", 0) or 0)

    async def backlog(self) -> int:
        """How many updates wait to be processed."""
        async with self._db.session() as session:
            count = await session.scalar(
                select(func.count()).select_from(InboundUpdate).where(InboundUpdate.status == PENDING)
            )
        return int(count or 0)

    async def status_of(self, key: str) -> str | None:
        """The status of the update with `key` (None when never stored)."""
        async with self._db.session() as session:
            return await session.scalar(select(InboundUpdate.status).where(InboundUpdate.key == key))


async def erase_citizen_updates(session: AsyncSession, platform: str, user_id: str) -> None:
    """A citizen asked to be forgotten: updates of theirs that failed for good (kept with their words) go."""
    await session.execute(
        delete(InboundUpdate).where(
            InboundUpdate.conversation == f"{platform}:{user_id}", InboundUpdate.status == DEAD
        )
    )
