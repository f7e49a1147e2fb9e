"""Incidents as citizens and operators meet them: nearby reports offered at intake, joining one,
what a card shows, and messages to many reporters approved (grouping itself: `grouping.py`).

Who may do what (checked here, on the server, whatever button was pressed):
- a citizen sees offers only of reports already routed and open, by neutral title, and at most
  `OFFER_LOOKUPS` times an hour (so nobody lists other people's reports street by street);
- a second person approving a message to many reporters must be allowed to act on the report
  from their chat, like its author (`approve_send`);
- merging, splitting, clusters and manual incidents: see `grouping.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.messages import Text, View
from bot.delivery.postbox import ReportTopic, to_topic
from bot.services.citizens.flood import FloodVerdict
from bot.services.incidents.grouping import (
    FOLLOWING,
    IncidentGrouping,
)
from bot.services.incidents.nearby import OFFERABLE, Probe, similar_open
from bot.services.incidents.titles import neutral_title
from bot.services.reports import queries
from bot.services.reports.access import ActionRefused, Actor, enter, record_action
from bot.services.reports.cards import CITIZEN_RELAY_KEY, queue_card
from bot.services.reports.deadlines import DueDates
from bot.services.reports.filing import FiledReport, ReportDraft, new_report
from bot.services.reports.followers import is_follower, lead_id_of, reporters
from bot.services.reports.lifecycle import SYSTEM_ACTOR, Status, change_status, report_number
from storage.models import Incident, Report

CARD_EVERY_JOIN_UP_TO = 10


@dataclass(frozen=True)
class Offer:
    """One line a citizen may join: the lead report, a neutral title, its status and reporters."""

    report_id: int
    number: str
    title: str
    status: str
    reporters: int


@dataclass(frozen=True)
class Joined:
    """A citizen's report filed as a follower of an incident."""

    filed: FiledReport
    lead_number: str
    status: str
    reporters: int


@dataclass(frozen=True)
class CardExtras:
    """What a card adds about incidents: reporters, the lead it follows, likely duplicates."""

    reporters: int = 1
    lead_number: str | None = None
    duplicates: tuple[tuple[int, str], ...] = ()


