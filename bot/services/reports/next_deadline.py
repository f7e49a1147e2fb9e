"""The next moment the SLA scheduler will do something: a reminder, a deadline (overdue notice and the
block head), the curator, or the automatic closing of an answered report.

The training sandbox jumps its clock there («⏭ к следующему сроку»), so a trainee sees the working-hours
calendar's deadlines in minutes. The moments are derived from the same rules as `sla.due_events`: a
reminder fires once the deadline lies within `remind_before_hours` working hours, which has no closed
form across evenings and weekends, so it is found by bisection over `WorkCalendar.add_working_hours`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.services.reports import queries
from bot.services.reports.deadlines import WorkCalendar
from bot.services.reports.lifecycle import OPEN_STATUSES, Status
from bot.services.reports.sla import Event, SlaPolicy, answer_pending, first_reaction_pending, overdue_since
from storage.db import Database
from storage.models import Report

# Bisection stops when the window is this narrow: the scheduler ticks far less often anyway.
_PRECISION = timedelta(seconds=1)
DEFAULT_POLICY = SlaPolicy()


@dataclass(frozen=True, order=True)
class Upcoming:
    """One future SLA event of one report."""

    at: datetime
    report_id: int
    event: Event


def reminder_moment(due: datetime, now: datetime, calendar: WorkCalendar, hours: float) -> datetime:
    """The earliest moment ≥ `now` at which `due` lies within `hours` working hours (the reminder).

    `add_working_hours` never decreases as its start moves on, so the set of moments that see the
    deadline within the horizon is a half-line; bisection finds its start to a second.
    """
    if calendar.add_working_hours(now, hours) >= due:
        return now
    low, high = now, due  # at `due` itself the horizon is past the deadline
    while high - low > _PRECISION:
        middle = low + (high - low) / 2
        if calendar.add_working_hours(middle, hours) >= due:
            high = middle
        else:
            low = middle
    # Deadlines and office hours fall on whole seconds: so does the reminder, when the second holds.
    whole = high.replace(microsecond=0)
    return whole if whole > low and calendar.add_working_hours(whole, hours) >= due else high


def upcoming_events(
    report: Report,
    fired: Mapping[str, datetime],
    now: datetime,
    calendar: WorkCalendar,
    policy: SlaPolicy,
) -> list[Upcoming]:
    """The SLA events of `report` still to come after `now`, each at the moment it becomes due."""
    if Status(report.status) not in OPEN_STATUSES:
        return []
    found: list[Upcoming] = []

    def add(at: datetime, event: Event) -> None:
        if at > now and event not in fired:
            found.append(Upcoming(at, report.id, event))

    deadlines = (
        (first_reaction_pending(report), report.first_reaction_due, Event.REMIND_FIRST, Event.OVERDUE_FIRST),
        (answer_pending(report), report.answer_due, Event.REMIND_ANSWER, Event.OVERDUE_ANSWER),
    )
    for pending, due, remind, overdue in deadlines:
        if not pending or due <= now:
            continue
        # A reminder is never sent once the deadline has passed (see due_events), so it only counts
        # while it comes before the deadline.
        remind_at = reminder_moment(due, now, calendar, policy.remind_before_hours)
        if remind_at < due:
            add(remind_at, remind)
        add(due, overdue)
        add(due, Event.HEAD)
    late_since = overdue_since(report, now)
    head_at = fired.get(Event.HEAD)
    if late_since is not None:
        base = max(head_at or now, late_since)
        add(calendar.add_working_hours(base, policy.curator_after_hours), Event.CURATOR)
    if report.status == Status.ANSWERED and report.answered_at is not None:
        add(report.answered_at + timedelta(days=policy.autoclose_days), Event.AUTOCLOSE)
    return sorted(found)


async def next_deadline(
    db: Database, now: datetime, calendar: WorkCalendar, policy: SlaPolicy = DEFAULT_POLICY
) -> Upcoming | None:
    """The earliest SLA event still to come over all open reports, or None when nothing is pending."""
    where = Report.status.in_([s.value for s in OPEN_STATUSES])
    async with db.session() as session:
        reports, fired = await queries.with_fired_events(session, where)
    events = [
        event
        for report in reports
        for event in upcoming_events(report, fired.get(report.id, {}), now, calendar, policy)
    ]
    return min(events, default=None)
