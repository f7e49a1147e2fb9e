"""Storing, planning and steering notices, with no rights checked: `NoticeService` checks who asks
and calls this. Tests and benchmarks that are about planning call it directly.

A confirmed notice becomes one outbox row per recipient (key "notice:<notice>:<citizen>"), so the
delivery workers send it with the same guarantees as every other message: persisted before it is
sent, rate-limited, retried, never planned twice. The row holds only the citizen's language and
quiet hours; the text is the notice's, rendered when the row is sent. Planning inserts the rows in
multi-row batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.delivery.outbox import DEAD, PENDING, SENT, UNREACHABLE
from bot.delivery.postbox import NoticeCopy, notice_copies
from bot.services.notices.content import (
    Audience,
    NoticeDraft,
    NoticeKind,
    NoticeStats,
    NoticeStatus,
    quiet_until,
    recipients_query,
)
from bot.services.notices.drafts import check_draft, draft_content
from storage.db import Database
from storage.models import Citizen, Notice, OutboxMessage

PAUSED = "paused"
CANCELLED = "cancelled"
# Rows per INSERT while planning (SQLAlchemy batches them into multi-row VALUES within the limits
# of bound parameters per statement); bounds the memory a plan holds at once.
PLAN_CHUNK = 2000
# Seconds of sends that make up the rate shown in a notice's progress.
RATE_WINDOW = 60
CANCELLABLE = (NoticeStatus.DRAFT, NoticeStatus.AWAITING, NoticeStatus.SENDING, NoticeStatus.PAUSED)


class NoticePlans:
    """Stores, plans and steers notices (no rights checked); the outbox workers do the sending."""

    def __init__(self, db: Database, clock: Clock, timezone: ZoneInfo) -> None:
        self._db = db
        self._clock = clock
        self._tz = timezone

    async def count(self, audience: Audience) -> int:
        async with self._db.session() as session:
            return await self.count_in(session, audience)

    async def count_in(self, session: AsyncSession, audience: Audience) -> int:
        """How many recipients `audience` selects now."""
        if audience.is_empty():
            return 0
        total = await session.scalar(select(func.count()).select_from(recipients_query(audience).subquery()))
        return int(total or 0)

    async def count_by_language(self, audience: Audience) -> dict[str, int]:
        """Recipients per language they read the bot in (the notice's frame follows it)."""
        if audience.is_empty():
            return {}
        chosen = recipients_query(audience).subquery()
        async with self._db.session() as session:
            rows = await session.execute(
                select(Citizen.language, func.count())
                .join(chosen, chosen.c.id == Citizen.id)
                .group_by(Citizen.language)
            )
            return {str(language): int(count) for language, count in rows.all()}

    async def store(self, draft: NoticeDraft, author: str) -> int:
        """Store a draft notice; nothing is sent until it is planned."""
        async with self._db.session() as session:
            return (await self.store_in(session, draft, author)).id

    async def store_in(self, session: AsyncSession, draft: NoticeDraft, author: str) -> Notice:
        check_draft(draft)
        notice = Notice(
            status=NoticeStatus.DRAFT.value,
            author=author[:200],
            recipients=0,
            created_at=self._clock.now(),
            send_at=draft.send_at,
            **draft_content(draft),
        )
        session.add(notice)
        await session.flush()
        return notice

    async def get(self, notice_id: int) -> Notice | None:
        async with self._db.session() as session:
            return await session.get(Notice, notice_id)

    async def plan(self, notice_id: int) -> int:
        """Queue one delivery per recipient of a draft and start sending; returns how many.

        Safe to repeat: only a draft is planned, and a notice planned already answers with its
        number of recipients."""
        async with self._db.session() as session:
            planned = await self.plan_in(session, notice_id, NoticeStatus.DRAFT)
            if planned is not None:
                return planned
            notice = await session.get(Notice, notice_id, populate_existing=True)
            if notice is None:
                raise LookupError(f"no notice {notice_id}")
            return notice.recipients

    async def plan_in(
        self,
        session: AsyncSession,
        notice_id: int,
        from_status: NoticeStatus,
        values: dict[str, Any] | None = None,
        *,
        where: Sequence[ColumnElement[bool]] = (),
    ) -> int | None:
        """Move the notice from `from_status` (and matching `where`) to "sending" with `values`, and
        plan its rows in the caller's transaction; None when it did not match (nothing planned).

        The claim is one conditional UPDATE, so a concurrent plan of the same notice waits for this
        transaction, then finds nothing to do; every row is keyed "notice:<notice>:<citizen>", so
        nothing is ever queued twice. A process that dies mid-plan leaves the notice untouched:
        planning again plans it whole."""
        now = self._clock.now()
        claimed = await session.execute(
            update(Notice)
            .where(Notice.id == notice_id, Notice.status == from_status.value, *where)
            .values(status=NoticeStatus.SENDING.value, confirmed_at=now, **(values or {}))
            .execution_options(synchronize_session=False)
        )
        if not claimed.rowcount:  # type: ignore[attr-defined]
            return None
        notice = await session.get(Notice, notice_id, populate_existing=True)
        assert notice is not None
        planned = await self._plan(session, notice, now)
        notice.recipients = planned
        if not planned:
            # Nobody to send to: done at once, so it does not linger as "sending".
            notice.status = NoticeStatus.DONE.value
            notice.finished_at = now
        return planned

    async def _plan(self, session: AsyncSession, notice: Notice, now: datetime) -> int:
        """Insert the notice's outbox rows in multi-row batches; returns how many rows it has."""
        urgent = notice.kind == NoticeKind.EMERGENCY
        start = max(now, notice.send_at) if notice.send_at else now
        chosen = recipients_query(Audience.from_json(notice.audience)).subquery("chosen")
        recipients = await session.execute(
            select(
                Citizen.id,
                Citizen.platform,
                Citizen.platform_user_id,
                Citizen.language,
                Citizen.quiet_from,
                Citizen.quiet_to,
            ).join(chosen, chosen.c.id == Citizen.id)
        )
        # Most citizens share a few quiet-hour settings: each one's end is computed once.
        quiet_ends: dict[tuple[int, int], datetime] = {}
        rows: list[NoticeCopy] = []
        for citizen_id, platform, user_id, language, quiet_from, quiet_to in recipients:
            quiet = [quiet_from, quiet_to] if quiet_from is not None and quiet_to is not None else None
            due = start
            if not urgent and quiet_from is not None and quiet_to is not None:
                pair = (quiet_from, quiet_to)
                if pair not in quiet_ends:
                    quiet_ends[pair] = quiet_until(start, quiet_from, quiet_to, self._tz) or start
                due = quiet_ends[pair]
            payload = {"lang": language, "quiet": quiet, "urgent": urgent}
            rows.append(NoticeCopy(f"notice:{notice.id}:{citizen_id}", platform, user_id, payload, due))
            if len(rows) >= PLAN_CHUNK:
                await notice_copies(session, notice_id=notice.id, copies=rows, now=now)
                rows = []
        await notice_copies(session, notice_id=notice.id, copies=rows, now=now)
        planned = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.notice_id == notice.id)
        )
        return int(planned or 0)

    async def _switch(
        self, session: AsyncSession, notice_id: int, allowed: Sequence[str], to: NoticeStatus, now: datetime
    ) -> bool:
        """Move the notice to `to` if its status is one of `allowed`, as one conditional UPDATE.

        Taking the row's write lock first makes racing commands (pause against cancel, a double
        tap) run one after the other on both databases; the loser finds the status moved on."""
        values: dict[str, Any] = {"status": to.value}
        if to in (NoticeStatus.CANCELLED, NoticeStatus.DONE):
            values["finished_at"] = now
        result = await session.execute(
            update(Notice)
            .where(Notice.id == notice_id, Notice.status.in_([str(status) for status in allowed]))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def _rows(
        self, session: AsyncSession, notice_id: int, rows_from: Sequence[str], rows_to: str
    ) -> None:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.notice_id == notice_id, OutboxMessage.status.in_(list(rows_from)))
            .values(status=rows_to)
            .execution_options(synchronize_session=False)
        )

    async def pause(self, notice_id: int) -> bool:
        async with self._db.session() as session:
            return await self.pause_in(session, notice_id)

    async def pause_in(self, session: AsyncSession, notice_id: int) -> bool:
        """Hold every delivery not yet sent (a send already in flight still completes)."""
        if not await self._switch(
            session, notice_id, [NoticeStatus.SENDING], NoticeStatus.PAUSED, self._clock.now()
        ):
            return False
        await self._rows(session, notice_id, [PENDING], PAUSED)
        return True

    async def resume(self, notice_id: int) -> bool:
        async with self._db.session() as session:
            return await self.resume_in(session, notice_id)

    async def resume_in(self, session: AsyncSession, notice_id: int) -> bool:
        """Release the held deliveries: due now, or when a later `send_at` or the quiet hours end."""
        now = self._clock.now()
        if not await self._switch(session, notice_id, [NoticeStatus.PAUSED], NoticeStatus.SENDING, now):
            return False
        notice = await session.get(Notice, notice_id, populate_existing=True)
        assert notice is not None
        start = max(now, notice.send_at) if notice.send_at else now
        held: dict[datetime, list[int]] = {}
        if notice.kind != NoticeKind.EMERGENCY:
            quiet_ends: dict[tuple[int, int], datetime | None] = {}
            paused = await session.execute(
                select(OutboxMessage.id, OutboxMessage.payload).where(
                    OutboxMessage.notice_id == notice_id, OutboxMessage.status == PAUSED
                )
            )
            for row_id, payload in paused:
                quiet = payload.get("quiet") if isinstance(payload, dict) else None
                if not quiet or payload.get("urgent"):
                    continue
                pair = (int(quiet[0]), int(quiet[1]))
                if pair not in quiet_ends:
                    quiet_ends[pair] = quiet_until(start, pair[0], pair[1], self._tz)
                until = quiet_ends[pair]
                if until is not None:
                    held.setdefault(until, []).append(row_id)
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.notice_id == notice_id, OutboxMessage.status == PAUSED)
            .values(status=PENDING, next_attempt_at=start)
            .execution_options(synchronize_session=False)
        )
        for until, ids in held.items():
            for first in range(0, len(ids), PLAN_CHUNK):
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(ids[first : first + PLAN_CHUNK]))
                    .values(next_attempt_at=until)
                    .execution_options(synchronize_session=False)
                )
        return True

    async def cancel(self, notice_id: int) -> bool:
        async with self._db.session() as session:
            return await self.cancel_in(session, notice_id)

    async def cancel_in(
        self, session: AsyncSession, notice_id: int, allowed: Sequence[NoticeStatus] = CANCELLABLE
    ) -> bool:
        """Drop every delivery not yet sent; what went out stays sent. A draft, or one awaiting
        approval, can be cancelled too."""
        if not await self._switch(session, notice_id, allowed, NoticeStatus.CANCELLED, self._clock.now()):
            return False
        await self._rows(session, notice_id, [PENDING, PAUSED], CANCELLED)
        return True

    async def stats(self, notice_id: int) -> NoticeStats:
        """Progress of a notice from one GROUP BY over its outbox rows."""
        now = self._clock.now()
        unreachable_dead = and_(
            OutboxMessage.status == DEAD, OutboxMessage.last_error.like(f"{UNREACHABLE}%")
        )
        recently_sent = and_(
            OutboxMessage.status == SENT, OutboxMessage.sent_at >= now - timedelta(seconds=RATE_WINDOW)
        )
        async with self._db.session() as session:
            status = await session.scalar(select(Notice.status).where(Notice.id == notice_id))
            if status is None:
                raise LookupError(f"no notice {notice_id}")
            grouped = await session.execute(
                select(
                    OutboxMessage.status,
                    func.count(),
                    func.sum(case((unreachable_dead, 1), else_=0)),
                    func.sum(case((recently_sent, 1), else_=0)),
                )
                .where(OutboxMessage.notice_id == notice_id)
                .group_by(OutboxMessage.status)
            )
            counts: dict[str, int] = {}
            unreachable = recent = 0
            for row_status, count, dead_unreachable, sent_recently in grouped:
                counts[row_status] = int(count)
                unreachable += int(dead_unreachable or 0)
                recent += int(sent_recently or 0)
        waiting = counts.get(PENDING, 0)
        rate = recent * 60.0 / RATE_WINDOW
        return NoticeStats(
            notice_id=notice_id,
            status=status,
            total=sum(counts.values()),
            sent=counts.get(SENT, 0),
            failed=counts.get(DEAD, 0) - unreachable,
            unreachable=unreachable,
            waiting=waiting,
            paused=counts.get(PAUSED, 0),
            cancelled=counts.get(CANCELLED, 0),
            rate_per_minute=rate,
            eta_seconds=waiting / (rate / 60.0) if rate else None,
        )

    async def finish_if_done(self, notice_id: int) -> bool:
        """Mark a sending notice done once nothing of it is left to send; True when it is (now) done."""
        left = (
            select(OutboxMessage.id)
            .where(OutboxMessage.notice_id == notice_id, OutboxMessage.status.in_([PENDING, PAUSED]))
            .exists()
        )
        async with self._db.session() as session:
            result = await session.execute(
                update(Notice)
                .where(Notice.id == notice_id, Notice.status == NoticeStatus.SENDING.value, ~left)
                .values(status=NoticeStatus.DONE.value, finished_at=self._clock.now())
                .execution_options(synchronize_session=False)
            )
            if result.rowcount:  # type: ignore[attr-defined]
                return True
            status = await session.scalar(select(Notice.status).where(Notice.id == notice_id))
            return status == NoticeStatus.DONE

    async def set_progress_message(self, notice_id: int, chat_id: int, message_id: int) -> None:
        async with self._db.session() as session:
            await session.execute(
                update(Notice)
                .where(Notice.id == notice_id)
                .values(progress_chat_id=chat_id, progress_message_id=message_id)
            )

    async def active(self) -> list[int]:
        async with self._db.session() as session:
            return list(
                await session.scalars(
                    select(Notice.id)
                    .where(Notice.status.in_([NoticeStatus.SENDING, NoticeStatus.PAUSED]))
                    .order_by(Notice.id)
                )
            )

    async def recent(self, limit: int = 10) -> list[Notice]:
        async with self._db.session() as session:
            return list(await session.scalars(select(Notice).order_by(Notice.id.desc()).limit(limit)))
