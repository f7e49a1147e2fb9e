"""The training sandbox (`python -m bot sandbox`, and `make run` with no messenger token): the real
bot, dialogs, services, outbox and deadlines on their own SQLite file, with the real aiogram and
vkbottle code talking over HTTP to the local Telegram and VK servers, and a page at
http://127.0.0.1:8080/ to play citizens, operators and the comms team.

Nothing is read from the environment or `.env` (a production `DATABASE_URL`, token or API URL
must never be touched by practice), secrets are generated per run, and every socket is bound to
127.0.0.1.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from bot.app.runtime import serve, stop_on_signals
from bot.app.wiring import App, build_app
from bot.core.clock import ScaledClock
from bot.core.config import Settings
from bot.core.redaction import register_secrets
from bot.sandbox.telegram import FakeTelegramServer
from bot.sandbox.training import ScoreStore, Trainer
from bot.sandbox.training.trainer import DEFAULT_TRAINEE
from bot.sandbox.vk import FakeVkServer
from bot.sandbox.world import SandboxWorld, seed_world
from bot.services.reports.deadlines import WorkCalendar
from bot.web.server import Mount

log = logging.getLogger(__name__)

SANDBOX_DATABASE = Path("sandbox.sqlite3")
SANDBOX_HOST = "127.0.0.1"
SANDBOX_PORT = 8080
# Seconds between deadline passes: at x3600 one real second is an hour of the scenario's day.
SANDBOX_SLA_INTERVAL = 0.5
OPENING = time(9, 0)


class SandboxSettings(Settings):
    """Settings made only from what the sandbox passes in: no environment, no `.env`."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


@dataclass(frozen=True)
class SandboxOptions:
    """Where the sandbox keeps its file and serves its page."""

    database: Path = SANDBOX_DATABASE
    port: int = SANDBOX_PORT
    speed: float = 1.0
    scenario: str | None = None  # a training scenario to start once the bot is up
    trainee: str = DEFAULT_TRAINEE


def generated_telegram_token() -> str:
    """A fresh token of Telegram's shape, known only to this run's bot and local server."""
    return f"{secrets.randbelow(9 * 10**9) + 10**9}:{secrets.token_urlsafe(36)[:40]}"


def sandbox_settings(
    telegram: FakeTelegramServer, vk: FakeVkServer, database: Path, port: int, state_dir: Path
) -> Settings:
    """Settings of the sandboxed bot: the local servers, its own SQLite file, loopback only."""
    values: dict[str, Any] = {
        "telegram_bot_token": telegram.token,
        "telegram_api_url": telegram.base_url,
        "vk_bot_token": vk.token,
        "vk_group_id": vk.group_id,
        "vk_api_url": vk.base_url,
        "database_url": f"sqlite+aiosqlite:///{database}",
        "redis_url": None,
        "model_path": None,
        "web_host": SANDBOX_HOST,
        "web_port": port,
        "vk_state_dir": str(state_dir),
        # A handful of sandbox citizens would never reach the production threshold: every notice
        # needs the second person here, so four-eyes approval is practised each time.
        "notice_approval_threshold": 0,
        "log_level": "INFO",
    }
    return SandboxSettings(**values)


def first_opening(now: datetime, calendar: WorkCalendar, zone: ZoneInfo) -> datetime:
    """09:00 local of the next working day (today's, when today is one and it is not 09:00 yet)."""
    local = now.astimezone(zone)
    day: date = local.date() if local.time() < OPENING else local.date() + timedelta(days=1)
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, OPENING, tzinfo=zone).astimezone(UTC)


def fresh_database(path: Path) -> None:
    """Start from an empty file: the local messengers forget their chats on every start, so old
    reports would point at topics that no longer exist."""
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)


async def run_sandbox(options: SandboxOptions, stop: asyncio.Event | None = None) -> None:
    """Run the sandbox until `stop` is set (SIGINT/SIGTERM when not given)."""
    from bot.web.sandbox import sandbox_page

    stop = stop or stop_on_signals()
    fresh_database(options.database)
    tokens = (generated_telegram_token(), secrets.token_urlsafe(48))
    register_secrets(tokens)
    async with FakeTelegramServer(tokens[0]) as telegram, FakeVkServer(token=tokens[1]) as vk:
        with tempfile.TemporaryDirectory(prefix="tsur-sandbox-vk-") as state_dir:
            settings = sandbox_settings(telegram, vk, options.database, options.port, Path(state_dir))
            calendar = WorkCalendar(settings.timezone)
            start = first_opening(datetime.now(UTC), calendar, ZoneInfo(settings.timezone))
            clock = ScaledClock(start, options.speed)
            app = await build_app(settings, clock=clock)
            world = await seed(app, telegram, vk, clock)
            trainer = world.trainer = Trainer(world, calendar, ScoreStore.beside(options.database))
            mounts: list[Mount] = [sandbox_page(world)]
            url = f"http://{SANDBOX_HOST}:{options.port}/"

            def ready() -> None:
                print(f"Training sandbox (no messenger token): open {url} — all offline", flush=True)
                if options.scenario:
                    trainer.begin(options.scenario, options.trainee)

            async with trainer.background(stop):
                await serve(app, stop, mounts=mounts, sla_interval=SANDBOX_SLA_INTERVAL, on_ready=ready)


async def seed(app: App, telegram: FakeTelegramServer, vk: FakeVkServer, clock: ScaledClock) -> SandboxWorld:
    """The sandbox's staff and chats, registered in the app's own database."""
    return await seed_world(telegram, vk, clock, app.db, app.services.catalog, app.staff)
