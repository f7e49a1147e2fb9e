"""The bot as operating-system processes (`python -m bot run …`), started, killed with SIGKILL and
restarted by fault tests and `bench/faults.py`, against the sandbox servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Long enough for Telegram's own checks (16–256 of A-Z a-z 0-9 _ -).
WEBHOOK_SECRET = "fault-suite-webhook-secret-0123456789"
WEBHOOK_PATH = "/webhook/telegram"


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class BotProcess:
    """One `python -m bot run` process; `start`, `kill` (SIGKILL, no clean-up) and `start` again."""

    env: Mapping[str, str]
    args: tuple[str, ...]
    port: int
    workdir: Path
    log_path: Path
    process: asyncio.subprocess.Process | None = None
    starts: int = 0
    command: tuple[str, ...] = ("-m", "bot", "run")
    """What follows the interpreter: the bot by default, or another script (a bench's echo bot)."""
    _log: object | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def webhook_url(self) -> str:
        return self.url + WEBHOOK_PATH

    async def start(self, *, ready_within: float = 60.0) -> None:
        """Start the process and wait until /healthz answers."""
        assert self.process is None or self.process.returncode is not None, "already running"
        log = self.log_path.open("ab")
        self._log = log
        env = {**self.env, "WEB_PORT": str(self.port)}
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, *self.command, *self.args, env=env, cwd=self.workdir, stdout=log, stderr=log
        )
        self.starts += 1
        await self._wait_healthy(ready_within)

    async def _wait_healthy(self, within: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        async with aiohttp.ClientSession() as session:
            while True:
                assert self.process is not None
                if self.process.returncode is not None:
                    raise AssertionError(
                        f"the bot exited with {self.process.returncode}; see {self.log_path}"
                    )
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(
                        self.url + "/healthz", timeout=aiohttp.ClientTimeout(total=2)
                    ) as r:
                        if r.status in (200, 503):
                            return
                if loop.time() > deadline:
                    raise AssertionError(f"the bot did not answer /healthz within {within} s")
                await asyncio.sleep(0.1)

    async def health(self) -> str:
        """What /healthz says now ("ok", "degraded")."""
        async with aiohttp.ClientSession() as session, session.get(self.url + "/healthz") as response:
            return str((await response.json())["status"])

    def peak_rss_mb(self) -> float:
        """The most memory the process has held resident so far (Linux VmHWM), in MB."""
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kilobytes = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
        return kilobytes / 1024

    def cpu_seconds(self) -> float:
        """CPU time the process has used so far (user + system)."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed or closed (a crash, an OOM kill)."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> int:
        """SIGTERM and wait: the clean way out; returns the exit code."""
        if self.process is None:
            return 0
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(self.process.wait(), 30)
        except TimeoutError:
            self.process.kill()
            code = await self.process.wait()
        if self._log is not None:
            self._log.close()  # type: ignore[attr-defined]
        return code

    async def wait_dead(self) -> None:
        if self.process is not None:
            await self.process.wait()
        if self._log is not None:
            self._log.close()  # type: ignore[attr-defined]
            self._log = None


def bot_env(
    database_url: str, token: str, telegram_api_url: str, *, redis_url: str | None = None, **extra: str
) -> dict[str, str]:
    """The environment of a bot process: its storage, the local Bot API server, a webhook secret."""
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_URL": telegram_api_url,
        "DATABASE_URL": database_url,
        "WEB_HOST": "127.0.0.1",
        "WEBHOOK_BASE_URL": "https://bot.example.org",
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "WEBHOOK_PATH": WEBHOOK_PATH,
        "PYTHONPATH": str(PROJECT_ROOT),
        "ALBUM_WAIT_SECONDS": "0.5",
        "FLOOD_LIMIT": "1000",
        **extra,
    }
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


@contextlib.asynccontextmanager
async def fleet(*processes: BotProcess) -> AsyncIterator[tuple[BotProcess, ...]]:
    """Start every process (in order), and make sure none outlives the block."""
    try:
        for process in processes:
            await process.start()
        yield processes
    finally:
        for process in processes:
            process.kill()
            await process.wait_dead()
