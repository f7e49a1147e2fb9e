"""A report's life: its statuses, the one table of allowed moves between them, and its number."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from storage.models import Report, StatusChange

MAX_PHOTOS = 5
SYSTEM_ACTOR = "system"


class Status(StrEnum):
    NEW = "new"
    ROUTED = "routed"
    IN_PROGRESS = "in_progress"
    NEEDS_INFO = "needs_info"
    ANSWERED = "answered"
    CLOSED = "closed"
    TRANSFERRED = "transferred"
    REJECTED = "rejected"


# The only place that says which status may follow which (DESIGN: "A report's life").
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.ROUTED, Status.REJECTED}),
    Status.ROUTED: frozenset({Status.IN_PROGRESS, Status.TRANSFERRED, Status.REJECTED, Status.ANSWERED}),
    Status.IN_PROGRESS: frozenset({Status.NEEDS_INFO, Status.ANSWERED, Status.TRANSFERRED, Status.REJECTED}),
    Status.NEEDS_INFO: frozenset({Status.IN_PROGRESS, Status.ANSWERED, Status.TRANSFERRED, Status.REJECTED}),
    Status.ANSWERED: frozenset({Status.CLOSED, Status.IN_PROGRESS}),
    Status.TRANSFERRED: frozenset({Status.ROUTED}),
    Status.CLOSED: frozenset(),
    Status.REJECTED: frozenset(),
}
OPEN_STATUSES = frozenset(s for s in Status if s not in (Status.CLOSED, Status.REJECTED))


class IllegalTransition(Exception):
    """A status move the lifecycle does not allow."""

    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"a report in status {current!r} cannot move to {target!r}")
        self.current = current
        self.target = target


def check_transition(current: str, target: str) -> None:
    """Raise IllegalTransition unless `current` → `target` is allowed."""
    if Status(target) not in TRANSITIONS[Status(current)]:
        raise IllegalTransition(current, target)


def change_status(
    report: Report, target: Status, *, actor: str, at: datetime, comment: str | None = None
) -> StatusChange:
    """Move a report to `target` and write the history row; the caller's transaction commits both."""
    check_transition(report.status, target)
    change = StatusChange(actor=actor, at=at, from_status=report.status, to_status=target, comment=comment)
    report.status = target
    report.updated_at = at
    report.history.append(change)
    return change


def report_number(report_id: int, created_at: datetime) -> str:
    """Human-readable number: two-digit year and a zero-padded id, e.g. 26-000042."""
    return f"{created_at.year % 100:02d}-{report_id:06d}"
