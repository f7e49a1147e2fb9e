"""Messier copies of seed reports, the way real messages differ from them: typos, dropped words,
a portal-style one-liner cut from a letter, a second topic added. The build fits the model's
temperature on these (held out), so its confidence is honest on messages messier than the seeds."""

from __future__ import annotations

import random
from collections.abc import Sequence

from bot.classify.corpus import Labelled
from bot.classify.words import tokenize

_ALPHABETS = {"cyrillic": "абвгдежзийклмнопрстуфхцчшщъыьэюя", "latin": "abcdefghijklmnopqrstuvwxyz"}


def typos(text: str, rng: random.Random, rate: float = 0.2) -> str:
    """Some words dropped, some with one letter deleted, swapped, doubled or replaced."""
    out: list[str] = []
    for word in tokenize(text):
        roll = rng.random()
        if roll < rate / 2:
            continue
        if roll < rate and len(word) >= 5:
            i = rng.randrange(1, len(word) - 1)
            kind = rng.randrange(4)
            if kind == 0:
                word = word[:i] + word[i + 1 :]
            elif kind == 1:
                word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
            elif kind == 2:
                word = word[:i] + word[i] + word[i:]
            else:
                alphabet = _ALPHABETS["latin" if word.isascii() else "cyrillic"]
                word = word[:i] + rng.choice(alphabet) + word[i + 1 :]
        out.append(word)
    return " ".join(out) or text


def one_liner(text: str, rng: random.Random) -> str:
    """A few consecutive words of the text, as portals' short titles are."""
    words = tokenize(text)
    if len(words) <= 4:
        return text
    size = rng.randint(2, 5)
    start = rng.randrange(0, len(words) - size + 1)
    return " ".join(words[start : start + size])


def messy_copies(examples: Sequence[Labelled], rng: random.Random) -> list[Labelled]:
    """One messier copy of each example; a third of them get another sector's text appended."""
    by_sector: dict[str, list[str]] = {}
    for example in examples:
        by_sector.setdefault(example.sector, []).append(example.text)
    sectors = sorted(by_sector)
    copies: list[Labelled] = []
    for example in examples:
        roll = rng.random()
        if roll < 0.35:
            text = typos(example.text, rng)
        elif roll < 0.6:
            text = one_liner(example.text, rng)
        else:
            others = [s for s in sectors if s != example.sector]
            second = rng.choice(by_sector[rng.choice(others)]) if others else ""
            # The first topic is what the citizen asks for; the second is said in passing.
            text = f"{example.text} {one_liner(second, rng)}"
        copies.append(Labelled(text, example.sector, example.weight, "messy"))
    return copies
