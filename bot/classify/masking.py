"""Personal names masked in a text before it is kept as a training example (pymorphy3 knows first
names, surnames and patronymics as grammemes; contacts are masked by the citizens' service)."""

from __future__ import annotations

import re

from bot.classify.words import lemma_tags

NAME_MASK = "[имя]"
_NAME_GRAMMEMES = frozenset({"Name", "Surn", "Patr"})
# Capitalised words only: a name written in lower case is rare, a common word tagged as a name
# ("роза", "вера") is not.
_CAPITALISED = re.compile(r"\b[А-ЯЁ][а-яё]+\b")


def mask_names(text: str) -> str:
    """`text` with capitalised words that pymorphy3 most probably reads as a name replaced."""

    def replace(match: re.Match[str]) -> str:
        return NAME_MASK if lemma_tags(match.group(0).lower()) & _NAME_GRAMMEMES else match.group(0)

    return _CAPITALISED.sub(replace, text)
