"""Notices from the comms team (информирование): audience selection, planning, pause/cancel, progress.

A confirmed notice becomes one outbox row per recipient (key "notice:<notice>:<citizen>"), so the
delivery workers send it with the same guarantees as every other message: persisted before it is
sent, rate-limited, retried, never planned twice. The row holds only the citizen's language and
quiet hours; the text is the notice's, rendered when the row is sent.

Who receives a notice (only consented citizens the messenger has not refused, i.e.
`Citizen.unreachable_at IS NULL`; every stored citizen has consented):
- `reports` given: the citizens who filed those reports (they get news about their own problem
  without subscribing), filtered by `platforms` if given;
- otherwise subscribers only (at least one `Subscription`): `everyone` = every subscriber;
  `municipalities` = a municipality subscription among them or "*" (someone subscribed to sectors
  only counts as subscribed to all municipalities); `sectors` likewise (municipalities only = all
  sectors); both given = both must match; `platforms` filters by messenger;
- `platforms` alone chooses nobody: an audience with nothing but a platform is empty and refused,
  so a slip never sends to everyone.
- A person is a linked group of accounts (one `coalesce(person_id, id)`): the group's subscriptions
  (and reports) are the union of its accounts', and it gets ONE delivery, on its reachable account
  (of the chosen platforms) with the smallest id. So a person whose Telegram account blocked the
  bot still hears on VK, and nobody hears twice.
The selection is one SQL query (one GROUP BY per linked group, see `recipients_query`), fast for
100,000 citizens on SQLite and PostgreSQL; planning inserts the rows in multi-row batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from bot.clock import Clock
from bot.outbox import DEAD, PENDING, SENT, UNREACHABLE, Kind, envelope
from dialogs.view import Button, Text, View
from storage.db import Database
from storage.models import Citizen, Notice, OutboxMessage, Report, Subscription

UNSUBSCRIBE_BUTTON = "ns:off"
PAUSED = "paused"
CANCELLED = "cancelled"
# Rows per INSERT while planning (SQLAlchemy batches them into multi-row VALUES within the limits
# of bound parameters per statement); bounds the memory a plan holds at once.
PLAN_CHUNK = 2000
TEXT_LIMIT = 3500
# Seconds of sends that make up the rate shown in a notice's progress.
RATE_WINDOW = 60


class NoticeKind(StrEnum):
    INFO = "info"
    OUTAGE = "outage"
    EMERGENCY = "emergency"
    FACTCHECK = "factcheck"


class NoticeStatus(StrEnum):
    DRAFT = "draft"
    SENDING = "sending"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"


@dataclass(frozen=True)
class Audience:
    """Who a notice is for; see the module docstring for how the filters combine."""

    everyone: bool = False
    municipalities: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    reports: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "everyone": self.everyone,
            "municipalities": list(self.municipalities),
            "sectors": list(self.sectors),
            "platforms": list(self.platforms),
            "reports": list(self.reports),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Audience:
        return cls(
            everyone=bool(data.get("everyone", False)),
            municipalities=tuple(str(v) for v in data.get("municipalities") or ()),
            sectors=tuple(str(v) for v in data.get("sectors") or ()),
            platforms=tuple(str(v) for v in data.get("platforms") or ()),
            reports=tuple(str(v) for v in data.get("reports") or ()),
        )

    def is_empty(self) -> bool:
        """Nothing chosen at all: refused, so a slip never sends to everyone."""
        return not (self.everyone or self.municipalities or self.sectors or self.reports)


@dataclass(frozen=True)
class NoticeDraft:
    kind: NoticeKind
    text: str
    audience: Audience
    # A fact-check: the false claim, the facts (the text) and where they come from.
    claim: str | None = None
    source: str | None = None
    photo: str | None = None
    send_at: datetime | None = None


@dataclass(frozen=True)
class NoticeStats:
    notice_id: int
    status: str
    total: int
    sent: int
    failed: int
    unreachable: int
    waiting: int
    paused: int
    cancelled: int
    rate_per_minute: float
    eta_seconds: float | None = field(default=None)

    @property
    def finished(self) -> bool:
        return self.waiting == 0 and self.paused == 0


def notice_views(kind: str, text: str, claim: str | None, source: str | None) -> list[View]:
    """Exactly what a citizen sees: the kind's header, the body, and the unsubscribe button."""
    lines: list[Text] = [Text(f"notice-head-{kind}")]
    if kind == NoticeKind.FACTCHECK:
        lines += [
            Text("notice-factcheck-claim"),
            Text.raw(claim or "—"),
            Text("notice-factcheck-facts"),
            Text.raw(text),
            Text("notice-factcheck-source", {"source": source or "—"}),
        ]
    else:
        lines.append(Text.raw(text))
    return [View(tuple(lines), ((Button(UNSUBSCRIBE_BUTTON, Text("btn-notice-unsubscribe")),),))]


