"""The drawing of Sverdlovsk oblast the citizen's phone shares a location on: no map tiles are
reachable offline, so the page draws a rough outline and the municipalities' centres from
bot/data/municipalities.csv, projected on a flat plane the page's script inverts on a click."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import cache

from bot.core.config import PROJECT_ROOT

MUNICIPALITIES_CSV = PROJECT_ROOT / "bot" / "data" / "municipalities.csv"
# The plane: x grows east from WEST, y grows south from NORTH, one degree of latitude = SCALE units;
# longitude is shrunk by the cosine of the oblast's middle latitude, so shapes look right.
WEST, NORTH, SCALE, MID_LATITUDE = 57.0, 62.3, 100.0, 58.6
WIDTH, HEIGHT = 500.0, 660.0
# Towns this large get a label; the rest are dots with a tooltip (the map would be unreadable).
LABELLED_POPULATION = 100_000
# A hand-traced outline (lat, lon), clockwise from the north-west corner: good enough to click on.
OUTLINE = (
    (61.95, 59.2),
    (62.05, 60.4),
    (61.7, 61.6),
    (61.1, 62.4),
    (60.7, 63.6),
    (60.2, 64.8),
    (59.6, 65.6),
    (58.8, 66.2),
    (58.1, 65.6),
    (57.4, 65.0),
    (56.9, 64.9),
    (56.6, 63.9),
    (56.3, 62.6),
    (56.1, 61.6),
    (56.05, 60.6),
    (56.1, 59.6),
    (56.25, 58.9),
    (56.3, 58.3),
    (56.45, 57.6),
    (56.8, 57.2),
    (57.3, 57.2),
    (57.9, 57.6),
    (58.4, 58.2),
    (59.0, 58.5),
    (59.6, 58.7),
    (60.3, 58.9),
    (61.0, 59.0),
    (61.5, 59.1),
)


@dataclass(frozen=True)
class Town:
    """A municipality's centre on the drawing."""

    municipality_id: str
    name: str
    lat: float
    lon: float
    population: int
    x: float
    y: float

    @property
    def labelled(self) -> bool:
        """Whether the drawing prints its name."""
        return self.population >= LABELLED_POPULATION


def project(lat: float, lon: float) -> tuple[float, float]:
    """The drawing's (x, y) of a point."""
    x = (lon - WEST) * math.cos(math.radians(MID_LATITUDE)) * SCALE
    y = (NORTH - lat) * SCALE
    return round(x, 1), round(y, 1)


def outline_points() -> str:
    """The outline as an SVG ``points`` attribute."""
    return " ".join(f"{x},{y}" for x, y in (project(lat, lon) for lat, lon in OUTLINE))


def projection() -> dict[str, float]:
    """What the page's script needs to turn a click back into latitude and longitude."""
    return {
        "west": WEST,
        "north": NORTH,
        "scale": SCALE,
        "cos": math.cos(math.radians(MID_LATITUDE)),
    }


@cache
def towns() -> tuple[Town, ...]:
    """Every municipality centre with coordinates, the largest first (so small dots draw on top)."""
    found: list[Town] = []
    with MUNICIPALITIES_CSV.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if not row.get("lat") or not row.get("lon"):
                continue
            lat, lon = float(row["lat"]), float(row["lon"])
            x, y = project(lat, lon)
            name = row.get("centre") or row["name"]
            population = int(row["population"]) if (row.get("population") or "").isdigit() else 0
            found.append(Town(row["id"], name, lat, lon, population, x, y))
    return tuple(sorted(found, key=lambda t: -t.population))
