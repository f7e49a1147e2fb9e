"""Recording what messengers reported: sent, retry later (with backoff), or dead; and giving rows back."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.redaction import redact
from bot.delivery.outbox import (
    DEAD,
    DONE_PARTS,
    ERASE_WHEN_SENT,
    ERROR_LIMIT,
    FORGOTTEN_TARGET,
    MAX_BACKOFF_SECONDS,
    PENDING,
    SENT,
    UNREACHABLE,
    Kind,
    recipient_id,
)
from bot.delivery.ports import Delivery, Failed, OnUnreachable, Outcome, RetryAfter, Sent, Unreachable
from storage.db import Database
from storage.models import Citizen, OutboxMessage, Report

log = logging.getLogger(__name__)


class OutcomeRecorder:
    """Stores outcomes in the outbox rows; a citizen who cannot be reached is marked so."""

    def __init__(
        self, db: Database, clock: Clock, max_attempts: int, on_unreachable: OnUnreachable | None
    ) -> None:
        self._db = db
        self._clock = clock
        self._max_attempts = max_attempts
        self._on_unreachable = on_unreachable

    async def record(self, results: list[tuple[Delivery, Outcome]]) -> None:
        """Store what the messengers reported, in one transaction."""
        if not results:
            return
        now = self._clock.now()
        async with self._db.session() as session:
            sent = [delivery.id for delivery, outcome in results if isinstance(outcome, Sent)]
            for start in range(0, len(sent), 500):
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(sent[start : start + 500]))
                    .values(status=SENT, sent_at=now, attempts=OutboxMessage.attempts + 1, last_error=None)
                )
            # A message to someone the bot keeps nothing about (no consent yet, or just forgotten)
            # leaves no address or words behind once it is out.
            ephemeral = [
                delivery.id
                for delivery, outcome in results
                if isinstance(outcome, Sent) and delivery.payload.get(ERASE_WHEN_SENT)
            ]
            if ephemeral:
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(ephemeral))
                    .values(target=FORGOTTEN_TARGET, payload={})
                )
            for delivery, outcome in results:
                if not isinstance(outcome, Sent):
                    await self._record_problem(session, delivery, outcome, now)

    async def _record_problem(
        self, session: AsyncSession, delivery: Delivery, outcome: Outcome, now: datetime
    ) -> None:
        row = await session.get(OutboxMessage, delivery.id)
        if row is None:
            return  # its report was deleted meanwhile (cascade)
        if isinstance(outcome, RetryAfter):
            row.next_attempt_at = now + timedelta(seconds=max(outcome.seconds, 0.0))
            row.last_error = f"retry after {outcome.seconds:g} s"
            self._keep_progress(row, outcome.done_parts)
        elif isinstance(outcome, Failed):
            row.attempts += 1
            row.last_error = redact(outcome.error)[:ERROR_LIMIT]
            self._keep_progress(row, outcome.done_parts)
            if row.attempts >= self._max_attempts:
                row.status = DEAD
                log.warning("outbox: message %s dead after %s attempts: %s", row.id, row.attempts, outcome)
            else:
                backoff = min(2.0**row.attempts, MAX_BACKOFF_SECONDS)
                row.next_attempt_at = now + timedelta(seconds=backoff)
        elif isinstance(outcome, Unreachable):
            row.status = DEAD
            row.attempts += 1
            row.last_error = f"{UNREACHABLE}: {redact(outcome.reason)}"[:ERROR_LIMIT]
            if delivery.kind is Kind.CITIZEN:
                await self._citizen_unreachable(session, delivery, now)

    @staticmethod
    def _keep_progress(row: OutboxMessage, done_parts: int) -> None:
        if done_parts > int(row.payload.get(DONE_PARTS, 0)):
            # A new dict: SQLAlchemy does not notice in-place changes of a JSON value.
            row.payload = {**row.payload, DONE_PARTS: done_parts}

    async def _citizen_unreachable(self, session: AsyncSession, delivery: Delivery, now: datetime) -> None:
        citizen: Citizen | None = None
        if delivery.report_id is not None:
            report = await session.get(Report, delivery.report_id)
            if report is not None and report.citizen_id is not None:
                citizen = await session.get(Citizen, report.citizen_id)
        if citizen is None:
            citizen = await session.scalar(
                select(Citizen).where(
                    Citizen.platform == delivery.platform,
                    Citizen.platform_user_id == recipient_id(delivery.platform, delivery.target),
                )
            )
        if citizen is not None and citizen.unreachable_at is None:
            citizen.unreachable_at = now
        if self._on_unreachable is not None:
            await self._on_unreachable(session, delivery, now)

    async def release(self, ids: list[int], lease_until: datetime) -> None:
        """Give back rows this pass leased but did not send, so they are due again at once."""
        async with self._db.session() as session:
            await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_(ids),
                    OutboxMessage.status == PENDING,
                    OutboxMessage.next_attempt_at == lease_until,
                )
                .values(next_attempt_at=self._clock.now())
            )
