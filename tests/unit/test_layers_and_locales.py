"""House rules that code review would otherwise have to remember: layering and complete locales."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core.config import PROJECT_ROOT
from bot.core.i18n import RAW_KEY, Translator

PLATFORM_IMPORT = re.compile(r"^\s*(from|import)\s+(aiogram|vkbottle)\b", re.MULTILINE)
# Keys passed to Text(...) / View.of(...) as literals anywhere in the dialogs.
KEY_LITERAL = re.compile(r"""(?:Text|View\.of)\(\s*["']([a-z][a-z0-9-]+)["']""")
FSTRING_KEY = re.compile(r"""Text\(\s*f["']([a-z-]+)\{""")


def python_files(*folders: str) -> list[Path]:
    return [p for folder in folders for p in (PROJECT_ROOT / folder).rglob("*.py")]


# bot/app/ holds the start-up (CLI, wiring, runtime, HTTP, per-platform setup), which may know the
# platforms; the services may not.
SERVICE_MODULES = [
    p
    for p in python_files("bot")
    if "app" not in p.relative_to(PROJECT_ROOT).parts and p.name != "__main__.py"
]


@pytest.mark.parametrize(
    "path", python_files("dialogs", "storage") + SERVICE_MODULES, ids=lambda p: str(p.name)
)
def test_no_platform_imports_below_handlers(path: Path) -> None:
    assert not PLATFORM_IMPORT.search(path.read_text(encoding="utf-8")), path


def test_languages_have_the_same_messages() -> None:
    translator = Translator()
    assert translator.message_ids("ru") == translator.message_ids("en")


def test_every_key_used_in_code_exists() -> None:
    translator = Translator()
    known = translator.message_ids("ru")
    used: set[str] = set()
    prefixes: set[str] = set()
    for path in python_files("dialogs", "handlers", "bot"):
        source = path.read_text(encoding="utf-8")
        used |= set(KEY_LITERAL.findall(source))
        prefixes |= set(FSTRING_KEY.findall(source))
    used.discard(RAW_KEY)
    assert used, "the key scan found nothing: the pattern is broken"
    assert sorted(used - known) == []
    for prefix in prefixes:
        assert any(key.startswith(prefix) for key in known), prefix


def test_status_and_language_keys_cover_their_enums() -> None:
    from bot.services.reports.lifecycle import Status

    translator = Translator()
    for status in Status:
        assert translator.has("ru", f"status-{status.value}") and translator.has(
            "en", f"status-{status.value}"
        )
