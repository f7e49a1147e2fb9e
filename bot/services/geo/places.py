"""The region's municipalities as points: the directory's rows, distances, the region's outline.

We only have one point per municipality (its administrative centre, bot/data/municipalities.csv), no
boundaries, so a pin is resolved by distance and the answer says how sure it is.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

from bot.core.config import REFERENCE_DATA_DIR

MUNICIPALITIES_PATH = REFERENCE_DATA_DIR / "municipalities.csv"
KINDS = frozenset({"gorodskoy_okrug", "municipalny_okrug", "municipalny_rayon", "zato"})
# A town that is its own municipality wins over a rural district administered from it.
URBAN_KINDS = frozenset({"gorodskoy_okrug", "zato"})
MAX_CANDIDATES = 5

# ---------------------------------------------------------------------------------------------------
# Pins
# ---------------------------------------------------------------------------------------------------
EARTH_RADIUS_KM = 6371.0
# A pin this close to a centre (beyond the town's own built-up radius) is taken without asking.
CONFIDENT_KM = 5.5
# Otherwise the nearest must be clearly nearer than the runner-up.
CONFIDENT_RATIO = 0.6
# Outside the oblast's bounding box is outside; inside it, a rough outline (below) decides, with a
# margin because the outline is approximate and refusing a real citizen is worse than asking them.
BBOX = (56.0, 62.0, 57.2, 66.3)  # lat min, lat max, lon min, lon max
OUTLINE_MARGIN_KM = 10.0
# A coarse outline of Sverdlovsk oblast (lat, lon), clockwise from the northern tip, drawn on the
# generous side. It exists to keep obvious neighbours (Tyumen, Kurgan oblast, Perm krai towns inside
# the bounding box) out; it is not a border.
OUTLINE: tuple[tuple[float, float], ...] = (
    (61.95, 59.20),
    (61.70, 60.60),
    (61.30, 62.00),
    (60.80, 63.20),
    (60.00, 64.10),
    (59.40, 65.30),
    (58.90, 66.20),
    (58.20, 66.10),
    (57.80, 65.60),
    (57.30, 65.30),
    (56.85, 65.00),
    (56.65, 64.20),
    (56.55, 63.30),
    (56.40, 62.60),
    (56.20, 62.10),
    (56.05, 61.20),
    (56.10, 60.20),
    (56.15, 59.30),
    (56.20, 58.50),
    (56.35, 57.90),
    (56.60, 57.30),
    (56.90, 57.20),
    (57.10, 57.70),
    (57.50, 58.40),
    (58.00, 58.60),
    (58.40, 59.00),
    (58.80, 59.20),
    (59.50, 59.00),
    (60.50, 58.90),
    (61.30, 59.00),
)


@dataclass(frozen=True)
class Municipality:
    """One municipality of the oblast (муниципальное образование) with its centre point."""

    id: str
    oktmo: str | None
    name: str
    kind: str
    centre: str
    lat: float
    lon: float
    population: int | None
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class GeoMatch:
    """The answer to "where is this?".

    `best` is set when we are confident. Otherwise, a non-empty `candidates` means "ask the citizen to
    pick"; empty means we found nothing. `candidates` is ranked and starts with `best` when there is one.
    """

    best: Municipality | None
    candidates: tuple[Municipality, ...]
    outside_region: bool = False


NO_MATCH = GeoMatch(None, ())


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def inside_outline(lat: float, lon: float) -> bool:
    inside = False
    count = len(OUTLINE)
    for index in range(count):
        lat1, lon1 = OUTLINE[index]
        lat2, lon2 = OUTLINE[(index + 1) % count]
        if (lat1 > lat) != (lat2 > lat):
            crossing = lon1 + (lat - lat1) * (lon2 - lon1) / (lat2 - lat1)
            if lon < crossing:
                inside = not inside
    return inside


def km_to_outline(lat: float, lon: float) -> float:
    # Planar distance to each edge on a local equirectangular projection: good to a few per cent at
    # this latitude and these distances, which is all a 10 km margin needs.
    ky = math.pi * EARTH_RADIUS_KM / 180
    kx = ky * math.cos(math.radians(lat))
    best = math.inf
    count = len(OUTLINE)
    for index in range(count):
        lat1, lon1 = OUTLINE[index]
        lat2, lon2 = OUTLINE[(index + 1) % count]
        ax, ay = (lon1 - lon) * kx, (lat1 - lat) * ky
        bx, by = (lon2 - lon) * kx, (lat2 - lat) * ky
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        t = 0.0 if length2 == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length2))
        best = min(best, math.hypot(ax + t * dx, ay + t * dy))
    return best


def is_outside_region(lat: float, lon: float) -> bool:
    """True when the point is clearly outside Sverdlovsk oblast (not merely near its border)."""
    lat_min, lat_max, lon_min, lon_max = BBOX
    if not (lat_min <= lat <= lat_max and lon_min <= lon <= lon_max):
        return True
    return not inside_outline(lat, lon) and km_to_outline(lat, lon) > OUTLINE_MARGIN_KM


def urban_radius_km(municipality: Municipality) -> float:
    # Distances are counted from the edge of the built-up area, roughly sqrt(population): a pin 12 km
    # from the centre of Ekaterinburg is still in the city, 12 km from a 15 000-people town it is not.
    if not municipality.population:
        return 1.5
    return min(14.0, max(1.5, 0.0105 * math.sqrt(municipality.population)))


# ---------------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------------


def _parse_row(row: dict[str, str], line: int) -> Municipality:
    where = f"municipalities.csv line {line}"
    municipality_id = (row.get("id") or "").strip()
    if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", municipality_id):
        raise ValueError(f"{where}: bad id {municipality_id!r}")
    oktmo = (row.get("oktmo") or "").strip() or None
    if oktmo is not None and not re.fullmatch(r"\d{8}", oktmo):
        raise ValueError(f"{where}: OKTMO must be 8 digits, got {oktmo!r}")
    kind = (row.get("kind") or "").strip()
    if kind not in KINDS:
        raise ValueError(f"{where}: unknown kind {kind!r}")
    population = (row.get("population") or "").strip()
    aliases = tuple(alias.strip() for alias in (row.get("aliases") or "").split("|") if alias.strip())
    name = (row.get("name") or "").strip()
    centre = (row.get("centre") or "").strip()
    if not name or not centre:
        raise ValueError(f"{where}: name and centre are required")
    return Municipality(
        id=municipality_id,
        oktmo=oktmo,
        name=name,
        kind=kind,
        centre=centre,
        lat=float(row["lat"]),
        lon=float(row["lon"]),
        population=int(population) if population else None,
        aliases=aliases,
    )


def load_municipalities(path: Path | None = None) -> list[Municipality]:
    """Read municipalities from CSV (default: bot/data/municipalities.csv), validating every row."""
    with (path or MUNICIPALITIES_PATH).open(encoding="utf-8", newline="") as handle:
        return [_parse_row(row, line) for line, row in enumerate(csv.DictReader(handle), start=2)]
