"""The outbox: every message a citizen (or an operator chat) is sent, persisted before it is sent.

A service calls `enqueue` (through `bot.delivery.postbox`) inside the transaction that causes the
message, so the message exists if and only if the change does. The `OutboxWorker`
(`bot.delivery.worker`) later claims due rows, hands them to the platform's `Messenger`
(`bot.delivery.ports`) and records what happened. Delivery is at least once: a worker killed
mid-send leaves its rows leased, and they are sent again once the lease runs out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.messages import Ask, Button, Text, View
from storage.models import OutboxMessage

PENDING = "pending"
SENT = "sent"
DEAD = "dead"

# Long enough for a slow, rate-limited send; a worker killed mid-batch delays its rows this much.
LEASE = timedelta(seconds=60)
# Stop starting new sends this close to the lease's end, so another worker cannot take them too.
LEASE_MARGIN = timedelta(seconds=10)
MAX_BACKOFF_SECONDS = 600.0
UNREACHABLE = "unreachable"
# Where a messenger's progress through a multi-part message is kept between attempts.
DONE_PARTS = "done_parts"
# A payload flag: once sent, the row keeps neither its address nor its words.
ERASE_WHEN_SENT = "erase_when_sent"
ERROR_LIMIT = 500


class Kind(StrEnum):
    """Who a message is for: a citizen, a forum topic, an official directly, or a report's card."""

    CITIZEN = "citizen"
    TOPIC = "topic"
    DIRECT = "direct"
    REPORT_CARD = "report_card"


KINDS = frozenset(kind.value for kind in Kind)


# ------------------------------------------------------------------------------- payloads


def _text_json(text: Text) -> dict[str, Any]:
    return {"key": text.key, "args": dict(text.args)}


def envelope(
    views: Sequence[View],
    lang: str,
    photos: Sequence[str] = (),
    documents: Sequence[str] = (),
    *,
    erase_when_sent: bool = False,
) -> dict[str, Any]:
    """A JSON-able payload holding platform-neutral views, their language and attachments."""
    flags = {ERASE_WHEN_SENT: True} if erase_when_sent else {}
    return {
        **flags,
        "lang": lang,
        "views": [
            {
                "lines": [_text_json(line) for line in view.lines],
                "buttons": [
                    [{"id": b.id, "key": b.label.key, "args": dict(b.label.args)} for b in row]
                    for row in view.buttons
                ],
                "ask": view.ask.value,
                "remove_keyboard": view.remove_keyboard,
            }
            for view in views
        ],
        "photos": list(photos),
        "documents": list(documents),
    }


def views_of(payload: dict[str, Any]) -> list[View]:
    """The views an `envelope` payload holds (the inverse of `envelope`)."""
    return [
        View(
            lines=tuple(Text(line["key"], dict(line.get("args") or {})) for line in raw.get("lines", [])),
            buttons=tuple(
                tuple(Button(b["id"], Text(b["key"], dict(b.get("args") or {}))) for b in row)
                for row in raw.get("buttons", [])
            ),
            ask=Ask(raw.get("ask", Ask.NONE.value)),
            remove_keyboard=bool(raw.get("remove_keyboard", False)),
        )
        for raw in payload.get("views", [])
    ]


@dataclass(frozen=True, slots=True)
class Queued:
    """One message for `enqueue_many`: the same fields `enqueue` takes."""

    key: str
    platform: str
    kind: Kind
    target: str
    payload: dict[str, Any]
    not_before: datetime | None = None
    report_id: int | None = None
    notice_id: int | None = None


def _values(message: Queued, now: datetime) -> dict[str, Any]:
    return {
        "idempotency_key": message.key,
        "platform": message.platform,
        "kind": message.kind.value,
        "target": message.target,
        "report_id": message.report_id,
        "notice_id": message.notice_id,
        "payload": message.payload,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": message.not_before or now,
        "created_at": now,
    }


def _insert_new_keys(session: AsyncSession) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that skips keys queued before.

    Two transactions racing with one key: ON CONFLICT DO NOTHING keeps the loser's transaction
    alive. A SAVEPOINT would do on PostgreSQL, but on SQLite (pysqlite opens transactions lazily)
    a savepoint that is the first write becomes the outer transaction and RELEASE commits it,
    so the message would survive a rollback of the change that caused it.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(OutboxMessage).on_conflict_do_nothing(index_elements=[OutboxMessage.idempotency_key])


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    platform: str,
    kind: Kind,
    target: str,
    payload: dict[str, Any],
    report_id: int | None = None,
    not_before: datetime | None = None,
    now: datetime,
) -> bool:
    """Add a message in the caller's transaction; False when `key` was queued before (a no-op)."""
    exists = await session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key))
    if exists is not None:
        return False
    message = Queued(key, platform, kind, target, payload, not_before=not_before, report_id=report_id)
    statement = _insert_new_keys(session).values(**_values(message, now)).returning(OutboxMessage.id)
    inserted = (await session.execute(statement)).scalar_one_or_none()
    return inserted is not None


async def enqueue_many(session: AsyncSession, messages: Sequence[Queued], *, now: datetime) -> None:
    """Add many messages in one multi-row INSERT in the caller's transaction; known keys are skipped."""
    if messages:
        await session.execute(_insert_new_keys(session), [_values(message, now) for message in messages])


def recipient_id(platform: str, target: str) -> str:
    """The user or chat id of a citizen's or an official's row (old rows wrote "<platform>:<id>")."""
    prefix = f"{platform}:"
    return target[len(prefix) :] if target.startswith(prefix) else target


# What a forgotten citizen's past messages are addressed to: the rows stay for the notices' totals.
FORGOTTEN_TARGET = "forgotten"


async def erase_citizen_messages(session: AsyncSession, platform: str, user_id: str) -> None:
    """A citizen asked to be forgotten: nothing more is sent to them and no row keeps their address."""
    theirs = and_(
        OutboxMessage.kind == Kind.CITIZEN.value,
        OutboxMessage.platform == platform,
        OutboxMessage.target.in_([user_id, f"{platform}:{user_id}"]),
    )
    await session.execute(delete(OutboxMessage).where(theirs, OutboxMessage.status.not_in([SENT, DEAD])))
    await session.execute(
        update(OutboxMessage)
        .where(theirs)
        .values(target=FORGOTTEN_TARGET, payload={})
        .execution_options(synchronize_session=False)
    )


async def release_leases(session: AsyncSession, now: datetime) -> int:
    """Rows a dead process had claimed become due now (one process owning a SQLite file, at start).

    A claim moves `next_attempt_at` at most LEASE ahead and leaves `last_error` empty; a row waiting
    out a failure (a flood wait, a backoff) has its error recorded and keeps its time.
    """
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == PENDING,
            OutboxMessage.next_attempt_at > now,
            OutboxMessage.next_attempt_at <= now + LEASE,
            OutboxMessage.last_error.is_(None),
        )
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
