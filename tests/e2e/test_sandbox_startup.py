"""The sandbox as a new user meets it: `make run` with no token serves the page within 30 s,
`python -m bot check` tells the two apart, and with production tokens, API URLs and databases in
the environment the sandbox talks to 127.0.0.1 only and never opens them."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import psutil
import pytest

from bot.core.config import PROJECT_ROOT

TOKENS = ("TELEGRAM_BOT_TOKEN", "VK_BOT_TOKEN", "TELEGRAM_API_URL", "VK_API_URL", "DATABASE_URL", "REDIS_URL")
REAL_LOOKING = {
    "TELEGRAM_BOT_TOKEN": "7012345678:AAHk3vQ9zX1bQ2mN4pL6rT8sV0wY2aC4eG6",
    "TELEGRAM_API_URL": "http://192.0.2.10:8081/",  # TEST-NET-1: would never answer
    "VK_BOT_TOKEN": "vk1.a." + "Q" * 80,
    "VK_API_URL": "http://192.0.2.11:8082/method/",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "WEB_HOST": "0.0.0.0",
}


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in TOKENS}
    return {**env, **extra}


def check(env: Mapping[str, str], cwd: Path) -> int:
    command = [sys.executable, "-m", "bot", "check"]
    return subprocess.run(command, env=dict(env), cwd=cwd, capture_output=True, timeout=60).returncode


def test_check_tells_make_run_whether_to_go_live_or_open_the_sandbox(tmp_path: Path) -> None:
    assert check(clean_env(), tmp_path) == 3
    assert check(clean_env(TELEGRAM_BOT_TOKEN="not-a-token"), tmp_path) == 2
    assert check(clean_env(TELEGRAM_BOT_TOKEN=REAL_LOOKING["TELEGRAM_BOT_TOKEN"]), tmp_path) == 0


async def healthy_within(port: int, seconds: float) -> float:
    """Seconds until /healthz answers 200 on `port`."""
    start = time.monotonic()
    async with aiohttp.ClientSession() as session:
        while time.monotonic() - start < seconds:
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return time.monotonic() - start
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"/healthz not 200 within {seconds} s")


@asynccontextmanager
async def started(command: list[str], env: Mapping[str, str], cwd: Path) -> AsyncIterator[int]:
    """The command in its own process group (make and the sandbox it execs); SIGINT on exit."""
    process = await asyncio.create_subprocess_exec(
        *command, env=dict(env), cwd=cwd, start_new_session=True, stdout=asyncio.subprocess.PIPE
    )
    try:
        yield process.pid
    finally:
        os.killpg(process.pid, signal.SIGINT)
        out, _ = await asyncio.wait_for(process.communicate(), timeout=30)
        assert process.returncode in (0, -signal.SIGINT), out.decode()


@pytest.mark.skipif((PROJECT_ROOT / ".env").exists(), reason="a .env with a token makes `make run` go live")
async def test_make_run_without_a_token_serves_the_sandbox_within_30_seconds(
    tmp_path: Path, unused_tcp_port: int
) -> None:
    args = f"SANDBOX_ARGS=--port {unused_tcp_port} --database {tmp_path / 'sandbox.sqlite3'}"
    command = ["make", "-s", "-C", str(PROJECT_ROOT), "run", args]
    async with started(command, clean_env(), tmp_path):
        assert await healthy_within(unused_tcp_port, 30.0) <= 30.0
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{unused_tcp_port}/") as page,
        ):
            assert page.status == 200
    assert (tmp_path / "sandbox.sqlite3").exists()


async def test_the_sandbox_ignores_production_settings_and_stays_on_loopback(
    tmp_path: Path, unused_tcp_port: int
) -> None:
    production = tmp_path / "production.sqlite3"
    (tmp_path / ".env").write_text(
        f"TELEGRAM_BOT_TOKEN={REAL_LOOKING['TELEGRAM_BOT_TOKEN']}\nDATABASE_URL=sqlite:///{production}\n"
    )
    env = clean_env(**REAL_LOOKING, DATABASE_URL=f"sqlite+aiosqlite:///{production}")
    command = [sys.executable, "-m", "bot", "sandbox", "--port", str(unused_tcp_port)]
    async with started(command, env, tmp_path) as pid:
        await healthy_within(unused_tcp_port, 60.0)
        process = psutil.Process(pid)
        seen: set[tuple[str, int]] = set()
        for _ in range(10):  # the bot long-polls both local servers all along: a few seconds of it
            for connection in process.net_connections(kind="inet"):
                assert connection.laddr.ip == "127.0.0.1", connection
                if connection.raddr:
                    seen.add((connection.raddr.ip, connection.raddr.port))
            await asyncio.sleep(0.3)
        assert seen, "the bot should be polling the local servers"
        assert {ip for ip, _ in seen} == {"127.0.0.1"}
        assert not {port for _, port in seen} & {5432, 6379}  # no PostgreSQL, no Redis
    assert not production.exists()
    assert (tmp_path / "sandbox.sqlite3").exists()
