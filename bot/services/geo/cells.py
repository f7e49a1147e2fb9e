"""A coarse grid over the oblast so reports near a pin are found by an index, not by distance to
every report: a cell is 0.01° of latitude (~1.1 km) by 0.02° of longitude (~1.2 km at 57° N), wider
than any `point` rule's reach, so a point's neighbours are in its cell or the eight around it."""

from __future__ import annotations

import math

LAT_STEP = 0.01
LON_STEP = 0.02


def _index(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / LAT_STEP), math.floor(lon / LON_STEP)


def cell_of(lat: float | None, lon: float | None) -> str | None:
    """The grid cell of a pin as "row:col", or None without a pin."""
    if lat is None or lon is None or not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    row, col = _index(lat, lon)
    return f"{row}:{col}"


def cells_around(lat: float, lon: float) -> list[str]:
    """The cell of a pin and the eight cells around it."""
    row, col = _index(lat, lon)
    return [f"{row + dr}:{col + dc}" for dr in (-1, 0, 1) for dc in (-1, 0, 1)]
