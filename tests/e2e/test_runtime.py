"""`python -m bot run` as a real process: polls a local Bot API server, answers, serves /healthz,
and stops cleanly on SIGINT."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp

from bot.config import PROJECT_ROOT
from tests.fakes.telegram_api import FakeTelegramServer


async def test_run_polls_answers_and_stops(tmp_path: Path, unused_tcp_port: int) -> None:
    async with FakeTelegramServer() as server:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": server.token,
            "TELEGRAM_API_URL": server.base_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.sqlite3'}",
            "WEB_HOST": "127.0.0.1",
            "WEB_PORT": str(unused_tcp_port),
            "PYTHONPATH": str(PROJECT_ROOT),
        }
        env.pop("REDIS_URL", None)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path
        )
        try:
            await server.wait_for(lambda call: call.method == "getUpdates", timeout=30)
            user = server.user(42)
            await user.send_command("/start")
            replies = await user.replies(timeout=10)
            assert any("персональных данных" in (m.text or "") for m in replies)
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://127.0.0.1:{unused_tcp_port}/healthz") as response,
            ):
                assert response.status == 200
                assert (await response.json())["status"] == "ok"
            assert {"setMyCommands", "deleteWebhook"} <= {c.method for c in server.calls}
        finally:
            process.send_signal(signal.SIGINT)
            code = await asyncio.wait_for(process.wait(), 20)
        assert code == 0
