"""Shared fixtures: databases (SQLite always, PostgreSQL when DATABASE_URL points at one), state
stores, a movable clock, and a platform-free chat driver for transcript tests."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.app.wiring import App, build_app
from bot.core.clock import ManualClock
from bot.core.config import Settings
from bot.core.i18n import Translator
from bot.core.messages import Inbound, InboundKind
from dialogs.engine import Reply
from storage.db import Database
from storage.state import MemoryStateStore, RedisStateStore, SqlStateStore, StateStore

# A Tuesday morning in Yekaterinburg (UTC+5): deadlines computed from here are easy to check.
START = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)


def postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


def redis_url() -> str | None:
    return os.environ.get("REDIS_URL") or None


async def reset_postgres(url: str) -> None:
    """Drop everything so each test starts from an empty schema, as on a fresh install."""
    db = Database(url)
    async with db.engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await db.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The same test against SQLite and (when reachable) PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'tsur.sqlite3'}"
        return
    url = postgres_url()
    if url is None:
        pytest.skip("PostgreSQL not configured (DATABASE_URL)")
    await reset_postgres(url)
    yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'tsur.sqlite3'}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def make_settings(url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": url,
        "redis_url": None,
        "telegram_bot_token": None,
        "flood_limit": 1000,
        "album_wait_seconds": 0.3,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


AppFactory = Callable[..., Any]


@pytest.fixture
async def app_factory(clock: ManualClock) -> AsyncIterator[AppFactory]:
    """Build Apps (several, to simulate restarts) and close them all at the end."""
    built: list[App] = []

    async def factory(url: str, state: StateStore | None = None, **overrides: Any) -> App:
        app = await build_app(make_settings(url, **overrides), clock=clock, state=state, retry_delays=(0.0,))
        built.append(app)
        return app

    yield factory
    for app in built:
        await app.close()


@pytest.fixture(params=["memory", "sql", "redis"])
def state_kind(request: pytest.FixtureRequest) -> str:
    if request.param == "redis" and redis_url() is None:
        pytest.skip("Redis not configured (REDIS_URL)")
    return str(request.param)


async def make_state(kind: str, app_db: Database) -> StateStore:
    if kind == "memory":
        return MemoryStateStore()
    if kind == "sql":
        return SqlStateStore(app_db)
    from redis.asyncio import Redis

    url = redis_url()
    assert url is not None
    redis = Redis.from_url(url)
    await redis.flushdb()
    return RedisStateStore(redis, ttl_seconds=3600)


@dataclass
class Screen:
    """One rendered message as a citizen would see it."""

    text: str
    buttons: list[str]
    button_ids: dict[str, str]
    ask: str
    remove_keyboard: bool


@dataclass
class Chat:
    """A citizen talking to the dialog runner directly, with no messenger at all."""

    app: App
    user_id: str = "1001"
    platform: str = "tg"
    language_hint: str | None = "ru"
    screens: list[Screen] = field(default_factory=list)
    last: list[Screen] = field(default_factory=list)

    def _render(self, reply: Reply) -> list[Screen]:
        translator: Translator = self.app.services.translator
        screens = []
        for view in reply.views:
            labels = {
                translator.text(reply.lang, b.label.key, b.label.args): b.id for b in view.all_buttons()
            }
            screens.append(
                Screen(
                    text="\n".join(translator.text(reply.lang, t.key, t.args) for t in view.lines),
                    buttons=list(labels),
                    button_ids=labels,
                    ask=view.ask.value,
                    remove_keyboard=view.remove_keyboard,
                )
            )
        return screens

    async def inbound(self, **fields: Any) -> list[Screen]:
        inbound = Inbound(
            platform=self.platform, user_id=self.user_id, language_hint=self.language_hint, **fields
        )
        reply = await self.app.runner.handle(inbound)
        self.last = self._render(reply)
        self.screens += self.last
        return self.last

    async def say(self, words: str) -> list[Screen]:
        if words.startswith("/"):
            return await self.inbound(kind=InboundKind.COMMAND, command=words[1:].split()[0], text=words)
        return await self.inbound(kind=InboundKind.TEXT, text=words)

    async def photos(self, *file_ids: str, caption: str = "") -> list[Screen]:
        return await self.inbound(kind=InboundKind.PHOTOS, photos=file_ids, text=caption)

    async def location(self, lat: float, lon: float) -> list[Screen]:
        return await self.inbound(kind=InboundKind.LOCATION, lat=lat, lon=lon)

    async def contact(self, phone: str, own: bool = True) -> list[Screen]:
        return await self.inbound(kind=InboundKind.CONTACT, phone=phone, contact_is_own=own)

    async def send_media(self, media: str) -> list[Screen]:
        return await self.inbound(kind=InboundKind.UNSUPPORTED, media=media)

    async def press(self, label: str, *, contains: bool = True) -> list[Screen]:
        """Press a button of the latest screens by (part of) its label."""
        for screen in reversed(self.last):
            for text_, button_id in screen.button_ids.items():
                if text_ == label or (contains and label.casefold() in text_.casefold()):
                    return await self.inbound(kind=InboundKind.BUTTON, button=button_id)
        visible = [b for s in self.last for b in s.buttons]
        raise AssertionError(f"no button {label!r}; visible: {visible}")

    async def press_id(self, button_id: str) -> list[Screen]:
        return await self.inbound(kind=InboundKind.BUTTON, button=button_id)

    def text(self) -> str:
        return "\n---\n".join(s.text for s in self.last)

    async def consent(self, agree: str = "Согласен") -> None:
        """/start and agree to the personal-data policy."""
        await self.say("/start")
        await self.press(agree)

    async def file_report(self, text: str) -> str:
        """File a housing report in Yekaterinburg the short way; returns the number."""
        await self.say("/report")
        await self.say(text)
        await self.press("Без фото")
        await self.location(56.8389, 60.6057)
        await self.press("Все темы")
        await self.press("ЖКХ")
        await self.press("Пропустить")
        await self.press("Отправить")
        found = re.search(r"Обращение № (\S+) принято", self.text())
        assert found, self.text()
        return found.group(1)
