"""Reports that follow another: an incident's lead report carries the status, the SLA clock, the
card and the topic, and every operator action on it is repeated on its followers (each keeps its
own history and hears about it in its own language and messenger, through the outbox)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.services.reports.lifecycle import OPEN_STATUSES, IllegalTransition, Status, change_status
from storage.models import Incident, Report, StatusChange


def not_a_follower() -> ColumnElement[bool]:
    """Reports with a clock and a card of their own: standalone reports and incidents' leads."""
    # EXISTS on the incident's primary key, not IN (all leads): it stays one lookup per row.
    leads = select(Incident.id).where(Incident.id == Report.incident_id, Incident.lead_report_id == Report.id)
    return or_(Report.incident_id.is_(None), leads.exists())


async def lead_id_of(session: AsyncSession, report: Report) -> int:
    """The report whose topic and card stand for `report`: its incident's lead, or itself."""
    if report.incident_id is None:
        return report.id
    lead = await session.scalar(select(Incident.lead_report_id).where(Incident.id == report.incident_id))
    return int(lead) if lead is not None else report.id


def is_follower(report: Report, lead_id: int) -> bool:
    return report.incident_id is not None and lead_id != report.id


async def followers(session: AsyncSession, report: Report, *, open_only: bool = True) -> list[Report]:
    """The reports following `report` when it leads an incident (locked, with history), oldest first."""
    if report.incident_id is None or await lead_id_of(session, report) != report.id:
        return []
    query = (
        select(Report)
        .where(Report.incident_id == report.incident_id, Report.id != report.id)
        .options(selectinload(Report.history))
        .order_by(Report.id)
        .with_for_update()
    )
    if open_only:
        query = query.where(Report.status.in_([s.value for s in OPEN_STATUSES]))
    return list(await session.scalars(query))


async def reporters(session: AsyncSession, report_id: int) -> int:
    """How many reports an incident's lead speaks for, itself included (1 for a standalone report)."""
    incident = await session.scalar(select(Incident.id).where(Incident.lead_report_id == report_id))
    if incident is None:
        return 1
    count = await session.scalar(
        select(func.count()).select_from(Report).where(Report.incident_id == incident)
    )
    return max(int(count or 0), 1)


async def move_followers(
    session: AsyncSession,
    lead: Report,
    *,
    now: datetime,
    actor: str,
    target: Status,
    comment: str | None = None,
) -> list[Report]:
    """Move the lead's open followers to `target` as the lead moved (each its own history row);
    followers already there, or for whom the move is not allowed, stay put. Returns those moved."""
    moved: list[Report] = []
    for member in await followers(session, lead):
        if member.status == target:
            continue
        if member.status == Status.ROUTED and target == Status.NEEDS_INFO:
            change_status(member, Status.IN_PROGRESS, actor=actor, at=now)
        try:
            change_status(member, target, actor=actor, at=now, comment=comment)
        except IllegalTransition:
            continue
        moved.append(member)
    return moved


def note_in_history(report: Report, *, actor: str, at: datetime, comment: str) -> None:
    """A history row without a status change: something the report's citizen was sent about it."""
    report.history.append(
        StatusChange(actor=actor, at=at, from_status=report.status, to_status=report.status, comment=comment)
    )
