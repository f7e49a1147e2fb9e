"""Notices from the comms team (информирование): audience selection, planning, pause/cancel, progress.

A confirmed notice becomes one outbox row per recipient (key "notice:<notice>:<citizen>"), so the
delivery workers send it with the same guarantees as every other message: persisted before it is
sent, rate-limited, retried, never planned twice. The row holds only the citizen's language and
quiet hours; the text is the notice's, rendered when the row is sent.

Who receives a notice (only consented citizens the messenger has not refused):
- `reports` given: the citizens who filed those reports (they get news about their own problem
  without subscribing), filtered by `platforms` if given;
- otherwise subscribers only: `everyone` = every subscriber; `municipalities` = a municipality
  subscription among them or "*" (someone subscribed to sectors only counts as all municipalities);
  `sectors` likewise; both given = both must match; `platforms` filters by messenger.
- A person who linked Telegram and VK gets one delivery, on the account with the smallest id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, not_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql import Select

from bot.clock import Clock
from bot.outbox import DEAD, PENDING, SENT, UNREACHABLE, Kind, envelope
from dialogs.view import Button, Text, View
from storage.db import Database
from storage.models import Citizen, Notice, OutboxMessage, Report, Subscription

UNSUBSCRIBE_BUTTON = "ns:off"
PAUSED = "paused"
CANCELLED = "cancelled"
# Rows per INSERT while planning: well under SQLite's limit of bound parameters per statement.
PLAN_CHUNK = 1000
TEXT_LIMIT = 3500


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
            municipalities=tuple(str(v) for v in data.get("municipalities", [])),
            sectors=tuple(str(v) for v in data.get("sectors", [])),
            platforms=tuple(str(v) for v in data.get("platforms", [])),
            reports=tuple(str(v) for v in data.get("reports", [])),
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


def _subscriber_filter(audience: Audience) -> ColumnElement[bool]:
    subscribed = Citizen.id.in_(select(Subscription.citizen_id))
    conditions: list[ColumnElement[bool]] = [subscribed]
    for scope, chosen in (("municipality", audience.municipalities), ("sector", audience.sectors)):
        if not chosen:
            continue
        matching = select(Subscription.citizen_id).where(
            Subscription.scope == scope, Subscription.value.in_([*chosen, "*"])
        )
        any_of_scope = select(Subscription.citizen_id).where(Subscription.scope == scope)
        conditions.append(or_(Citizen.id.in_(matching), not_(Citizen.id.in_(any_of_scope))))
    return and_(*conditions)


def recipients_query(audience: Audience) -> Select[Any]:
    """Ids of the recipients: one reachable account per person."""
    conditions: list[ColumnElement[bool]] = [Citizen.unreachable_at.is_(None)]
    if audience.reports:
        filers = select(Report.citizen_id).where(
            Report.number.in_(list(audience.reports)), Report.citizen_id.is_not(None)
        )
        conditions.append(Citizen.id.in_(filers))
    else:
        conditions.append(_subscriber_filter(audience))
    if audience.platforms:
        conditions.append(Citizen.platform.in_(list(audience.platforms)))
    return (
        select(func.min(Citizen.id)).where(*conditions).group_by(func.coalesce(Citizen.person_id, Citizen.id))
    )


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
        """Queue one delivery per recipient; safe to repeat (nothing is queued twice)."""
        now = self._clock.now()
        async with self._db.session() as session:
            notice = await session.get(Notice, notice_id, with_for_update=not self._db.is_sqlite)
            if notice is None:
                raise LookupError(f"no notice {notice_id}")
            if notice.status in (NoticeStatus.CANCELLED, NoticeStatus.DONE):
                return notice.recipients
            audience = Audience.from_json(notice.audience)
            urgent = notice.kind == NoticeKind.EMERGENCY
            start = max(now, notice.send_at) if notice.send_at else now
            recipients = (
                await session.execute(
                    select(
                        Citizen.id,
                        Citizen.platform,
                        Citizen.platform_user_id,
                        Citizen.language,
                        Citizen.quiet_from,
                        Citizen.quiet_to,
                    ).where(Citizen.id.in_(recipients_query(audience)))
                )
            ).all()
            insert = postgresql_insert if not self._db.is_sqlite else sqlite_insert
            statement = insert(OutboxMessage).on_conflict_do_nothing(
                index_elements=[OutboxMessage.idempotency_key]
            )
            rows: list[dict[str, Any]] = []
            for citizen_id, platform, user_id, language, quiet_from, quiet_to in recipients:
                quiet = [quiet_from, quiet_to] if quiet_from is not None and quiet_to is not None else None
                due = start
                if not urgent and quiet is not None:
                    due = quiet_until(start, quiet_from, quiet_to, self._tz) or start
                rows.append(
                    {
                        "idempotency_key": f"notice:{notice_id}:{citizen_id}",
                        "platform": platform,
                        "kind": Kind.CITIZEN.value,
                        "target": user_id,
                        "notice_id": notice_id,
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
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.notice_id == notice_id)
            )
            notice.recipients = int(planned or 0)
            if notice.status == NoticeStatus.DRAFT:
                notice.confirmed_at = now
                # Nobody to send to: done at once, so it does not linger as "sending".
                notice.status = (NoticeStatus.SENDING if notice.recipients else NoticeStatus.DONE).value
                if not notice.recipients:
                    notice.finished_at = now
            return notice.recipients

    async def _move(
        self, notice_id: int, allowed: Sequence[str], status: str, rows_from: Sequence[str], rows_to: str
    ) -> bool:
        now = self._clock.now()
        async with self._db.session() as session:
            notice = await session.get(Notice, notice_id)
            if notice is None or notice.status not in allowed:
                return False
            values: dict[str, Any] = {"status": rows_to}
            if rows_to == PENDING:
                # Due at once; quiet hours are checked again when each row is sent.
                values["next_attempt_at"] = now
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.notice_id == notice_id, OutboxMessage.status.in_(list(rows_from)))
                .values(**values)
            )
            notice.status = status
            if status == NoticeStatus.CANCELLED:
                notice.finished_at = now
            return True

    async def pause(self, notice_id: int) -> bool:
        """Hold every delivery not yet sent."""
        return await self._move(notice_id, [NoticeStatus.SENDING], NoticeStatus.PAUSED, [PENDING], PAUSED)

    async def resume(self, notice_id: int) -> bool:
        return await self._move(notice_id, [NoticeStatus.PAUSED], NoticeStatus.SENDING, [PAUSED], PENDING)

    async def cancel(self, notice_id: int) -> bool:
        """Drop every delivery not yet sent; what went out stays sent."""
        return await self._move(
            notice_id,
            [NoticeStatus.SENDING, NoticeStatus.PAUSED, NoticeStatus.DRAFT],
            NoticeStatus.CANCELLED,
            [PENDING, PAUSED],
            CANCELLED,
        )

    async def stats(self, notice_id: int) -> NoticeStats:
        now = self._clock.now()
        async with self._db.session() as session:
            notice = await session.get(Notice, notice_id)
            if notice is None:
                raise LookupError(f"no notice {notice_id}")
            unreachable_dead = and_(
                OutboxMessage.status == DEAD, OutboxMessage.last_error.like(f"{UNREACHABLE}%")
            )
            counts = {
                status: int(n)
                for status, n in (
                    await session.execute(
                        select(OutboxMessage.status, func.count())
                        .where(OutboxMessage.notice_id == notice_id)
                        .group_by(OutboxMessage.status)
                    )
                ).all()
            }
            unreachable = int(
                await session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.notice_id == notice_id, unreachable_dead)
                )
                or 0
            )
            recent = int(
                await session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(
                        OutboxMessage.notice_id == notice_id,
                        OutboxMessage.status == SENT,
                        OutboxMessage.sent_at >= now - timedelta(seconds=60),
                    )
                )
                or 0
            )
        waiting = counts.get(PENDING, 0)
        return NoticeStats(
            notice_id=notice_id,
            status=notice.status,
            total=sum(counts.values()),
            sent=counts.get(SENT, 0),
            failed=counts.get(DEAD, 0) - unreachable,
            unreachable=unreachable,
            waiting=waiting,
            paused=counts.get(PAUSED, 0),
            cancelled=counts.get(CANCELLED, 0),
            rate_per_minute=float(recent),
            eta_seconds=waiting / (recent / 60) if recent and waiting else None,
        )

    async def finish_if_done(self, notice_id: int) -> bool:
        """Mark a sending notice done once nothing of it is left to send; True when it is (now) done."""
        async with self._db.session() as session:
            notice = await session.get(Notice, notice_id)
            if notice is None:
                return False
            if notice.status == NoticeStatus.DONE:
                return True
            if notice.status != NoticeStatus.SENDING:
                return False
            left = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.notice_id == notice_id, OutboxMessage.status.in_([PENDING, PAUSED]))
            )
            if left:
                return False
            notice.status = NoticeStatus.DONE.value
            notice.finished_at = self._clock.now()
            return True

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
