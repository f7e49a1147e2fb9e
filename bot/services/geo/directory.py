"""Which municipality a report is about: from a geo pin or from an address the citizen typed."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from bot.services.geo.names import PlaceNames
from bot.services.geo.places import (
    CONFIDENT_KM,
    CONFIDENT_RATIO,
    MAX_CANDIDATES,
    NO_MATCH,
    URBAN_KINDS,
    GeoMatch,
    Municipality,
    haversine_km,
    is_outside_region,
    load_municipalities,
    urban_radius_km,
)


class MunicipalityDirectory:
    """All municipalities with indexes for fast lookup by id, point and typed text."""

    def __init__(self, municipalities: Sequence[Municipality]) -> None:
        """Index `municipalities`; ids must be unique."""
        self._items = tuple(municipalities)
        self._by_id = {m.id: m for m in self._items}
        if len(self._by_id) != len(self._items):
            raise ValueError("municipality ids must be unique")
        self._radius = tuple(urban_radius_km(m) for m in self._items)
        self._names = PlaceNames(self._items)

    # -- loading and lookup -------------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path | None = None) -> MunicipalityDirectory:
        """Read the directory from a CSV file (default: bot/data/municipalities.csv)."""
        return cls(load_municipalities(path))

    def all(self) -> tuple[Municipality, ...]:
        """Every municipality, in file order."""
        return self._items

    def get(self, municipality_id: str) -> Municipality | None:
        """The municipality with this id, or None."""
        return self._by_id.get(municipality_id)

    # -- pins ---------------------------------------------------------------------------------------
    def by_point(self, lat: float, lon: float) -> GeoMatch:
        """Resolve a geo pin. Confident near a centre or when one centre is clearly the nearest."""
        if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
            raise ValueError(f"not a coordinate: {lat}, {lon}")
        if is_outside_region(lat, lon):
            return GeoMatch(None, (), outside_region=True)
        ranked = sorted(
            (
                (
                    max(0.0, haversine_km(lat, lon, m.lat, m.lon) - self._radius[index]),
                    0 if m.kind in URBAN_KINDS else 1,
                    index,
                )
                for index, m in enumerate(self._items)
            ),
        )
        if not ranked:
            return NO_MATCH
        candidates = tuple(self._items[index] for _, _, index in ranked[:MAX_CANDIDATES])
        nearest = ranked[0][0]
        runner_up = ranked[1][0] if len(ranked) > 1 else math.inf
        if nearest <= CONFIDENT_KM or nearest < CONFIDENT_RATIO * runner_up:
            return GeoMatch(candidates[0], candidates)
        return GeoMatch(None, candidates)

    # -- text ---------------------------------------------------------------------------------------
    def by_text(self, text: str) -> GeoMatch:
        """Resolve a typed address or place name; ambiguous text gives candidates, nothing gives NO_MATCH."""
        return self._names.by_text(text)
