"""The trainee's score card, computed from what the database recorded about the scenario's reports:
their history (status changes with actor and time), the operators' audited actions, the SLA events,
the answers' texts and the citizens' ratings.

Rules, so the figures can be checked by hand:
- Deadlines are those of the sector the report truly belongs to (the scenario says which), counted
  from filing on the working-day calendar, as the bot counts them.
- First reaction: the first operator action on the report (take, clarify, answer, transfer, reject,
  a message to the citizen). Answer: the first answer or rejection. On time: at or before the
  deadline; late: after it, or not done by now with the deadline passed; pending: not yet due.
- A wrong-sector transfer moves the report to a sector other than the one it belongs to.
- An unanswered clarification: the citizen replied to a clarification request and no operator did
  anything with the report afterwards.
- An answer that says nothing: see `bot.sandbox.training.answers`.
- Score: per report one point each for a first reaction on time, an answer on time and an answer
  that says something; minus one per wrong transfer and per unanswered clarification; as a share of
  the most points possible (0–100).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from bot.sandbox.training.answers import says_nothing
from bot.sandbox.training.scenarios import ScriptedCitizen
from bot.services.catalog import Catalog
from bot.services.reports.deadlines import WorkCalendar, due_dates
from bot.services.reports.lifecycle import Status
from bot.services.reports.sla import Event
from bot.services.staff.audit import AuditAction
from storage.db import Database
from storage.models import AuditEvent, Report, SlaEvent, StatusChange

POINTS_PER_REPORT = 3
ESCALATIONS = (Event.HEAD.value, Event.CURATOR.value)
OVERDUE = (Event.OVERDUE_FIRST.value, Event.OVERDUE_ANSWER.value)


@dataclass(frozen=True)
class ReportScore:
    """One scripted citizen's report as the trainee worked it (minutes are scenario minutes)."""

    key: str
    citizen: str
    platform: str
    language: str
    number: str
    sector: str  # where it belongs
    final_sector: str
    status: str
    filed_at: str
    first_reaction_minutes: int | None
    first_reaction_due_minutes: int
    first_reaction_on_time: bool | None  # None: not done, not yet due
    answer_minutes: int | None
    answer_due_minutes: int
    answer_on_time: bool | None
    transfers: list[str]
    wrong_transfers: int
    clarifications: int
    unanswered_clarifications: int
    answers: int
    vague_answers: int
    solved: bool | None
    rating: int | None
    overdue_events: int
    escalations: int
    rude: bool
    duplicate_of: str | None


