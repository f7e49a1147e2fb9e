"""Secrets with no process, server or database: polling mode needs no webhook secrets, and what
redaction hides (and keeps) in a text."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app.runtime import check_settings
from bot.core.config import ConfigError
from bot.core.redaction import redact
from tests.harness.secrets import GOOD_TG_SECRET, GOOD_VK_SECRET, TG_TOKEN, VK_TOKEN
from tests.harness.settings import make_settings


def test_polling_needs_no_secrets(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'tsur.sqlite3'}"
    settings = make_settings(url, telegram_bot_token=TG_TOKEN, vk_bot_token=VK_TOKEN)
    assert check_settings(settings, webhook=False) == (TG_TOKEN, VK_TOKEN)
    with pytest.raises(ConfigError, match="WEBHOOK_BASE_URL"):
        check_settings(settings, webhook=True)
    good = make_settings(
        url,
        telegram_bot_token=TG_TOKEN,
        vk_bot_token=VK_TOKEN,
        webhook_base_url="https://bot.example.org",
        webhook_secret=GOOD_TG_SECRET,
        vk_callback_secret=GOOD_VK_SECRET,
        vk_confirmation_code="a1b2c3d4",
    )
    assert check_settings(good, webhook=True) == (TG_TOKEN, VK_TOKEN)


def test_redact() -> None:
    assert (
        redact(f"https://api.telegram.org/file/bot{TG_TOKEN}/x")
        == "https://api.telegram.org/file/bot123456789:***/x"
    )
    assert redact("redis://:pa55word@cache:6379/0") == "redis://:***@cache:6379/0"
    assert (
        redact("postgresql+asyncpg://postgres@127.0.0.1:5432/test")
        == "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    )
    assert redact("DETAIL:  Key (phone)=(+79120000001) already exists.\nnext") == "DETAIL: ***\nnext"
    assert redact("http://127.0.0.1:8080/healthz at 12:30:45") == "http://127.0.0.1:8080/healthz at 12:30:45"
