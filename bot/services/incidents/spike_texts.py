"""How a spike alert shows its cluster (issue #16): place names, the pin link and the most typical
texts, masked (no phones, e-mails or personal names) and shortened for the operator chat."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.classify.masking import mask_names
from bot.services.citizens.contacts_mask import mask_contacts
from bot.services.geo.addresses import street_name
from bot.services.incidents.similarity import profile, profile_similarity
from bot.services.reports.sector_examples import MAX_TEXT_CHARS

TYPICAL_TEXTS = 3
TEXT_CHARS = 160
# Texts compared for "typical": the most recent of the cluster, enough to see its gist.
TYPICAL_POOL = 30
PIN_URL = "https://www.openstreetmap.org/?mlat={lat:.5f}&mlon={lon:.5f}#map=16/{lat:.5f}/{lon:.5f}"


def place_of(report_street: str | None, report_settlement: str | None) -> str | None:
    """A report's place cell: its street (within its settlement, if named) or its settlement."""
    if report_street:
        return f"{report_settlement or ''}/{report_street}"
    if report_settlement:
        return report_settlement
    return None


def place_label(place: str | None, municipality: str = "") -> str:
    """A place cell as people read it: "исеть/улица:ленина" → "Исеть, Ленина"; a settlement that
    is the municipality's own town is not repeated after it."""
    if place is None:
        return ""
    settlement, slash, street = place.partition("/")
    if settlement.casefold() == municipality.casefold():
        settlement = ""
    if not slash:
        return settlement.title()
    name = " / ".join(part.title() for part in street_name(street).split("|"))
    return f"{settlement.title()}, {name}" if settlement else name


_CAPITALISED = re.compile(r"\b[А-ЯЁ][а-яё]+\b")


def shown_text(text: str, keep: frozenset[str] = frozenset()) -> str:
    """A citizen's words as an operator chat may see them: no phones, e-mails or personal names,
    except the words of the cluster's own place ("Ленина" of ул. Ленина reads as a surname)."""

    def replace(match: re.Match[str]) -> str:
        word = match.group(0)
        return word if word.lower() in keep else mask_names(word)

    return _CAPITALISED.sub(replace, mask_contacts(text[:MAX_TEXT_CHARS]))


def place_words(place: str | None) -> frozenset[str]:
    """The lower-case words of a place cell's settlement and street names."""
    return frozenset(re.findall(r"[а-яёa-z0-9]+", (place or "").lower()))


def typical_texts(
    texts: Sequence[str], limit: int = TYPICAL_TEXTS, keep: frozenset[str] = frozenset()
) -> list[str]:
    """The texts most like the others (summed similarity), masked and shortened."""
    pool = [shown_text(text, keep) for text in texts[-TYPICAL_POOL:]]
    profiles = [profile(text) for text in pool]
    scores = [
        sum(profile_similarity(p, q) for j, q in enumerate(profiles) if j != i)
        for i, p in enumerate(profiles)
    ]
    order = sorted(range(len(pool)), key=lambda i: -scores[i])
    chosen: list[str] = []
    for index in order:
        short = " ".join(pool[index].split())
        short = short if len(short) <= TEXT_CHARS else short[: TEXT_CHARS - 1] + "…"
        if short and short not in chosen:
            chosen.append(short)
        if len(chosen) == limit:
            break
    return chosen
