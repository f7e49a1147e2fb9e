"""Retention: data kept only as long as it serves its purpose (152-ФЗ art. 5), purged by the bot.

- dialog drafts in the SQL state store (`dialog_states`): a draft idle past the period is gone;
  Redis-held drafts expire on their own (TTL);
- inbound updates (`inbound_updates`) once processed: the key of a processed one (its payload is
  emptied at once), and a failed one with its payload. Telegram and VK redeliver for up to a day,
  so the period is at least 7 days (Settings refuses less); updates still queued are never touched;
- outbox rows that are finished (sent, dead, cancelled): their payloads repeat what citizens were
  told. Pending and paused rows are never touched, however old: they are still to be delivered.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import delete, func

from bot.core.clock import Clock, SystemClock
from bot.core.config import Settings
from bot.services.periodic import every
from storage.db import Database, migrate
from storage.models import DialogStateRow, InboundUpdate, OutboxMessage, SectorExample

log = logging.getLogger(__name__)

DRAFTS = "drafts"
UPDATES = "updates"
OUTBOX = "outbox"
EXAMPLES = "examples"
FINISHED_STATUSES = ("sent", "dead", "cancelled")
# Processed updates keep only their key; ones that failed for good keep their payload until here.
FINISHED_UPDATES = ("done", "dead")
# Updates are redelivered for about a day; a shorter memory would handle a redelivery twice.
MIN_UPDATES_PERIOD = timedelta(days=7)
HOUR = 3600.0


class RetentionPurge:
    """Deletes what is past its retention period; one pass is one transaction."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        drafts: timedelta,
        updates: timedelta,
        outbox: timedelta,
        examples: timedelta = timedelta(days=365),
    ) -> None:
        if updates < MIN_UPDATES_PERIOD:
            raise ValueError(f"processed updates must be kept at least {MIN_UPDATES_PERIOD.days} days")
        self._db = db
        self._clock = clock
        self._drafts = drafts
        self._updates = updates
        self._outbox = outbox
        self._examples = examples

    @classmethod
    def from_settings(cls, db: Database, clock: Clock, settings: Settings) -> RetentionPurge:
        return cls(
            db,
            clock,
            drafts=timedelta(days=settings.retention_drafts_days),
            updates=timedelta(days=settings.retention_updates_days),
            outbox=timedelta(days=settings.retention_outbox_days),
            examples=timedelta(days=settings.retention_examples_days),
        )

    async def run_once(self) -> dict[str, int]:
        """Delete every row past its period; how many of each kind went."""
        now = self._clock.now()
        finished_at = func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at)
        statements = {
            DRAFTS: delete(DialogStateRow).where(DialogStateRow.updated_at < now - self._drafts),
            UPDATES: delete(InboundUpdate).where(
                InboundUpdate.status.in_(FINISHED_UPDATES), InboundUpdate.finished_at < now - self._updates
            ),
            OUTBOX: delete(OutboxMessage).where(
                OutboxMessage.status.in_(FINISHED_STATUSES), finished_at < now - self._outbox
            ),
            EXAMPLES: delete(SectorExample).where(SectorExample.created_at < now - self._examples),
        }
        counts: dict[str, int] = {}
        async with self._db.session() as session:
            for kind, statement in statements.items():
                result = await session.execute(statement.execution_options(synchronize_session=False))
                counts[kind] = int(getattr(result, "rowcount", 0) or 0)
        return counts

    async def run(self, stop: asyncio.Event, interval: float = HOUR) -> None:
        """Purge every `interval` seconds until `stop` is set; a database away is waited out."""

        async def one_pass() -> None:
            counts = await self.run_once()
            if any(counts.values()):
                log.info("retention: purged %s", counts)

        await every(interval, stop, one_pass, log, "retention")


async def run_purge_command(settings: Settings) -> int:
    """`python -m bot purge`: one pass, printing what was removed."""
    db = Database(settings.database_url)
    try:
        await migrate(db)
        counts = await RetentionPurge.from_settings(db, SystemClock(), settings).run_once()
    finally:
        await db.dispose()
    for kind, count in counts.items():
        print(f"{kind}\t{count}")
    return 0