def notice_payload(notice: Notice, lang: str) -> dict[str, Any]:
    """The outbox payload of a notice in one language."""
    views = notice_views(notice.kind, notice.text, notice.claim, notice.source)
    return envelope(views, lang, photos=[notice.photo] if notice.photo else [])


def quiet_until(now: datetime, quiet_from: int | None, quiet_to: int | None, tz: ZoneInfo) -> datetime | None:
    """When the quiet hours [from:00, to:00) around `now` end (UTC), or None outside them."""
    if quiet_from is None or quiet_to is None or quiet_from == quiet_to:
        return None
    local = now.astimezone(tz)
    hour = local.hour
    inside = quiet_from <= hour < quiet_to if quiet_from < quiet_to else hour >= quiet_from or hour < quiet_to
    if not inside:
        return None
    end = local.replace(hour=quiet_to, minute=0, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(UTC)


def recipients_query(audience: Audience) -> Select[Any]:
    """Ids of the recipients: one reachable account per chosen person.

    One GROUP BY over accounts (outer-joined to their subscriptions, or to the chosen reports) per
    linked group: the HAVING clause decides whether the group is chosen, and the smallest reachable
    account id (of the chosen platforms) is where it hears. A single level of hash join and hash
    aggregate, so no planner estimate can turn it into a nested loop over 100,000 accounts.
    """
    person = func.coalesce(Citizen.person_id, Citizen.id)
    reachable: list[ColumnElement[bool]] = [Citizen.unreachable_at.is_(None)]
    if audience.platforms:
        reachable.append(Citizen.platform.in_(list(audience.platforms)))
    recipient = func.min(case((and_(*reachable), Citizen.id), else_=None))
    chosen: list[ColumnElement[bool]] = [recipient.is_not(None)]
    query = select(recipient.label("id")).select_from(Citizen)
    if audience.reports:
        filed = and_(Report.citizen_id == Citizen.id, Report.number.in_(list(audience.reports)))
        query = query.outerjoin(Report, filed)
        chosen.append(func.count(Report.id) > 0)
    else:
        query = query.outerjoin(Subscription, Subscription.citizen_id == Citizen.id)
        chosen.append(func.count(Subscription.id) > 0)
        # A scope with no subscription at all counts as "all of them"; otherwise one of its values
        # must be among the chosen (or be "*").
        for scope, values in (("municipality", audience.municipalities), ("sector", audience.sectors)):
            if not values:
                continue
            of_scope = Subscription.scope == scope
            matching = and_(of_scope, Subscription.value.in_([*values, "*"]))
            chosen.append(
                or_(
                    func.max(case((matching, 1), else_=0)) == 1,
                    func.max(case((of_scope, 1), else_=0)) == 0,
                )
            )
    return query.group_by(person).having(and_(*chosen))


class NoticeService:
    """Creates, plans and steers notices; the outbox workers do the sending."""

    def __init__(self, db: Database, clock: Clock, timezone: ZoneInfo) -> None:
        self._db = db
        self._clock = clock
        self._tz = timezone

    async def count(self, audience: Audience) -> int:
        if audience.is_empty():
            return 0
        async with self._db.session() as session:
            total = await session.scalar(
                select(func.count()).select_from(recipients_query(audience).subquery())
            )
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

    async def create(self, draft: NoticeDraft, author: str) -> int:
        """Store a draft notice; nothing is sent until `confirm`."""
        if not draft.text.strip():
            raise ValueError("a notice needs a text")
        if draft.audience.is_empty():
            raise ValueError("a notice needs an audience")
        async with self._db.session() as session:
            notice = Notice(
                kind=draft.kind.value,
                status=NoticeStatus.DRAFT.value,
                text=draft.text.strip()[:TEXT_LIMIT],
                claim=draft.claim.strip()[:TEXT_LIMIT] if draft.claim else None,
                source=draft.source.strip()[:500] if draft.source else None,
                photo=draft.photo,
                audience=draft.audience.to_json(),
                author=author[:200],
                recipients=0,
                created_at=self._clock.now(),
                send_at=draft.send_at,
            )
            session.add(notice)
            await session.flush()
            return notice.id

    async def get(self, notice_id: int) -> Notice | None:
        async with self._db.session() as session:
            return await session.get(Notice, notice_id)

    async def confirm(self, notice_id: int) -> int:
        """Queue one delivery per recipient and start sending; returns the number of recipients.

        Safe to repeat: only a draft is planned, and the planning is one transaction that first
        moves the notice out of "draft" (so a concurrent confirm waits for it, then finds nothing
        to do) and keys every row "notice:<notice>:<citizen>" (so nothing is ever queued twice). A
        process that dies mid-plan leaves the draft untouched: confirming again plans it whole.
        """
        now = self._clock.now()
        async with self._db.session() as session:
            claimed = await session.execute(
                update(Notice)
                .where(Notice.id == notice_id, Notice.status == NoticeStatus.DRAFT.value)
                .values(status=NoticeStatus.SENDING.value, confirmed_at=now)
                .execution_options(synchronize_session=False)
            )
            notice = await session.get(Notice, notice_id, populate_existing=True)
            if notice is None:
                raise LookupError(f"no notice {notice_id}")
            if not claimed.rowcount:  # type: ignore[attr-defined]
                return notice.recipients
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
        insert = sqlite_insert if self._db.is_sqlite else postgresql_insert
        statement = insert(OutboxMessage).on_conflict_do_nothing(
            index_elements=[OutboxMessage.idempotency_key]
        )
        # Most citizens share a few quiet-hour settings: each one's end is computed once.
        quiet_ends: dict[tuple[int, int], datetime] = {}
        rows: list[dict[str, Any]] = []
        for citizen_id, platform, user_id, language, quiet_from, quiet_to in recipients:
            quiet = [quiet_from, quiet_to] if quiet_from is not None and quiet_to is not None else None
            due = start
            if not urgent and quiet_from is not None and quiet_to is not None:
                pair = (quiet_from, quiet_to)
                if pair not in quiet_ends:
                    quiet_ends[pair] = quiet_until(start, quiet_from, quiet_to, self._tz) or start
                due = quiet_ends[pair]
            rows.append(
                {
                    "idempotency_key": f"notice:{notice.id}:{citizen_id}",
                    "platform": platform,
                    "kind": Kind.CITIZEN.value,
                    "target": user_id,
                    "notice_id": notice.id,
                    "payload": {"lang": language, "quiet": quiet, "urgent": urgent},
                    "status": PENDING,
                    "attempts": 0,
                    "next_attempt_at": due,
                    "created_at": now,
                }
            )
            if len(rows) >= PLAN_CHUNK:
                await session.execute(statement, rows)
                rows = []
        if rows:
            await session.execute(statement, rows)
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
        """Hold every delivery not yet sent (a send already in flight still completes)."""
        async with self._db.session() as session:
            if not await self._switch(
                session, notice_id, [NoticeStatus.SENDING], NoticeStatus.PAUSED, self._clock.now()
            ):
                return False
            await self._rows(session, notice_id, [PENDING], PAUSED)
            return True

    async def resume(self, notice_id: int) -> bool:
        """Release the held deliveries: due now, or when a later `send_at` or the quiet hours end."""
        now = self._clock.now()
        async with self._db.session() as session:
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
        """Drop every delivery not yet sent; what went out stays sent. A draft can be cancelled too."""
        allowed = [NoticeStatus.DRAFT, NoticeStatus.SENDING, NoticeStatus.PAUSED]
        async with self._db.session() as session:
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
