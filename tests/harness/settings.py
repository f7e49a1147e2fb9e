"""Settings and Apps for tests: the fixed start moment, test settings, and an App builder that
closes everything it built (several Apps on one database simulate restarts)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from bot.app.wiring import App, build_app
from bot.core.clock import ManualClock
from bot.core.config import Settings
from storage.state import StateStore

# A Tuesday morning in Yekaterinburg (UTC+5): deadlines computed from here are easy to check.
START = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)


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


class AppFactory(Protocol):
    """What the ``app_factory`` fixture hands a test: ``await app_factory(url, state, **settings)``."""

    async def __call__(self, url: str, state: StateStore | None = None, **overrides: Any) -> App: ...


class AppBuilder:
    """Builds Apps on a movable clock with instant retries, and closes them all in ``close()``."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.built: list[App] = []

    async def __call__(self, url: str, state: StateStore | None = None, **overrides: Any) -> App:
        app = await build_app(
            make_settings(url, **overrides), clock=self.clock, state=state, retry_delays=(0.0,)
        )
        self.built.append(app)
        return app

    async def close(self) -> None:
        for app in self.built:
            await app.close()
