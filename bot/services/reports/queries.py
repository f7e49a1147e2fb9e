"""The reports table's queries: every read of `Report` the reports services and the municipal centre
need, one function each, run in the caller's session (and so in the caller's transaction).

A person's reports are those filed from any of their linked accounts (Telegram and VK), which is
why the citizen-side reads take the citizen id and widen it with `linked_ids`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.services.citizens.accounts import linked_ids
from storage.models import Report, SlaEvent


async def locked(session: AsyncSession, report_id: int, *, with_citizen: bool = False) -> Report | None:
    """The report with its history, its row locked for this transaction (PostgreSQL; SQLite locks all)."""
    options = [selectinload(Report.history)]
    if with_citizen:
        options.append(selectinload(Report.citizen))
    return await session.scalar(
        select(Report).where(Report.id == report_id).options(*options).with_for_update()
    )


async def with_history(session: AsyncSession, report_id: int) -> Report | None:
    """The report and its status history, unlocked."""
    return await session.scalar(
        select(Report).where(Report.id == report_id).options(selectinload(Report.history))
    )


async def by_intake_key(session: AsyncSession, intake_key: str) -> Report | None:
    """The report one intake dialog filed, if it was filed already."""
    return await session.scalar(select(Report).where(Report.intake_key == intake_key))


async def count_of_person(session: AsyncSession, citizen_id: int) -> int:
    total = await session.scalar(
        select(func.count()).select_from(Report).where(Report.citizen_id.in_(linked_ids(citizen_id)))
    )
    return int(total or 0)


async def page_of_person(session: AsyncSession, citizen_id: int, *, limit: int, offset: int) -> list[Report]:
    """The person's reports, newest first."""
    rows = await session.scalars(
        select(Report)
        .where(Report.citizen_id.in_(linked_ids(citizen_id)))
        .order_by(Report.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows)


async def owned_by_person(session: AsyncSession, citizen_id: int, report_id: int) -> bool:
    """Whether the report was filed from this citizen's account or one linked with it."""
    found = await session.scalar(
        select(Report.id).where(Report.id == report_id, Report.citizen_id.in_(linked_ids(citizen_id)))
    )
    return found is not None


async def open_in_municipality(
    session: AsyncSession, municipality_id: str, statuses: Collection[str], *, limit: int
) -> list[Report]:
    """The municipality's reports in `statuses`, newest first."""
    rows = await session.scalars(
        select(Report)
        .where(Report.municipality_id == municipality_id, Report.status.in_(list(statuses)))
        .order_by(Report.id.desc())
        .limit(limit)
    )
    return list(rows)


def near_deadline(open_statuses: Collection[str], answered: str, horizon: datetime) -> ColumnElement[bool]:
    """Open reports with a deadline before `horizon`, or answered (awaiting the citizen's word)."""
    return Report.status.in_(list(open_statuses)) & or_(
        Report.first_reaction_due <= horizon,
        Report.answer_due <= horizon,
        Report.status == answered,
    )


async def with_fired_events(
    session: AsyncSession, where: ColumnElement[bool]
) -> tuple[list[Report], dict[int, dict[str, datetime]]]:
    """The reports matching `where`, and for each the SLA events already fired (kind → when)."""
    reports = list(await session.scalars(select(Report).where(where).order_by(Report.id)))
    rows = await session.execute(
        select(SlaEvent.report_id, SlaEvent.kind, SlaEvent.at)
        .join(Report, Report.id == SlaEvent.report_id)
        .where(where)
    )
    fired: dict[int, dict[str, datetime]] = {}
    for report_id, kind, at in rows:
        fired.setdefault(report_id, {})[kind] = at
    return reports, fired
