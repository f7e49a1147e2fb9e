"""`python -m bot run` as a real process: polls a local Bot API server, answers, serves /healthz,
and stops cleanly on SIGINT; without a token it exits 2 with one line."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp

from bot.core.config import PROJECT_ROOT
from bot.sandbox.telegram import FakeTelegramServer
from bot.sandbox.vk import FakeVkServer
from tests.harness.pipeline import eventually


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
            # Listening once its first long poll (25 s, as against Telegram) has reached the server.
            await eventually(lambda: any(c.method == "getUpdates" for c in server.calls), within=30)
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
            # Citizens see their commands, staff groups theirs, in Russian and English.
            menus = {key: [c["command"] for c in commands] for key, commands in server.commands.items()}
            citizen = ["report", "my", "notices", "link", "language", "help", "policy", "forget", "cancel"]
            assert menus[("default", "")] == menus[("default", "en")] == citizen
            assert menus[("all_group_chats", "")] == ["notice", "cancel", "bind", "unbind", "comms", "strict"]
            described = {c["description"] for c in server.commands[("default", "en")]}
            assert "My reports" in described and "Notices and subscriptions" in described
        finally:
            process.send_signal(signal.SIGINT)
            code = await asyncio.wait_for(process.wait(), 20)
        assert code == 0


async def test_run_with_only_vk_long_polls_and_answers(tmp_path: Path, unused_tcp_port: int) -> None:
    async with FakeVkServer() as server:
        env = {
            **os.environ,
            "VK_BOT_TOKEN": server.token,
            "VK_API_URL": server.base_url,
            "VK_STATE_DIR": str(tmp_path / "vk-state"),
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.sqlite3'}",
            "WEB_HOST": "127.0.0.1",
            "WEB_PORT": str(unused_tcp_port),
            "PYTHONPATH": str(PROJECT_ROOT),
        }
        for name in ("REDIS_URL", "TELEGRAM_BOT_TOKEN"):
            env.pop(name, None)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path
        )
        try:
            for _ in range(300):
                if any(call.method == "groups.getLongPollServer" for call in server.requests):
                    break
                await asyncio.sleep(0.1)
            user = server.user(7042)
            await user.send_command("/start")
            replies = await user.replies(timeout=10)
            assert any("персональных данных" in m.text for m in replies)
        finally:
            process.send_signal(signal.SIGINT)
            code = await asyncio.wait_for(process.wait(), 20)
        assert code == 0
        # The long-poll position is kept where configured, not in the working directory.
        assert (tmp_path / "vk-state" / "bot-polling").is_dir()


def test_run_without_token_exits_2_with_one_line(tmp_path: Any) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT)},
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "TELEGRAM_BOT_TOKEN" in result.stderr
