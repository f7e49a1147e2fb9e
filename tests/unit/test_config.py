"""The migrations build exactly the models' schema; configuration fails early and clearly."""

from __future__ import annotations

import pytest

from bot.core.config import ConfigError, Settings, require_telegram_token


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