class IncidentDesk(IncidentGrouping):
    """Offers, joins, merges, splits and opens incidents; each call one transaction."""

    async def offers(self, citizen_id: int, probe: Probe, lang: str) -> list[Offer]:
        """Up to three open reports of the probe's problem to join; none once the hourly limit is hit."""
        if await self._guard.hit(f"offers:{citizen_id}") is not FloodVerdict.OK:
            return []
        async with self._db.session() as session:
            found = await similar_open(session, self._rules, probe, self._clock.now())
            return [await self._offer(session, report, lang) for report in found]

    async def _offer(self, session: AsyncSession, report: Report, lang: str) -> Offer:
        incident = await session.scalar(select(Incident).where(Incident.lead_report_id == report.id))
        title = neutral_title(report, self._catalog, lang, incident.title if incident else None)
        return Offer(
            report.id, report.number or "", title, report.status, await reporters(session, report.id)
        )

    async def join(self, draft: ReportDraft, lead_id: int) -> Joined | None:
        """File `draft` as a follower of `lead_id`; None when that report can no longer be joined
        (closed, answered or merged away meanwhile): the caller files it as usual."""
        now = self._clock.now()
        try:
            async with self._db.session(savepoint=True) as session:
                existing = await queries.by_intake_key(session, draft.intake_key)
                if existing is not None:
                    return await self._joined(session, existing)
                lead = await queries.locked(session, lead_id)
                if lead is None or lead.status not in OFFERABLE or lead.sector_id != draft.sector_id:
                    return None
                if is_follower(lead, await lead_id_of(session, lead)):
                    return None
                incident = await self._incident_of(session, lead, opened_by="citizen")
                due = DueDates(lead.first_reaction_due, lead.answer_due)
                report = new_report(draft, now, sector_id=lead.sector_id, body_id=lead.body_id, due=due)
                report.incident_id = incident.id
                session.add(report)
                await session.flush()
                report.number = report_number(report.id, now)
                change_status(
                    report, Status.ROUTED, actor=SYSTEM_ACTOR, at=now, comment=f"incident {lead.number}"
                )
                if lead.status in FOLLOWING:
                    change_status(report, Status.IN_PROGRESS, actor=SYSTEM_ACTOR, at=now)
                # No topic of its own: the words and photos go into the incident's topic.
                view = View(
                    (
                        Text("op-incident-joined", {"number": report.number, "platform": report.platform}),
                        Text.raw(report.text[:3000]),
                    )
                )
                await to_topic(
                    session,
                    where=ReportTopic(lead.id),
                    # The citizen's own words: `/forget` finds them by this prefix and report.
                    key=f"{CITIZEN_RELAY_KEY}joined:{report.id}",
                    views=[view],
                    photos=tuple(report.photos or ()),
                    report_id=report.id,
                    now=now,
                )
                joined = await self._joined(session, report)
                # The card counts the reporters; in a crowd every tenth join redraws it, so the
                # operator chat's own rate limit is left to the words of the people joining.
                if joined is not None and (
                    joined.reporters <= CARD_EVERY_JOIN_UP_TO or joined.reporters % 10 == 0
                ):
                    await queue_card(session, lead, now, refresh=f"joined-{report.id}")
                return joined
        except IntegrityError:
            async with self._db.session() as session:
                found = await queries.by_intake_key(session, draft.intake_key)
                if found is None:
                    raise
                return await self._joined(session, found)

    async def _joined(self, session: AsyncSession, report: Report) -> Joined | None:
        lead_id = await lead_id_of(session, report)
        lead = await session.get(Report, lead_id)
        if lead is None or report.number is None:
            return None
        filed = FiledReport(
            report.id, report.number, report.body_id, report.first_reaction_due, report.answer_due
        )
        return Joined(filed, lead.number or "", report.status, await reporters(session, lead_id))

    async def reporters_of(self, report_id: int) -> int:
        """How many citizens a message in this report's topic reaches (1 for a standalone report)."""
        async with self._db.session() as session:
            return await reporters(session, report_id)

    async def approve_send(self, report_id: int, approver: Actor, count: int) -> None:
        """A second person approves a message to many reporters: they must be allowed to act on the
        report from their chat, like its author; the approval is audited in its own row."""
        async with self._db.session() as session:
            report = await queries.locked(session, report_id)
            if report is None:
                raise ActionRefused("report-not-found")
            acting = await enter(session, self._staff, report, approver)
            await record_action(
                session, acting, report, "incident-send-approved", self._clock.now(), reporters=str(count)
            )

    async def card_extras(self, report_id: int) -> CardExtras:
        """For a card: how many people the report speaks for, the lead it follows, likely duplicates."""
        async with self._db.session() as session:
            report = await session.get(Report, report_id)
            if report is None:
                return CardExtras()
            lead_id = await lead_id_of(session, report)
            if is_follower(report, lead_id):
                lead = await session.get(Report, lead_id)
                return CardExtras(lead_number=lead.number if lead else None)
            count = await reporters(session, report.id)
            duplicates: tuple[tuple[int, str], ...] = ()
            if report.status in OFFERABLE:
                found = await similar_open(
                    session, self._rules, _probe_of(report), self._clock.now(), exclude=(report.id,)
                )
                # The older report leads: a new one is offered to merge into it, not the reverse.
                duplicates = tuple((r.id, r.number or "") for r in found if r.id < report.id)
            return CardExtras(reporters=count, duplicates=duplicates)


def _probe_of(report: Report) -> Probe:
    return Probe(
        report.sector_id,
        report.municipality_id,
        report.address,
        report.latitude,
        report.longitude,
        report.text,
    )
