"""Neutral titles of an incident or report for people other than its reporter: the sector and the
street (never the house, the flat or anyone's words), or the title an operator set."""

from __future__ import annotations

from bot.services.catalog import Catalog
from bot.services.geo.addresses import UNKNOWN_TYPE
from storage.models import Report

# Street types as a sign would abbreviate them; others are shown whole.
SHORT_TYPES = {
    "ru": {"улица": "ул.", "проспект": "пр-т", "переулок": "пер.", "площадь": "пл.", "бульвар": "б-р"},
    "en": {"улица": "st.", "проспект": "ave.", "переулок": "lane", "площадь": "sq.", "бульвар": "blvd."},
}
CROSSROADS = {"ru": "перекрёсток", "en": "crossroads"}


def street_label(street_key: str | None, lang: str) -> str | None:
    """ "улица:ленина" → "ул. Ленина"; a crossroads names both streets; None without a street."""
    if not street_key:
        return None
    kind, _, name = street_key.partition(":")
    if "|" in name:
        first, _, second = name.partition("|")
        return f"{CROSSROADS.get(lang, CROSSROADS['ru'])} {first.title()} / {second.title()}"
    shown = name.title()
    if kind == UNKNOWN_TYPE:
        return shown
    short = SHORT_TYPES.get(lang, SHORT_TYPES["ru"]).get(kind, kind)
    return f"{short} {shown}"


def neutral_title(report: Report, catalog: Catalog, lang: str, title: str | None = None) -> str:
    """What others may see of a report: an operator's title, or the sector and the street (or the
    municipality when no street is known)."""
    if title:
        return title
    sector = catalog.sector(report.sector_id).name(lang)
    where = street_label(report.street_key, lang) or catalog.municipality_name(report.municipality_id)
    return f"{sector}: {where}" if where else sector
