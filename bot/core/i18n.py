"""Fluent translations from locales/<lang>/*.ftl; every text a citizen reads comes through here."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from fluent.runtime import FluentBundle, FluentResource

from bot.core.config import PROJECT_ROOT

log = logging.getLogger(__name__)

LOCALES_DIR = PROJECT_ROOT / "locales"
SUPPORTED_LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"
# A Text with this key is the citizen's or operator's own words: shown as is, never translated.
RAW_KEY = "__raw__"

Args = Mapping[str, str | int | float]


class Translator:
    """Formats message ids for a language, falling back to Russian, then to the id itself."""

    def __init__(self, locales_dir: Path = LOCALES_DIR, languages: tuple[str, ...] = SUPPORTED_LANGUAGES):
        self.languages = languages
        self._bundles: dict[str, FluentBundle] = {}
        for lang in languages:
            # Isolation marks (U+2068/U+2069) would show up as garbage in some VK clients.
            bundle = FluentBundle([lang], use_isolating=False)
            for path in sorted((locales_dir / lang).glob("*.ftl")):
                bundle.add_resource(FluentResource(path.read_text(encoding="utf-8")))
            self._bundles[lang] = bundle

    def has(self, lang: str, key: str) -> bool:
        bundle = self._bundles.get(lang)
        return bundle is not None and bundle.has_message(key)

    def message_ids(self, lang: str) -> set[str]:
        """All message ids of one language (for completeness checks)."""
        return set(self._bundles[lang]._messages)

    def text(self, lang: str, key: str, args: Args | None = None) -> str:
        """The formatted message `key` in `lang`."""
        args = args or {}
        if key == RAW_KEY:
            return str(args.get("text", ""))
        for candidate in (lang, DEFAULT_LANGUAGE):
            bundle = self._bundles.get(candidate)
            if bundle is None or not bundle.has_message(key):
                continue
            message = bundle.get_message(key)
            if message.value is None:
                continue
            value, errors = bundle.format_pattern(message.value, dict(args))
            if errors:
                log.warning("locale %s key %s: %s", candidate, key, errors)
            return str(value)
        log.error("missing message id %s", key)
        return key


def pick_language(hint: str | None) -> str:
    """Language for someone who has not chosen one: English for English clients, else Russian."""
    if hint and hint.lower().startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE
