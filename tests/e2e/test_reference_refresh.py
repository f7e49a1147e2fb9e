"""Routing edited through one process is read by another: the shell's `python -m bot route` changes
where ЖКХ reports from Yekaterinburg go, and the running bot routes the next one there. The same
webhook process answers each of a citizen's button presses once, in the webhook's own response."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from sqlalchemy import select

from bot.sandbox.telegram import FakeTelegramServer
from storage.db import Database
from storage.models import AuditEvent, Report
from tests.harness.fleet import PROJECT_ROOT, WEBHOOK_SECRET, BotProcess, bot_env, fleet, free_port
from tests.harness.reports import file_report


async def _bodies_of_reports(url: str) -> list[str]:
    db = Database(url)
    try:
        async with db.session() as session:
            return list(await session.scalars(select(Report.body_id).order_by(Report.id)))
    finally:
        await db.dispose()


async def _shell(env: dict[str, str], *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        cwd=PROJECT_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


async def test_a_route_changed_from_the_shell_reaches_the_running_bot(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'tsur.sqlite3'}"
    async with FakeTelegramServer() as server:
        env = bot_env(url, server.token, server.base_url, REFERENCE_REFRESH_SECONDS="0.2")
        bot = BotProcess(env, ("--webhook",), free_port(), tmp_path, tmp_path / "bot.log")
        async with fleet(bot):
            server.deliver_via_webhook(bot.webhook_url, WEBHOOK_SECRET)
            await file_report(server.user(801), photos=0)
            assert await _bodies_of_reports(url) == ["adm-ekaterinburg"]
            # Consent, report, no photos, ЖКХ, confirm: five presses, each answered once, on receipt.
            answers = server.calls_of("answerCallbackQuery")
            assert len(answers) == 5
            assert all(call.via_webhook_reply for call in answers)
            assert len({call.params["callback_query_id"] for call in answers}) == 5

            code, said = await _shell(env, "route", "housing", "ekaterinburg", "min-energy-housing")
            assert code == 0, said
            assert "adm-ekaterinburg -> min-energy-housing" in said
            await asyncio.sleep(1.0)  # five refresh periods of the bot

            await file_report(server.user(802), photos=0)
            assert await _bodies_of_reports(url) == ["adm-ekaterinburg", "min-energy-housing"]

    db = Database(url)
    try:
        async with db.session() as session:
            audit = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "route_set"))).one()
        assert (audit.actor, audit.subject) == ("cli", "housing:ekaterinburg")
    finally:
        await db.dispose()


async def test_a_route_to_an_unknown_body_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'tsur.sqlite3'}"
    env = bot_env(url, "1:unused", "http://127.0.0.1:9")
    code, said = await _shell(env, "route", "housing", "ekaterinburg", "no-such-body")
    assert code == 2
    assert "unknown body 'no-such-body'" in said
    code, said = await _shell(env, "bodies")
    assert code == 0
    assert "adm-ekaterinburg\tmunicipal\t" in said and "housing" in said
