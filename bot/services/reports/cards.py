"""Messages about a report's place in its operator chat that several services queue: the card
(refreshed on every change), and the key prefix of a citizen's words relayed into its topic."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.delivery.postbox import card_update
from bot.services.reports.followers import is_follower, lead_id_of
from storage.models import Report

# `/forget` finds the citizen's relayed words by this prefix, so both sides share it.
CITIZEN_RELAY_KEY = "citizen-relay:"


async def queue_card(session: AsyncSession, report: Report, now: datetime, *, refresh: str = "") -> None:
    """Queue the card of `report` as it is now; one card message per distinct state of the report,
    and one more per `refresh` reason (a re-post with freshly signed buttons, an erasure). A report
    that follows an incident has no card: its lead's card (which counts the reporters) is refreshed."""
    lead_id = await lead_id_of(session, report)
    if is_follower(report, lead_id):
        lead = await session.scalar(
            select(Report).where(Report.id == lead_id).options(selectinload(Report.history))
        )
        if lead is not None:
            await queue_card(
                session, lead, now, refresh=f"member-{report.id}-{len(report.history)}-{report.status}"
            )
        return
    version = f"{len(report.history)}:{report.status}:{report.body_id}:{report.assignee_id}:{report.rating}"
    await card_update(
        session,
        report_id=report.id,
        body_id=report.body_id,
        key=f"card:{report.id}:{version}" + (f":{refresh}" if refresh else ""),
        now=now,
    )
