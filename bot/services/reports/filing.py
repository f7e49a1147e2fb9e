"""Filing a report (once per intake, routed, with its deadlines and card) and the citizen's view
of their reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from bot.core.clock import Clock
from bot.delivery.postbox import card_update
from bot.services.catalog import OTHER_SECTOR, Catalog
from bot.services.geo.addresses import parse_address
from bot.services.geo.cells import cell_of
from bot.services.reports import queries
from bot.services.reports.deadlines import DueDates, WorkCalendar, due_dates
from bot.services.reports.lifecycle import MAX_PHOTOS, SYSTEM_ACTOR, Status, change_status, report_number
from storage.db import Database
from storage.models import Report, StatusChange


@dataclass
class ReportDraft:
    """Everything the intake dialog gathered, ready to be filed."""

    intake_key: str
    platform: str
    citizen_id: int
    language: str
    text: str
    photos: list[str] = field(default_factory=list)
    latitude: float | None = None
    longitude: float | None = None
    address: str | None = None
    municipality_id: str | None = None
    sector_id: str = OTHER_SECTOR
    classifier_sector: str | None = None
    classifier_confidence: float | None = None
    phone: str | None = None


@dataclass(frozen=True)
class FiledReport:
    id: int
    number: str
    body_id: str
    first_reaction_due: datetime
    answer_due: datetime


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    from_status: str | None
    to_status: str
    comment: str | None


@dataclass(frozen=True)
class ReportCard:
    """A report as its citizen sees it."""

    id: int
    number: str
    sector_id: str
    status: str
    created_at: datetime
    text: str
    body_id: str
    municipality_id: str | None
    address: str | None
    photos: int
    answer_due: datetime
    history: tuple[HistoryEntry, ...] = ()


def place_columns(address: str | None, lat: float | None, lon: float | None) -> dict[str, str | None]:
    """The parsed street, house, settlement and grid cell stored beside a report's address and pin."""
    parsed = parse_address(address or "")
    return {
        "street_key": parsed.street_key[:200] if parsed.street_key else None,
        "house": parsed.house[:32] if parsed.house else None,
        "settlement_key": parsed.settlement_key[:100] if parsed.settlement_key else None,
        "geo_cell": cell_of(lat, lon),
    }


def new_report(draft: ReportDraft, now: datetime, *, sector_id: str, body_id: str, due: DueDates) -> Report:
    """A report row for `draft` in status `new`, with its first history row (not yet added)."""
    return Report(
        intake_key=draft.intake_key,
        citizen_id=draft.citizen_id,
        platform=draft.platform,
        text=draft.text,
        photos=list(draft.photos[:MAX_PHOTOS]),
        latitude=draft.latitude,
        longitude=draft.longitude,
        address=draft.address,
        **place_columns(draft.address, draft.latitude, draft.longitude),
        municipality_id=draft.municipality_id,
        sector_id=sector_id,
        filed_sector=sector_id,
        classifier_sector=draft.classifier_sector,
        classifier_confidence=draft.classifier_confidence,
        body_id=body_id,
        status=Status.NEW,
        phone=draft.phone,
        language=draft.language,
        first_reaction_due=due.first_reaction,
        answer_due=due.answer,
        created_at=now,
        updated_at=now,
        history=[
            StatusChange(actor=f"citizen:{draft.platform}", at=now, from_status=None, to_status=Status.NEW)
        ],
    )


class ReportFiling:
    """Files reports and answers the citizen's questions about them."""

    def __init__(self, db: Database, catalog: Catalog, calendar: WorkCalendar, clock: Clock) -> None:
        self._db = db
        self._catalog = catalog
        self._calendar = calendar
        self._clock = clock

    async def file(self, draft: ReportDraft) -> FiledReport:
        """Store, route and date a report; filing the same draft twice returns the first report."""
        existing = await self._by_intake_key(draft.intake_key)
        if existing is not None:
            return existing
        now = self._clock.now()
        sector = self._catalog.sector(draft.sector_id)
        body_id = self._catalog.route(sector.id, draft.municipality_id)
        due = due_dates(now, sector.first_reaction_hours, sector.answer_days, self._calendar)
        try:
            async with self._db.session(savepoint=True) as session:
                report = new_report(draft, now, sector_id=sector.id, body_id=body_id, due=due)
                session.add(report)
                await session.flush()
                report.number = report_number(report.id, now)
                change_status(report, Status.ROUTED, actor=SYSTEM_ACTOR, at=now, comment=body_id)
                # The card reaches the body's operator chat even if this process dies right now.
                await card_update(
                    session, report_id=report.id, body_id=body_id, key=f"card:{report.id}:filed", now=now
                )
                return FiledReport(report.id, report.number, body_id, due.first_reaction, due.answer)
        except IntegrityError:
            # Two deliveries of one confirmation raced; the other one won and its report stands.
            found = await self._by_intake_key(draft.intake_key)
            if found is None:
                raise
            return found

    async def _by_intake_key(self, intake_key: str) -> FiledReport | None:
        async with self._db.session() as session:
            report = await queries.by_intake_key(session, intake_key)
            if report is None or report.number is None:
                return None
            return FiledReport(
                report.id, report.number, report.body_id, report.first_reaction_due, report.answer_due
            )

    # "The citizen's reports" are those filed from any of their linked accounts (Telegram and VK):
    # each messenger shows them all. Status messages still go to the account that filed.

    async def count_for_citizen(self, citizen_id: int) -> int:
        async with self._db.session() as session:
            return await queries.count_of_person(session, citizen_id)

    async def list_for_citizen(self, citizen_id: int, *, limit: int, offset: int = 0) -> list[ReportCard]:
        """The citizen's reports (from every linked account), newest first."""
        async with self._db.session() as session:
            rows = await queries.page_of_person(session, citizen_id, limit=limit, offset=offset)
            return [_card(row, with_history=False) for row in rows]

    async def card_for_citizen(self, citizen_id: int, report_id: int) -> ReportCard | None:
        """One report with its history, only if it belongs to this citizen (or a linked account)."""
        async with self._db.session() as session:
            if not await queries.owned_by_person(session, citizen_id, report_id):
                return None
            report = await queries.with_history(session, report_id)
            if report is None:
                return None
            return _card(report, with_history=True)


def _card(report: Report, *, with_history: bool) -> ReportCard:
    history = (
        tuple(HistoryEntry(h.at, h.from_status, h.to_status, h.comment) for h in report.history)
        if with_history
        else ()
    )
    return ReportCard(
        id=report.id,
        number=report.number or "",
        sector_id=report.sector_id,
        status=report.status,
        created_at=report.created_at,
        text=report.text,
        body_id=report.body_id,
        municipality_id=report.municipality_id,
        address=report.address,
        photos=len(report.photos or []),
        answer_due=report.answer_due,
        history=history,
    )
