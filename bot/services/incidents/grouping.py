"""Grouping reports into incidents from the staff side: merging and splitting from the operator
chat, a spike's cluster attached at once, and an incident opened by hand.

Who may (checked here, on the server, whatever button was pressed): merging and splitting need an
operator who may act on both reports from their chat (`authorise`: a member of the responsible
body's chat, or a registered operator in a strict chat); reports of different bodies only from the
ЦУР chat, which is strict, so only its registered operators and admins. An incident by hand needs
`Right.OPERATE` for the `tsur` body (ЦУР operators, admins); a spike's cluster is attached for a
presser `SpikeWatch.decide` has checked the same way.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.messages import Text, View
from bot.delivery.postbox import ChatThread, card_update, to_topic
from bot.services.catalog import Catalog
from bot.services.chats import TSUR_BODY
from bot.services.citizens.flood import FloodGuard
from bot.services.incidents.nearby import OFFERABLE
from bot.services.incidents.places import PlaceRule, place_rules
from bot.services.reports import queries
from bot.services.reports.access import ActionRefused, Actor, authorise, enter, record_action
from bot.services.reports.cards import queue_card
from bot.services.reports.deadlines import WorkCalendar, due_dates
from bot.services.reports.filing import FiledReport, ReportDraft, new_report
from bot.services.reports.followers import followers, is_follower, lead_id_of, note_in_history
from bot.services.reports.lifecycle import SYSTEM_ACTOR, Status, change_status, report_number
from bot.services.reports.telling import Telling
from bot.services.reports.topics import topic_in
from bot.services.staff.registry import StaffService
from bot.services.staff.roles import Principal, Right
from storage.db import Database
from storage.models import Incident, Report

OFFER_LOOKUPS = 6
OFFER_WINDOW_SECONDS = 3600.0
FOLLOWING = (Status.IN_PROGRESS.value, Status.NEEDS_INFO.value)


class IncidentGrouping:
    """Merges, splits, clusters and manual incidents; each call one transaction."""

    def __init__(
        self,
        db: Database,
        catalog: Catalog,
        clock: Clock,
        calendar: WorkCalendar,
        staff: StaffService,
        guard: FloodGuard | None = None,
        rules: dict[str, PlaceRule] | None = None,
    ) -> None:
        self._db = db
        self._catalog = catalog
        self._clock = clock
        self._calendar = calendar
        self._staff = staff
        self._guard = guard or FloodGuard(OFFER_LOOKUPS, OFFER_WINDOW_SECONDS)
        self._rules = rules if rules is not None else place_rules()
        self._tell = Telling(catalog, clock)

    async def _incident_of(
        self, session: AsyncSession, lead: Report, *, opened_by: str, manual: bool = False
    ) -> Incident:
        """The incident `lead` leads, opened now if it led none."""
        if lead.incident_id is not None:
            found = await session.get(Incident, lead.incident_id)
            if found is not None and found.lead_report_id == lead.id:
                return found
        incident = Incident(
            lead_report_id=lead.id, opened_by=opened_by[:64], manual=manual, created_at=self._clock.now()
        )
        session.add(incident)
        await session.flush()
        lead.incident_id = incident.id
        return incident

    async def merge(self, report_id: int, into_id: int, actor: Actor) -> str:
        """Make `report_id` (and any reports following it) follow the incident of `into_id`; returns
        the lead's number. Reversible with `split`."""
        now = self._clock.now()
        async with self._db.session() as session:
            report = await queries.locked(session, report_id)
            target = await queries.locked(session, into_id)
            if report is None or target is None:
                raise ActionRefused("report-not-found")
            lead = await queries.locked(session, await lead_id_of(session, target))
            if lead is None or lead.id == report.id or is_follower(report, await lead_id_of(session, report)):
                raise ActionRefused("op-merge-not-possible")
            if report.status not in OFFERABLE or lead.status not in OFFERABLE:
                raise ActionRefused("op-merge-not-possible")
            authority = await authorise(session, self._staff, report, actor)
            await authorise(session, self._staff, lead, actor)
            if report.body_id != lead.body_id and authority.binding.body_id != TSUR_BODY:
                raise ActionRefused("op-merge-other-body")
            acting = await enter(session, self._staff, lead, actor)
            incident = await self._incident_of(session, lead, opened_by=actor.label)
            moving = [report, *await followers(session, report)]
            old = report.incident_id
            for member in moving:
                member.incident_id = incident.id
                if lead.status in FOLLOWING and member.status == Status.ROUTED:
                    change_status(member, Status.IN_PROGRESS, actor=actor.label, at=now)
                note_in_history(member, actor=actor.label, at=now, comment=f"merged into {lead.number}")
                await self._tell.send(
                    session,
                    member,
                    "merged",
                    [
                        View(
                            (
                                Text(
                                    "notify-merged",
                                    {"number": member.number or "", "lead": lead.number or ""},
                                ),
                            )
                        )
                    ],
                )
            if old is not None and old != incident.id:
                stale = await session.get(Incident, old)
                if stale is not None:
                    await session.delete(stale)
            # One clock: the earliest deadline of the group.
            lead.first_reaction_due = min(lead.first_reaction_due, report.first_reaction_due)
            lead.answer_due = min(lead.answer_due, report.answer_due)
            await record_action(session, acting, lead, "merge", now, merged=report.number or "")
            await self._say_in_old_topic(session, report, lead, now)
            await card_update(
                session,
                report_id=report.id,
                body_id=report.body_id,
                key=f"card:{report.id}:merged:{len(report.history)}",
                now=now,
            )
            await queue_card(session, lead, now, refresh=f"merged-{report.id}-{len(report.history)}")
            return lead.number or ""

    async def _say_in_old_topic(
        self, session: AsyncSession, report: Report, lead: Report, now: datetime
    ) -> None:
        thread = await topic_in(session, report.id)
        if thread is None:
            return
        view = View((Text("op-incident-merged", {"number": report.number or "", "lead": lead.number or ""}),))
        await to_topic(
            session,
            where=ChatThread(thread.chat_id, thread.thread_id),
            key=f"merged:{report.id}:{len(report.history)}",
            views=[view],
            report_id=report.id,
            now=now,
        )

    async def attach_cluster(self, report_ids: list[int], actor_label: str) -> int:
        """One incident of a spike's reports (the caller checked the presser's right: a ЦУР operator):
        the oldest open one leads, the other open ones follow it; returns the lead's report id."""
        now = self._clock.now()
        async with self._db.session() as session:
            found = [r for r in [await queries.locked(session, i) for i in sorted(set(report_ids))] if r]
            open_ = [r for r in found if r.status in OFFERABLE]
            if not open_:
                raise ActionRefused("op-merge-not-possible")
            lead = await queries.locked(session, await lead_id_of(session, open_[0]))
            assert lead is not None
            incident = await self._incident_of(session, lead, opened_by=actor_label)
            for member in open_:
                if member.id == lead.id or member.incident_id is not None:
                    continue  # already in an incident (maybe another): merged by hand if need be
                member.incident_id = incident.id
                if lead.status in FOLLOWING and member.status == Status.ROUTED:
                    change_status(member, Status.IN_PROGRESS, actor=actor_label, at=now)
                note_in_history(member, actor=actor_label, at=now, comment=f"merged into {lead.number}")
                args = {"number": member.number or "", "lead": lead.number or ""}
                await self._tell.send(session, member, "merged", [View((Text("notify-merged", args),))])
                lead.first_reaction_due = min(lead.first_reaction_due, member.first_reaction_due)
                lead.answer_due = min(lead.answer_due, member.answer_due)
                await self._say_in_old_topic(session, member, lead, now)
                await card_update(
                    session,
                    report_id=member.id,
                    body_id=member.body_id,
                    key=f"card:{member.id}:merged:{len(member.history)}",
                    now=now,
                )
            await queue_card(session, lead, now, refresh=f"cluster-{len(lead.history)}-{len(open_)}")
            return lead.id

    async def split(self, report_id: int, actor: Actor) -> str:
        """Take a merged report back out of its incident (it keeps its status); returns its number."""
        now = self._clock.now()
        async with self._db.session() as session:
            report = await queries.locked(session, report_id)
            if report is None:
                raise ActionRefused("report-not-found")
            lead_id = await lead_id_of(session, report)
            if not is_follower(report, lead_id):
                raise ActionRefused("op-split-not-merged")
            lead = await queries.locked(session, lead_id)
            # The lead's chat may take it back out, and so may the report's own body's chat.
            try:
                acting = await enter(session, self._staff, report, actor)
            except ActionRefused:
                if lead is None:
                    raise
                acting = await enter(session, self._staff, lead, actor)
            report.incident_id = None
            note_in_history(report, actor=actor.label, at=now, comment="split from incident")
            await record_action(session, acting, report, "split", now)
            await queue_card(session, report, now, refresh=f"split-{len(report.history)}")
            if lead is not None:
                await queue_card(session, lead, now, refresh=f"split-{report.id}-{len(report.history)}")
            return report.number or ""

    async def open_manual(
        self,
        principal: Principal,
        *,
        sector_id: str,
        municipality_id: str | None,
        title: str,
        address: str | None,
    ) -> FiledReport:
        """An incident opened by ЦУР staff before anyone reports it: a lead report with no citizen,
        routed as a citizen's report would be, with a card and a topic; reports are merged into it."""
        if sector_id not in self._catalog.sectors:
            raise ActionRefused("incident-unknown-sector")
        async with self._db.session() as session:
            if await self._staff.may(principal, Right.OPERATE, TSUR_BODY, session=session) is None:
                raise ActionRefused("op-not-registered")
            now = self._clock.now()
            sector = self._catalog.sector(sector_id)
            body_id = self._catalog.route(sector.id, municipality_id)
            due = due_dates(now, sector.first_reaction_hours, sector.answer_days, self._calendar)
            draft = ReportDraft(
                intake_key=f"manual:{uuid.uuid4().hex}",
                platform="staff",
                citizen_id=0,
                language="ru",
                text=title[:2000],
                address=address,
                municipality_id=municipality_id,
                sector_id=sector.id,
            )
            report = new_report(draft, now, sector_id=sector.id, body_id=body_id, due=due)
            report.citizen_id = None
            report.history[0].actor = principal.label[:64]
            session.add(report)
            await session.flush()
            report.number = report_number(report.id, now)
            change_status(report, Status.ROUTED, actor=SYSTEM_ACTOR, at=now, comment=body_id)
            incident = await self._incident_of(session, report, opened_by=principal.label, manual=True)
            incident.title = title[:200]
            await queue_card(session, report, now)
            return FiledReport(report.id, report.number, body_id, due.first_reaction, due.answer)
