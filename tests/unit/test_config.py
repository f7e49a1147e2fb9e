"""The migrations build exactly the models' schema; configuration fails early and clearly."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.core.config import PROJECT_ROOT, ConfigError, Settings, require_telegram_token
from storage.db import Database, migrate
from storage.models import Base


async def test_migrations_match_models(database_url: str) -> None:
    db = Database(database_url)
    try:
        await migrate(db)
        await migrate(db)  # a second run is a no-op

        def diff(connection: Any) -> list[Any]:
            return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

        async with db.engine.connect() as connection:
            differences = await connection.run_sync(diff)
    finally:
        await db.dispose()
    assert differences == []


@pytest.mark.parametrize(
    ("token", "message"),
    [(None, "is not set"), ("", "is not set"), ("abc", "malformed"), ("123:short", "malformed")],
)
def test_bad_tokens_are_named(token: str | None, message: str) -> None:
    settings = Settings(_env_file=None, telegram_bot_token=token)  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match=message):
        require_telegram_token(settings)


def test_good_token_passes() -> None:
    token = "123456789:AAEhBOweik9ai2o4-_bcdefghijklmnopqrs"
    settings = Settings(_env_file=None, telegram_bot_token=token)  # type: ignore[call-arg]
    assert require_telegram_token(settings) == token
    assert token not in repr(settings)


def test_plain_database_urls_get_async_drivers() -> None:
    settings = Settings(_env_file=None, database_url="postgres://u@h/db")  # type: ignore[call-arg]
    assert settings.database_url == "postgresql+asyncpg://u@h/db"


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
