"""Text handling shared by the messenger adapters."""

from __future__ import annotations

from bot.core.i18n import Translator
from bot.core.messages import View


def split_text(text: str, limit: int) -> list[str]:
    """Cut a long text into pieces of at most `limit` chars, preferring line and word breaks."""
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = rest.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest:
        pieces.append(rest)
    return pieces


def view_text(view: View, lang: str, translator: Translator) -> str:
    """The text of a view in one language; never empty (messengers refuse empty messages)."""
    return "\n".join(translator.text(lang, line.key, line.args) for line in view.lines).strip() or "…"
