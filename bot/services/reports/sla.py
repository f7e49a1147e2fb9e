"""Deadlines and escalation (decree item 8): reminders before a deadline, overdue notices, the block
head and then the curator for overdue reports, and closing answered reports the citizen left alone.

Every event is a `SlaEvent` row, unique per (report, kind), written in the same transaction as the
messages it causes (through the outbox). Each pass works from the current database state only, so a
scheduler that was down catches up when it returns, and several schedulers never double an event.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.messages import View
from bot.delivery.postbox import ReportTopic, to_citizen, to_official, to_topic
from bot.services.periodic import every
from bot.services.reports import queries
from bot.services.reports.block_contacts import CURATOR, HEAD
from bot.services.reports.cards import queue_card
from bot.services.reports.deadlines import WorkCalendar
from bot.services.reports.followers import not_a_follower
from bot.services.reports.lifecycle import OPEN_STATUSES, SYSTEM_ACTOR, Status, change_status
from bot.services.reports.sector_examples import CLOSED, record_example
from bot.services.staff.registry import role_holders
from bot.services.staff.roles import Role
from storage.db import TRANSIENT_ERRORS, Database
from storage.models import BlockContact, Body, Citizen, Report, Sector, SlaEvent

log = logging.getLogger(__name__)

AUTOCLOSE_COMMENT = "no reply from the citizen"
# Operators, heads and curators work in Russian; citizens get their own language.
STAFF_LANGUAGE = "ru"
DUE_FORMAT = "%d.%m.%Y %H:%M"


class Event(StrEnum):
    """The kinds of `SlaEvent` rows, in the order they are fired within one pass."""

    REMIND_FIRST = "remind_first"
    OVERDUE_FIRST = "overdue_first"
    REMIND_ANSWER = "remind_answer"
    OVERDUE_ANSWER = "overdue_answer"
    HEAD = "head"
    CURATOR = "curator"
    AUTOCLOSE = "autoclose"


@dataclass(frozen=True)
class SlaPolicy:
    """When reminders, escalations and the automatic closing happen."""

    remind_before_hours: float = 2.0  # working hours before a deadline: reminder in the body's topic
    curator_after_hours: float = 8.0  # working hours after the head was notified (overdue) → the curator
    autoclose_days: int = 7  # answered and no citizen reply for 7 (calendar) days → closed


def first_reaction_pending(report: Report) -> bool:
    """The report still waits for its first reaction."""
    # An answer is a reaction too, whichever path set the status.
    return report.first_reaction_at is None and report.status != Status.ANSWERED


def answer_pending(report: Report) -> bool:
    """The report is open and not answered yet."""
    return Status(report.status) in OPEN_STATUSES and report.status != Status.ANSWERED


def overdue_since(report: Report, now: datetime) -> datetime | None:
    """The earliest passed deadline that still lacks its reaction or answer, if any."""
    passed = []
    if first_reaction_pending(report) and now >= report.first_reaction_due:
        passed.append(report.first_reaction_due)
    if answer_pending(report) and now >= report.answer_due:
        passed.append(report.answer_due)
    return min(passed) if passed else None


def due_events(
    report: Report,
    fired: Mapping[str, datetime],
    now: datetime,
    calendar: WorkCalendar,
    policy: SlaPolicy,
) -> list[Event]:
    """The events due for `report` at `now` that have not fired yet (`fired`: kind → when)."""
    if Status(report.status) not in OPEN_STATUSES:
        return []
    horizon = calendar.add_working_hours(now, policy.remind_before_hours)
    wanted: list[Event] = []
    # A deadline already passed gets its overdue event only: a late reminder would be noise.
    if first_reaction_pending(report):
        if now >= report.first_reaction_due:
            wanted.append(Event.OVERDUE_FIRST)
        elif report.first_reaction_due <= horizon:
            wanted.append(Event.REMIND_FIRST)
    if answer_pending(report):
        if now >= report.answer_due:
            wanted.append(Event.OVERDUE_ANSWER)
        elif report.answer_due <= horizon:
            wanted.append(Event.REMIND_ANSWER)
    late_since = overdue_since(report, now)
    if late_since is not None:
        wanted.append(Event.HEAD)
        head_at = fired.get(Event.HEAD)
        if head_at is not None:
            # Counted from the head's notice, or from a later deadline if the report was back on time
            # in between (first reaction given, then the answer deadline missed).
            base = max(head_at, late_since)
            if now >= calendar.add_working_hours(base, policy.curator_after_hours):
                wanted.append(Event.CURATOR)
    if (
        report.status == Status.ANSWERED
        and report.answered_at is not None
        and now >= report.answered_at + timedelta(days=policy.autoclose_days)
    ):
        wanted.append(Event.AUTOCLOSE)
    return [event for event in wanted if event not in fired]


class SlaScheduler:
    """Fires deadline events from the database state, exactly once each, however many run."""

    def __init__(
        self, db: Database, calendar: WorkCalendar, clock: Clock, policy: SlaPolicy = SlaPolicy()
    ) -> None:
        self._db = db
        self._calendar = calendar
        self._clock = clock
        self._policy = policy

    async def tick(self) -> list[tuple[int, str]]:
        """One pass over the open reports; returns (report_id, kind) of the events fired now."""
        now = self._clock.now()
        fired: list[tuple[int, str]] = []
        for report_id in await self._candidates(now):
            try:
                fired += await self._fire(report_id, now)
            except TRANSIENT_ERRORS:
                raise  # the database is away: the whole pass is retried on the next tick
            except Exception:
                # One broken report must not starve the others of their reminders.
                log.exception("SLA events of report %s failed", report_id)
        return fired

    async def run(self, stop: asyncio.Event, interval: float = 30.0) -> None:
        """Tick every `interval` seconds until `stop` is set; failures are logged, never fatal."""

        async def one_pass() -> None:
            fired = await self.tick()
            if fired:
                log.info("SLA events fired: %s", fired)

        await every(interval, stop, one_pass, log, "SLA")

    def _filter(self, now: datetime) -> ColumnElement[bool]:
        # Only reports near or past a deadline, or answered, can have anything due.
        horizon = self._calendar.add_working_hours(now, self._policy.remind_before_hours)
        near = queries.near_deadline([s.value for s in OPEN_STATUSES], Status.ANSWERED.value, horizon)
        # An incident runs one clock, its lead's; its followers only close when answered and silent.
        return near & (not_a_follower() | (Report.status == Status.ANSWERED.value))

    async def _candidates(self, now: datetime) -> list[int]:
        """Ids of reports with something due, read without locks (the firing pass re-checks)."""
        where = self._filter(now)
        async with self._db.session() as session:
            reports, fired = await queries.with_fired_events(session, where)
            return [
                r.id for r in reports if due_events(r, fired.get(r.id, {}), now, self._calendar, self._policy)
            ]

    async def _fire(self, report_id: int, now: datetime) -> list[tuple[int, str]]:
        """Fire what is due for one report in one transaction, the report row locked."""
        async with self._db.session() as session:
            # The lock orders us with operator actions (a citizen's "not solved" vs the autoclose).
            report = await queries.locked(session, report_id)
            if report is None:
                return []
            rows = await session.execute(
                select(SlaEvent.kind, SlaEvent.at).where(SlaEvent.report_id == report_id)
            )
            fired: dict[str, datetime] = {kind: at for kind, at in rows}
            done: list[tuple[int, str]] = []
            for event in due_events(report, fired, now, self._calendar, self._policy):
                try:
                    async with session.begin_nested():
                        session.add(SlaEvent(report_id=report.id, kind=event.value, at=now))
                        await session.flush()
                        await self._act(session, report, event, now)
                except IntegrityError:
                    # Another scheduler fired it first; its messages are in the outbox already.
                    log.info("SLA event %s of report %s already fired", event, report.id)
                    continue
                fired[event] = now
                done.append((report.id, event.value))
            return done

    async def _act(self, session: AsyncSession, report: Report, event: Event, now: datetime) -> None:
        if event is Event.AUTOCLOSE:
            await self._autoclose(session, report, now)
        elif event in (Event.HEAD, Event.CURATOR):
            await self._escalate(session, report, HEAD if event is Event.HEAD else CURATOR, now)
        else:
            await self._deadline_notice(session, report, event, now)

    def _due_text(self, moment: datetime) -> str:
        return moment.astimezone(self._calendar.tz).strftime(DUE_FORMAT)

    async def _topic(
        self, session: AsyncSession, report: Report, key: str, view: View, now: datetime
    ) -> None:
        await to_topic(
            session, where=ReportTopic(report.id), key=key, views=[view], report_id=report.id, now=now
        )

    async def _deadline_notice(
        self, session: AsyncSession, report: Report, event: Event, now: datetime
    ) -> None:
        number = report.number or str(report.id)
        first_due = self._due_text(report.first_reaction_due)
        answer_due = self._due_text(report.answer_due)
        views = {
            Event.REMIND_FIRST: View.of("sla-remind-first", number=number, due=first_due),
            Event.OVERDUE_FIRST: View.of("sla-overdue-first", number=number, due=first_due),
            Event.REMIND_ANSWER: View.of("sla-remind-answer", number=number, due=answer_due),
            Event.OVERDUE_ANSWER: View.of("sla-overdue-answer", number=number, due=answer_due),
        }
        await self._topic(session, report, f"sla:{report.id}:{event.value}", views[event], now)

    async def _escalate(self, session: AsyncSession, report: Report, level: str, now: datetime) -> None:
        """Tell the block head or curator directly (when reachable) and say so in the report's topic."""
        number = report.number or str(report.id)
        key = f"sla:{report.id}:{level}"
        sector = await session.get(Sector, report.sector_id)
        sector_name = sector.name_ru if sector is not None else report.sector_id
        contact = await session.scalar(
            select(BlockContact).where(
                BlockContact.sector_id == report.sector_id, BlockContact.level == level
            )
        )
        # A head or curator in the staff registry outranks the configured contact.
        holders = await role_holders(session, Role(level), report.sector_id)
        user_id: str | None
        if holders:
            user_id, name = holders[0][0], holders[0][1] or level
        elif contact is not None:
            user_id, name = contact.platform_user_id, contact.name
        else:
            log.warning("no %s for sector %s: the ЦУР handles report %s", level, report.sector_id, number)
            view = View.of("sla-no-contact", number=number, sector=sector_name, level=level)
            await self._topic(session, report, key, view, now)
            return
        if user_id:
            first_overdue = first_reaction_pending(report) and now >= report.first_reaction_due
            body = await session.get(Body, report.body_id)
            args: dict[str, Any] = {
                "number": number,
                "what": "first" if first_overdue else "answer",
                "due": self._due_text(report.first_reaction_due if first_overdue else report.answer_due),
                "sector": sector_name,
                "body": body.name_ru if body is not None else report.body_id,
            }
            direct = (
                View.of("sla-direct-head", **args) if level == HEAD else View.of("sla-direct-curator", **args)
            )
            await to_official(
                session, chat_id=user_id, key=f"{key}:direct", views=[direct], report_id=report.id, now=now
            )
        notified = (
            View.of("sla-head-notified", number=number, name=name)
            if level == HEAD
            else View.of("sla-curator-notified", number=number, name=name)
        )
        await self._topic(session, report, key, notified, now)

    async def _autoclose(self, session: AsyncSession, report: Report, now: datetime) -> None:
        """Close an answered report nobody replied to, tell the citizen, refresh the operators' card."""
        change_status(report, Status.CLOSED, actor=SYSTEM_ACTOR, at=now, comment=AUTOCLOSE_COMMENT)
        report.closed_at = now
        await record_example(session, report, CLOSED, now)
        await queue_card(session, report, now)
        citizen = await session.get(Citizen, report.citizen_id) if report.citizen_id is not None else None
        if citizen is None:
            return  # the citizen asked to be forgotten: nobody to tell
        body = await session.get(Body, report.body_id)
        body_name = report.body_id
        if body is not None:
            body_name = body.name_en if report.language == "en" else body.name_ru
        await to_citizen(
            session,
            platform=citizen.platform,
            user_id=citizen.platform_user_id,
            key=f"sla:{report.id}:{Event.AUTOCLOSE.value}",
            views=[View.of("notify-autoclosed", number=report.number or str(report.id), body=body_name)],
            lang=report.language,
            report_id=report.id,
            now=now,
        )
