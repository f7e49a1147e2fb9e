"""Claiming due outbox rows: which rows a pass may send now, in order, leased so no one else does."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import BindParameter, ColumnElement, Integer, Select, bindparam, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.delivery.outbox import DEAD, ERROR_LIMIT, KINDS, PENDING, UNREACHABLE, Kind, recipient_id
from bot.delivery.ports import Delivery, NoticePolicy
from storage.db import Database
from storage.models import Citizen, OutboxMessage, Report


async def claim_rows(
    db: Database,
    notices: NoticePolicy,
    *,
    platforms: Collection[str],
    batch: int,
    now: datetime,
    lease_until: datetime,
    with_notices: bool = True,
) -> tuple[list[Delivery], int]:
    """Lease the due rows this worker may send now; rows for unreachable citizens die here.

    Without `with_notices` only conversation rows are taken (the worker has notice rows enough).
    """
    conversation, notices_due = _STATEMENTS[not db.is_sqlite]
    async with db.session() as session:
        # Conversation first (answers, statuses), then notice rows: a message about a citizen's
        # report must not queue behind a notice to 100,000 people.
        due = {"now": now, "platforms": list(platforms), "limit": batch}
        rows = list(await session.scalars(conversation, due))
        if with_notices and len(rows) < batch:
            rows += await session.scalars(notices_due, {**due, "limit": batch - len(rows)})
        if not rows:
            return [], 0
        dead = await unreachable_rows(session, rows)
        valid: list[OutboxMessage] = []
        for row in rows:
            if row.id in dead:
                continue
            if row.kind not in KINDS:
                dead[row.id] = f"unknown kind {row.kind!r}"
                continue
            valid.append(row)
        for row_id, reason in dead.items():
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id)
                .values(status=DEAD, last_error=reason[:ERROR_LIMIT])
            )
        eligible = await in_order(session, valid)
        leased: set[int] = set()
        if eligible:
            # Conditional on still being due: a second worker (SQLite has no row locks) that
            # read the same rows leases none of them.
            result = await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_([row.id for row in eligible]),
                    OutboxMessage.status == PENDING,
                    OutboxMessage.next_attempt_at <= now,
                )
                .values(next_attempt_at=lease_until)
                .returning(OutboxMessage.id)
            )
            leased = set(result.scalars())
        deliveries = [
            Delivery(
                id=row.id,
                platform=row.platform,
                kind=Kind(row.kind),
                target=row.target,
                report_id=row.report_id,
                payload=(await notices.payload(session, row) if row.notice_id else dict(row.payload)),
                attempts=row.attempts,
                key=row.idempotency_key,
                notice_id=row.notice_id,
            )
            for row in eligible
            if row.id in leased
        ]
    return deliveries, len(dead)


def _held_up(now: BindParameter[datetime]) -> ColumnElement[bool]:
    """An earlier conversation row to the same target is not due: being sent (leased) or waiting.

    Such rows cannot go before it; left out of the claim, they do not fill the batch either, so
    one chat paced or under flood control with many rows queued holds up no one else's.
    """
    earlier = aliased(OutboxMessage)
    return exists().where(
        earlier.platform == OutboxMessage.platform,
        earlier.target == OutboxMessage.target,
        earlier.status == PENDING,
        earlier.notice_id.is_(None),
        earlier.id < OutboxMessage.id,
        earlier.next_attempt_at > now,
    )


def _due_statements(*, for_update: bool) -> tuple[Select[OutboxMessage], Select[OutboxMessage]]:
    """Due conversation rows and due notice rows, oldest first; parameters now, platforms, limit.

    Built once: constructing them costs more Python than running them, and a claim runs for
    nearly every message sent."""
    now = bindparam("now", type_=OutboxMessage.next_attempt_at.type)
    due = select(OutboxMessage).where(
        OutboxMessage.status == PENDING,
        OutboxMessage.next_attempt_at <= now,
        OutboxMessage.platform.in_(bindparam("platforms", expanding=True)),
    )
    if for_update:
        # Several workers share the table: each takes rows nobody else is looking at.
        due = due.with_for_update(skip_locked=True)
    limit = bindparam("limit", type_=Integer)
    conversation = due.where(OutboxMessage.notice_id.is_(None), ~_held_up(now)).order_by(OutboxMessage.id)
    notices = due.where(OutboxMessage.notice_id.is_not(None)).order_by(OutboxMessage.id)
    return conversation.limit(limit), notices.limit(limit)


# By whether rows are locked as they are read (PostgreSQL) or not (SQLite).
_STATEMENTS = {flag: _due_statements(for_update=flag) for flag in (False, True)}


async def unreachable_rows(session: AsyncSession, rows: list[OutboxMessage]) -> dict[int, str]:
    """Citizen messages whose citizen already refused delivery: not to be attempted."""
    citizen_rows = [row for row in rows if row.kind == Kind.CITIZEN]
    if not citizen_rows:
        return {}
    users_by_platform: dict[str, set[str]] = {}
    for row in citizen_rows:
        users_by_platform.setdefault(row.platform, set()).add(recipient_id(row.platform, row.target))
    unreachable_users: set[tuple[str, str]] = set()
    for platform, users in users_by_platform.items():
        # One IN list per platform: a notice claims thousands of rows at once.
        found = await session.scalars(
            select(Citizen.platform_user_id).where(
                Citizen.platform == platform,
                Citizen.platform_user_id.in_(list(users)),
                Citizen.unreachable_at.is_not(None),
            )
        )
        unreachable_users.update((platform, user_id) for user_id in found)
    report_ids = {row.report_id for row in citizen_rows if row.report_id is not None}
    unreachable_reports: set[int] = set()
    if report_ids:
        unreachable_reports = set(
            await session.scalars(
                select(Report.id)
                .join(Citizen, Citizen.id == Report.citizen_id)
                .where(Report.id.in_(report_ids), Citizen.unreachable_at.is_not(None))
            )
        )
    return {
        row.id: UNREACHABLE
        for row in citizen_rows
        if (row.platform, recipient_id(row.platform, row.target)) in unreachable_users
        or row.report_id in unreachable_reports
    }


async def in_order(session: AsyncSession, rows: list[OutboxMessage]) -> list[OutboxMessage]:
    """The rows with no earlier pending message to the same target outside this batch.

    An earlier message may be waiting (429, backoff) or leased by another worker; a later one
    to the same chat must not overtake it. Notices are not part of a conversation, so an
    earlier notice never blocks.
    """
    if not rows:
        return []
    ours = {row.id for row in rows}
    targets = {(row.platform, row.target) for row in rows}
    earlier = await session.execute(
        select(OutboxMessage.id, OutboxMessage.platform, OutboxMessage.target, OutboxMessage.notice_id)
        .where(
            OutboxMessage.status == PENDING,
            OutboxMessage.id <= max(ours),
            OutboxMessage.target.in_([target for _, target in targets]),
        )
        .order_by(OutboxMessage.id)
    )
    stopped: set[tuple[str, str]] = set()
    allowed: set[int] = set()
    for row_id, platform, target, notice_id in earlier.all():
        key = (platform, target)
        if key not in targets or key in stopped:
            continue
        if row_id in ours:
            allowed.add(row_id)
        elif notice_id is None:
            # A notice stands alone: one held back for quiet hours (or being sent elsewhere)
            # must not hold up an emergency or an answer about the citizen's report.
            stopped.add(key)
    return [row for row in rows if row.id in allowed]
