"""The audit trail: every staff action as one row (who, role, chat, what, when), written in the
transaction of the action itself so neither exists without the other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import AuditEvent


class AuditAction(StrEnum):
    BIND = "bind"
    UNBIND = "unbind"
    COMMS_BIND = "comms_bind"
    COMMS_UNBIND = "comms_unbind"
    STRICT = "strict"
    STAFF_ADD = "staff_add"
    INVITE = "invite"
    JOIN = "join"
    REVOKE = "revoke"
    REPORT_ACTION = "report_action"
    PHONE_SHOWN = "phone_shown"
    MUNICIPALITY_READ = "municipality_read"
    NOTICE_COMPOSED = "notice_composed"
    NOTICE_APPROVED = "notice_approved"
    NOTICE_SENT = "notice_sent"
    NOTICE_CANCELLED = "notice_cancelled"
    ROUTE_SET = "route_set"
    REFUSED = "refused"


async def record(
    session: AsyncSession,
    *,
    actor: str,
    action: AuditAction,
    at: datetime,
    role: str | None = None,
    chat_id: int | None = None,
    subject: str = "",
    report_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add one audit row in the caller's transaction. `detail` must hold no personal data."""
    session.add(
        AuditEvent(
            at=at,
            actor=actor[:64],
            role=role,
            chat_id=chat_id,
            action=action.value,
            subject=subject[:128],
            report_id=report_id,
            detail=detail or {},
        )
    )


@dataclass(frozen=True)
class AuditQuery:
    since: datetime | None = None
    actor: str | None = None
    report_id: int | None = None
    action: str | None = None
    limit: int = 500


async def audit_events(db: Database, query: AuditQuery) -> list[AuditEvent]:
    """Audit rows matching `query`, oldest first (the newest `limit` of them)."""
    statement = select(AuditEvent)
    if query.since is not None:
        statement = statement.where(AuditEvent.at >= query.since)
    if query.actor is not None:
        statement = statement.where(AuditEvent.actor == query.actor)
    if query.report_id is not None:
        statement = statement.where(AuditEvent.report_id == query.report_id)
    if query.action is not None:
        statement = statement.where(AuditEvent.action == query.action)
    statement = statement.order_by(AuditEvent.id.desc()).limit(query.limit)
    async with db.session() as session:
        rows = list(await session.scalars(statement))
    return rows[::-1]


def format_event(event: AuditEvent) -> str:
    """One tab-separated line: time, actor, role, chat, action, subject, details."""
    details = " ".join(f"{key}={value}" for key, value in sorted(event.detail.items()))
    return "\t".join(
        (
            event.at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            event.actor,
            event.role or "-",
            str(event.chat_id) if event.chat_id is not None else "-",
            event.action,
            event.subject or "-",
            details or "-",
        )
    )
