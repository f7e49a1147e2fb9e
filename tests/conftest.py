"""Shared fixtures: databases (SQLite always, PostgreSQL when DATABASE_URL points at one), state
stores and a movable clock. Drivers and builders live in tests/harness."""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.core.clock import ManualClock
from tests.harness.secrets import scrubbed_stream
from tests.harness.settings import START, AppBuilder, AppFactory
from tests.harness.stores import isolate_worker, postgres_url, redis_url, reset_postgres


def pytest_configure(config: pytest.Config) -> None:
    """Parallel workers (pytest-xdist) each get their own PostgreSQL database and Redis db."""
    isolate_worker(os.environ.get("PYTEST_XDIST_WORKER"))


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
async def postgres_db_url() -> AsyncIterator[str]:
    """An empty PostgreSQL schema, for what only PostgreSQL does (savepoints in a unit of work)."""
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


@pytest.fixture
async def app_factory(clock: ManualClock) -> AsyncIterator[AppFactory]:
    """Build Apps (several, to simulate restarts) and close them all at the end."""
    builder = AppBuilder(clock)
    yield builder
    await builder.close()


@pytest.fixture(params=["memory", "sql", "redis"])
def state_kind(request: pytest.FixtureRequest) -> str:
    if request.param == "redis" and redis_url() is None:
        pytest.skip("Redis not configured (REDIS_URL)")
    return str(request.param)


@pytest.fixture
def scrubbed_logs() -> Iterator[io.StringIO]:
    """The stream our logging setup writes to (``tests.harness.secrets.install``); undone afterwards."""
    with scrubbed_stream() as stream:
        yield stream