@dataclass(frozen=True)
class ScoreCard:
    """What the page shows at the end of a scenario and what `--report` prints."""

    scenario: str
    trainee: str
    started_at: str
    at: str
    reports: list[ReportScore] = field(default_factory=list)
    waiting: int = 0  # scripted citizens who have not filed yet
    first_on_time: int = 0
    first_late: int = 0
    answers_on_time: int = 0
    answers_late: int = 0
    wrong_transfers: int = 0
    unanswered_clarifications: int = 0
    vague_answers: int = 0
    ratings: int = 0
    average_rating: float | None = None
    solved: int = 0
    not_solved: int = 0
    escalations: int = 0
    score: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (the page and the score store use it)."""
        return asdict(self)


def _minutes(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds() // 60)


def _on_time(done: datetime | None, due: datetime, now: datetime) -> bool | None:
    if done is not None:
        return done <= due
    return False if now > due else None


def _is_operator(actor: str) -> bool:
    return actor.startswith("operator:")


def score_report(
    script: ScriptedCitizen,
    report: Report,
    history: list[StatusChange],
    actions: list[AuditEvent],
    sla_kinds: list[str],
    catalog: Catalog,
    calendar: WorkCalendar,
    now: datetime,
) -> ReportScore:
    """The score of one report from its rows (history and actions in time order)."""
    sector = catalog.sector(script.sector)
    filed = report.created_at
    due = due_dates(filed, sector.first_reaction_hours, sector.answer_days, calendar)
    first = min((a.at for a in actions), default=None)
    closing = [c for c in history if c.to_status in (Status.ANSWERED, Status.REJECTED)]
    answered = closing[0].at if closing else None
    transfers = [c.comment or "" for c in history if c.to_status == Status.TRANSFERRED]
    replies = [
        c
        for c in history
        if c.from_status == Status.NEEDS_INFO
        and c.to_status == Status.IN_PROGRESS
        and c.actor.startswith("citizen:")
    ]
    unanswered = sum(1 for reply in replies if not any(a.at >= reply.at for a in actions))
    answers = [c.comment or "" for c in history if c.to_status == Status.ANSWERED and _is_operator(c.actor)]
    feedback = [c for c in history if c.from_status == Status.ANSWERED and c.actor.startswith("citizen:")]
    return ReportScore(
        key=script.key,
        citizen=script.name,
        platform=script.platform,
        language=script.language,
        number=report.number or str(report.id),
        sector=script.sector,
        final_sector=report.sector_id,
        status=report.status,
        filed_at=filed.isoformat(),
        first_reaction_minutes=None if first is None else _minutes(filed, first),
        first_reaction_due_minutes=_minutes(filed, due.first_reaction),
        first_reaction_on_time=_on_time(first, due.first_reaction, now),
        answer_minutes=None if answered is None else _minutes(filed, answered),
        answer_due_minutes=_minutes(filed, due.answer),
        answer_on_time=_on_time(answered, due.answer, now),
        transfers=transfers,
        wrong_transfers=sum(1 for target in transfers if target != script.sector),
        clarifications=sum(1 for c in history if c.to_status == Status.NEEDS_INFO),
        unanswered_clarifications=unanswered,
        answers=len(answers),
        vague_answers=sum(1 for text in answers if says_nothing(text)),
        solved=None if not feedback else feedback[-1].to_status == Status.CLOSED,
        rating=report.rating,
        overdue_events=sum(1 for kind in sla_kinds if kind in OVERDUE),
        escalations=sum(1 for kind in sla_kinds if kind in ESCALATIONS),
        rude=script.rude,
        duplicate_of=script.duplicate_of,
    )


def total(
    scenario: str, trainee: str, started: datetime, now: datetime, reports: list[ReportScore], waiting: int
) -> ScoreCard:
    """The card's totals and score over the reports' scores."""
    ratings = [r.rating for r in reports if r.rating is not None]
    points = sum(
        (r.first_reaction_on_time is True)
        + (r.answer_on_time is True)
        + ((r.answers > 0 and r.vague_answers == 0) or r.status == Status.REJECTED)
        - r.wrong_transfers
        - r.unanswered_clarifications
        for r in reports
    )
    possible = POINTS_PER_REPORT * len(reports)
    return ScoreCard(
        scenario=scenario,
        trainee=trainee,
        started_at=started.isoformat(),
        at=now.isoformat(),
        reports=reports,
        waiting=waiting,
        first_on_time=sum(1 for r in reports if r.first_reaction_on_time is True),
        first_late=sum(1 for r in reports if r.first_reaction_on_time is False),
        answers_on_time=sum(1 for r in reports if r.answer_on_time is True),
        answers_late=sum(1 for r in reports if r.answer_on_time is False),
        wrong_transfers=sum(r.wrong_transfers for r in reports),
        unanswered_clarifications=sum(r.unanswered_clarifications for r in reports),
        vague_answers=sum(r.vague_answers for r in reports),
        ratings=len(ratings),
        average_rating=round(sum(ratings) / len(ratings), 2) if ratings else None,
        solved=sum(1 for r in reports if r.solved is True),
        not_solved=sum(1 for r in reports if r.solved is False),
        escalations=sum(r.escalations for r in reports),
        score=round(100 * max(points, 0) / possible) if possible else 0,
    )


async def score_card(
    db: Database,
    catalog: Catalog,
    calendar: WorkCalendar,
    *,
    scenario: str,
    trainee: str,
    started: datetime,
    now: datetime,
    filed: Mapping[int, ScriptedCitizen],
    waiting: int,
) -> ScoreCard:
    """The card over the reports `filed` (report id → its scripted citizen), read at `now`."""
    ids = list(filed)
    async with db.session() as session:
        reports = {r.id: r for r in await session.scalars(select(Report).where(Report.id.in_(ids)))}
        history = list(
            await session.scalars(
                select(StatusChange).where(StatusChange.report_id.in_(ids)).order_by(StatusChange.id)
            )
        )
        actions = list(
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.report_id.in_(ids), AuditEvent.action == AuditAction.REPORT_ACTION.value)
                .order_by(AuditEvent.at)
            )
        )
        events = list(
            await session.execute(
                select(SlaEvent.report_id, SlaEvent.kind).where(SlaEvent.report_id.in_(ids))
            )
        )
    scores = [
        score_report(
            filed[report_id],
            reports[report_id],
            [c for c in history if c.report_id == report_id],
            [a for a in actions if a.report_id == report_id],
            [kind for rid, kind in events if rid == report_id],
            catalog,
            calendar,
            now,
        )
        for report_id in ids
        if report_id in reports
    ]
    return total(scenario, trainee, started, now, scores, waiting)
