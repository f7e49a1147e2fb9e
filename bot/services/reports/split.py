"""A follower whose citizen says the incident's answer did not solve their problem goes on alone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.messages import Text, View
from bot.delivery.postbox import ReportTopic, to_topic
from bot.services.catalog import Catalog
from bot.services.reports.cards import queue_card
from bot.services.reports.deadlines import WorkCalendar, due_dates
from storage.models import Report


async def split_out(
    session: AsyncSession,
    report: Report,
    lead_id: int,
    now: datetime,
    catalog: Catalog,
    calendar: WorkCalendar,
) -> None:
    """Make a follower a report of its own with the same body: its own deadlines from now, its own
    card and topic (queued by the caller's card refresh); the incident's topic is told."""
    # While it still follows, this refreshes the lead's card, which then counts one reporter fewer.
    await queue_card(session, report, now, refresh=f"split-{len(report.history)}")
    report.incident_id = None
    sector = catalog.sector(report.sector_id)
    due = due_dates(now, sector.first_reaction_hours, sector.answer_days, calendar)
    report.first_reaction_due, report.answer_due = due.first_reaction, due.answer
    report.first_reaction_at = None
    report.assignee_id = None
    lead = await session.get(Report, lead_id)
    if lead is None:
        return
    view = View((Text("op-incident-split", {"number": report.number or "", "lead": lead.number or ""}),))
    await to_topic(
        session,
        where=ReportTopic(lead.id),
        key=f"split:{report.id}:{len(report.history)}",
        views=[view],
        report_id=lead.id,
        now=now,
    )
