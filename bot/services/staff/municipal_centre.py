"""The municipal centre's (МЦУ) view: every report of its municipality, whichever body works it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.clock import Clock
from bot.services.reports import queries
from bot.services.reports.lifecycle import OPEN_STATUSES
from bot.services.staff.audit import AuditAction, record
from bot.services.staff.registry import StaffService
from bot.services.staff.roles import Principal, Right
from storage.db import Database

LIST_LIMIT = 50


@dataclass(frozen=True)
class ReportLine:
    """One report as the municipal centre lists it: no phone, no citizen identity."""

    number: str
    sector_id: str
    body_id: str
    status: str
    address: str
    created_at: datetime
    answer_due: datetime
    text: str


class MunicipalCentre:
    """Reads for `mcu` staff (and admins), each read audited."""

    def __init__(self, db: Database, staff: StaffService, clock: Clock) -> None:
        self._db = db
        self._staff = staff
        self._clock = clock

    async def municipalities_of(self, who: Principal) -> list[str]:
        """The municipalities whose centre `who` belongs to."""
        return [grant.scope for grant in await self._staff.roles(who) if grant.role == "mcu"]

    async def open_reports(
        self, who: Principal, municipality_id: str, *, chat_id: int | None = None
    ) -> list[ReportLine]:
        """Open reports of the municipality, newest first; NotAllowed for anyone but its МЦУ or an admin."""
        async with self._db.session() as session:
            grant = await self._staff.require(who, Right.READ_MUNICIPALITY, municipality_id, session=session)
            rows = await queries.open_in_municipality(
                session, municipality_id, [s.value for s in OPEN_STATUSES], limit=LIST_LIMIT
            )
            lines = [
                ReportLine(
                    number=r.number or str(r.id),
                    sector_id=r.sector_id,
                    body_id=r.body_id,
                    status=r.status,
                    address=r.address or "",
                    created_at=r.created_at,
                    answer_due=r.answer_due,
                    text=r.text[:300],
                )
                for r in rows
            ]
            await record(
                session,
                actor=who.label,
                role=grant.role,
                chat_id=chat_id,
                action=AuditAction.MUNICIPALITY_READ,
                subject=f"municipality:{municipality_id}",
                detail={"reports": len(lines)},
                at=self._clock.now(),
            )
            return lines
