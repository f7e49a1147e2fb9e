"""Retention: the bot purges drafts, seen update ids and finished outbox messages once they are past
their periods, and nothing a minute younger; messages still to be delivered are never purged."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from bot.app.wiring import App
from bot.core.clock import ManualClock
from bot.services.retention import RetentionPurge
from storage.db import Database
from storage.models import DialogStateRow, InboundUpdate, OutboxMessage
from tests.harness.settings import make_settings

MINUTE = timedelta(minutes=1)
DRAFTS, UPDATES, OUTBOX = timedelta(days=30), timedelta(days=14), timedelta(days=90)


def outbox_row(key: str, status: str, created_at: datetime, sent_at: datetime | None = None) -> OutboxMessage:
    return OutboxMessage(
        idempotency_key=key,
        platform="tg",
        kind="citizen",
        target="1001",
        payload={"lang": "ru", "views": []},
        status=status,
        next_attempt_at=created_at,
        created_at=created_at,
        sent_at=sent_at,
    )


def inbound_row(
    key: str, status: str, received: datetime, finished_at: datetime | None = None
) -> InboundUpdate:
    return InboundUpdate(
        key=key,
        platform="tg",
        conversation=key,
        seq=0,
        payload={},
        status=status,
        attempts=0,
        next_attempt_at=received,
        received_at=received,
        finished_at=finished_at,
    )


async def remaining(app: App) -> dict[str, set[str]]:
    async with app.db.session() as session:
        return {
            "drafts": set(await session.scalars(select(DialogStateRow.key))),
            "updates": set(await session.scalars(select(InboundUpdate.key))),
            "outbox": set(await session.scalars(select(OutboxMessage.idempotency_key))),
        }


async def test_each_kind_goes_exactly_when_past_its_period(
    database_url: str, app_factory: Any, clock: ManualClock
) -> None:
    app: App = await app_factory(database_url)
    now = clock.now()
    ages = {"inside": -MINUTE, "past": MINUTE}
    ancient = now - timedelta(days=400)
    async with app.db.session() as session:
        for name, delta in ages.items():
            session.add(
                DialogStateRow(key=f"tg:{name}", payload={"step": "i.text"}, updated_at=now - DRAFTS - delta)
            )
            session.add(inbound_row(f"tg:update:{name}", "done", ancient, finished_at=now - UPDATES - delta))
            session.add(outbox_row(f"sent-{name}", "sent", ancient, sent_at=now - OUTBOX - delta))
            session.add(outbox_row(f"dead-{name}", "dead", now - OUTBOX - delta))
            session.add(outbox_row(f"cancelled-{name}", "cancelled", now - OUTBOX - delta))
        # Still to be processed, however old: an update waiting for storage that was away.
        session.add(inbound_row("tg:update:pending-old", "pending", ancient))
        # Still to be delivered, however old: a notice paused for months, a message stuck in retries.
        session.add(outbox_row("pending-old", "pending", ancient))
        session.add(outbox_row("paused-old", "paused", ancient))
    purge = RetentionPurge.from_settings(app.db, clock, app.settings)

    assert await purge.run_once() == {"drafts": 1, "updates": 1, "outbox": 3, "examples": 0}
    assert await remaining(app) == {
        "drafts": {"tg:inside"},
        "updates": {"tg:update:inside", "tg:update:pending-old"},
        "outbox": {"sent-inside", "dead-inside", "cancelled-inside", "pending-old", "paused-old"},
    }
    # Nothing more is due until the clock moves.
    assert await purge.run_once() == {"drafts": 0, "updates": 0, "outbox": 0, "examples": 0}
    clock.advance(2 * MINUTE)
    assert await purge.run_once() == {"drafts": 1, "updates": 1, "outbox": 3, "examples": 0}
    assert await remaining(app) == {
        "drafts": set(),
        "updates": {"tg:update:pending-old"},
        "outbox": {"pending-old", "paused-old"},
    }


async def test_periods_come_from_settings(sqlite_url: str, app_factory: Any, clock: ManualClock) -> None:
    app: App = await app_factory(sqlite_url, retention_drafts_days=1, retention_outbox_days=2)
    now = clock.now()
    async with app.db.session() as session:
        session.add(DialogStateRow(key="tg:1", payload={}, updated_at=now - timedelta(days=1, minutes=1)))
        session.add(
            outbox_row("sent", "sent", now - timedelta(days=3), sent_at=now - timedelta(days=2, minutes=1))
        )
        session.add(inbound_row("tg:update:1", "done", now - timedelta(days=13), finished_at=now))
    purge = RetentionPurge.from_settings(app.db, clock, app.settings)
    assert await purge.run_once() == {"drafts": 1, "updates": 0, "outbox": 1, "examples": 0}


def test_update_ids_are_kept_at_least_a_week(sqlite_url: str, clock: ManualClock) -> None:
    assert make_settings(sqlite_url).retention_updates_days == 14
    with pytest.raises(ValidationError, match="greater than or equal to 7"):
        make_settings(sqlite_url, retention_updates_days=6)
    with pytest.raises(ValueError, match="at least 7 days"):
        RetentionPurge(
            Database(sqlite_url),
            clock,
            drafts=DRAFTS,
            updates=timedelta(days=6),
            outbox=OUTBOX,
        )


async def test_loop_outlives_an_unavailable_database(
    tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    # A database file in a directory that does not exist: every pass fails to connect.
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'tsur.sqlite3'}")
    purge = RetentionPurge(db, clock, drafts=DRAFTS, updates=UPDATES, outbox=OUTBOX)
    stop = asyncio.Event()
    with caplog.at_level(logging.WARNING, logger="bot.services.retention"):
        task = asyncio.create_task(purge.run(stop, interval=0.01))
        # Bounded wait for two failed passes (a loaded machine may take a while for each).
        for _ in range(500):
            if caplog.text.count("retention pass failed, retrying") >= 2:
                break
            await asyncio.sleep(0.02)
        assert not task.done()
        stop.set()
        await asyncio.wait_for(task, timeout=5)
    await db.dispose()
    assert caplog.text.count("retention pass failed, retrying") >= 2


def test_purge_command_prints_the_counts(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'tsur.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "purge"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["drafts\t0", "updates\t0", "outbox\t0", "examples\t0"]
