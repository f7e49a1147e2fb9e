"""Which municipality a report is about: from a geo pin (`places`) or from typed text (`names`),
both answered by the `MunicipalityDirectory`."""

from bot.services.geo.directory import MunicipalityDirectory
from bot.services.geo.places import (
    KINDS,
    NO_MATCH,
    GeoMatch,
    Municipality,
    is_outside_region,
    load_municipalities,
)

__all__ = [
    "KINDS",
    "NO_MATCH",
    "GeoMatch",
    "Municipality",
    "MunicipalityDirectory",
    "is_outside_region",
    "load_municipalities",
]
