"""Operators teach the classifier: a transfer to another sector, and the sector a report has when it
is closed, are kept as a labelled example (contacts and names masked, a few per citizen), erased
with the citizen on /forget and after the retention period. Citizens' own picks are not kept as
labels (anyone could steer the model with them): they and the model's first guess are kept beside
the label for the bench only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.classify.masking import mask_names
from bot.services.citizens.contacts_mask import mask_contacts
from storage.models import Report, SectorExample

# A citizen who writes a lot must not weigh more in the model than a few reports' worth.
MAX_PER_CITIZEN = 3
MAX_TEXT_CHARS = 2000
TRANSFER = "transfer"
CLOSED = "closed"


def masked(text: str) -> str:
    """The report's words as kept for training: no phones, e-mails or personal names."""
    return mask_names(mask_contacts(text[:MAX_TEXT_CHARS]))


async def record_example(session: AsyncSession, report: Report, source: str, now: datetime) -> bool:
    """Keep (or update) the report's example with its current sector; False when the citizen's
    quota is used up. Runs in the transaction of the operator's action."""
    existing = await session.scalar(select(SectorExample).where(SectorExample.report_id == report.id))
    if existing is not None:
        existing.sector_id = report.sector_id
        existing.source = source
        return True
    if report.citizen_id is not None:
        mine = SectorExample.citizen_id == report.citizen_id
        kept = await session.scalar(select(func.count()).select_from(SectorExample).where(mine))
        if int(kept or 0) >= MAX_PER_CITIZEN:
            return False
    session.add(
        SectorExample(
            report_id=report.id,
            citizen_id=report.citizen_id,
            text=masked(report.text),
            sector_id=report.sector_id,
            guessed_sector=report.classifier_sector,
            citizen_sector=report.filed_sector,
            source=source,
            created_at=now,
        )
    )
    return True


async def forget_examples(session: AsyncSession, citizen_id: int) -> None:
    """Erase every example a citizen's reports gave (their /forget)."""
    await session.execute(delete(SectorExample).where(SectorExample.citizen_id == citizen_id))
