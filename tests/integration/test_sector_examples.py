"""Operators teach the classifier: a transfer and the sector at closing are kept as labelled
examples, masked, a few per citizen, erased on /forget and after their retention period."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app.wiring import App
from bot.core.clock import ManualClock
from bot.services.chats import bind_chat
from bot.services.reports.access import Actor
from bot.services.reports.sector_examples import MAX_PER_CITIZEN
from bot.services.retention import RetentionPurge
from bot.services.staff.roles import Principal
from storage.models import SectorExample
from tests.harness.chat import Chat
from tests.harness.filing import file_directly

OPS_CHAT = -100_1
TSUR_CHAT = -100_2
TEXT = "Иванов Пётр Сергеевич пишет: на остановке у дома 5 яма, звоните +7 912 000-00-01, ivanov@example.ru"
OPERATOR = Actor("700", "Ольга", TSUR_CHAT)
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def app(database_url: str, app_factory: Any) -> App:
    built: App = await app_factory(database_url)
    await bind_chat(built.db, built.services.catalog.route("housing", "ekaterinburg"), OPS_CHAT, "tg:1")
    await bind_chat(built.db, "tsur", TSUR_CHAT, "tg:1")
    # The ЦУР chat is strict: its registered operators act on every report.
    await built.staff.add(Principal.shell(), OPERATOR.platform_user_id, "operator", "tsur")
    return built


async def file(app: App, user_id: str, n: int) -> tuple[int, int]:
    return await file_directly(app, user_id, TEXT, key=f"key-{user_id}-{n}")


async def examples(app: App) -> list[SectorExample]:
    async with app.db.session() as session:
        return list(await session.scalars(select(SectorExample).order_by(SectorExample.id)))


async def test_a_transfer_is_kept_masked_and_closing_confirms_it(app: App) -> None:
    report_id, _ = await file(app, "1001", 1)
    assert await examples(app) == []  # the citizen's own pick is no label
    await app.actions.transfer(report_id, OPERATOR, "roads")
    [example] = await examples(app)
    assert (example.report_id, example.sector_id, example.source) == (report_id, "roads", "transfer")
    assert example.citizen_sector == "housing"  # kept beside the label for the bench, not trained on
    for personal in ("Иванов", "Пётр", "Сергеевич", "912", "ivanov@example.ru"):
        assert personal not in example.text
    assert "яма" in example.text and "остановке" in example.text

    await app.actions.answer(report_id, OPERATOR, "Яму заделали")
    await Chat(app, user_id="1001").press_id(f"fb:yes:{report_id}")
    [closed] = await examples(app)
    assert (closed.id, closed.sector_id, closed.source) == (example.id, "roads", "closed")


async def test_a_citizen_gives_a_few_examples_at_most_and_none_after_forget(app: App) -> None:
    reports = [await file(app, "2002", n) for n in range(MAX_PER_CITIZEN + 2)]
    for report_id, _ in reports:
        await app.actions.transfer(report_id, OPERATOR, "roads")
    assert len(await examples(app)) == MAX_PER_CITIZEN
    other_id, _ = await file(app, "3003", 1)
    await app.actions.transfer(other_id, OPERATOR, "waste")
    assert len(await examples(app)) == MAX_PER_CITIZEN + 1

    await app.services.citizens.forget(reports[0][1])
    assert [e.report_id for e in await examples(app)] == [other_id]


async def test_examples_go_after_their_retention_period(app: App, clock: ManualClock) -> None:
    report_id, _ = await file(app, "4004", 1)
    await app.actions.transfer(report_id, OPERATOR, "roads")
    purge = RetentionPurge(
        app.db,
        clock,
        drafts=timedelta(days=30),
        updates=timedelta(days=14),
        outbox=timedelta(days=90),
        examples=timedelta(days=365),
    )
    assert (await purge.run_once())["examples"] == 0
    clock.advance(timedelta(days=366))
    assert (await purge.run_once())["examples"] == 1
    assert await examples(app) == []


async def test_the_bench_shows_citizens_picks_beside_operators_labels(app: App, database_url: str) -> None:
    moved, _ = await file(app, "5005", 1)  # filed by the citizen under housing
    await app.actions.transfer(moved, OPERATOR, "roads")
    kept, _ = await file(app, "6006", 1)
    await app.actions.answer(kept, OPERATOR, "Отремонтировали")
    await Chat(app, user_id="6006").press_id(f"fb:yes:{kept}")

    bench = await asyncio.create_subprocess_exec(
        sys.executable,
        str(REPO_ROOT / "bench" / "classify.py"),
        "--corrections",
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(bench.communicate(), timeout=300)
    printed = out.decode()
    assert bench.returncode == 0
    assert "corrections: 2 operators' labels" in printed
    assert "citizen's own pick at filing    agreed with the operator in 1 of 2 (0.500)" in printed
    assert "citizens' wrong picks (picked -> operator): housing->roads 1" in printed
    assert "== corrections.csv: 2 texts" in printed
