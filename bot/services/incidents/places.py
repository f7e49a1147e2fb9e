"""When two reports are about one place: the per-sector rule (`same_place` in bot/data/sectors.yaml)
and the comparison of two places, each a municipality plus a parsed address and maybe a pin.

A pothole is one spot, a heating outage a street, a power outage a settlement: the rule is data so a
sector's reach can be changed without code. Pins are compared by distance; most citizens type an
address instead, so without two pins the street and house number stand in for the distance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.core.config import REFERENCE_DATA_DIR
from bot.services.geo.addresses import Address, house_number, is_crossroads, same_street
from bot.services.geo.places import haversine_km

SECTORS_PATH = REFERENCE_DATA_DIR / "sectors.yaml"
KINDS = ("point", "street", "settlement", "municipality")
# Without pins, `point N` compares house numbers on one street. Numbers step by two from one building
# to the next along a side, and a building with its gap takes some 25-40 m of frontage in the region's
# towns, so one number is about 15 m: N metres is about N / 15 numbers either way (at least 2, so the
# house across the street is near).
METRES_PER_HOUSE_NUMBER = 15.0
MIN_HOUSE_WINDOW = 2
# A `street` rule with pins but no street on one side: a street's problems are seldom farther apart.
STREET_FALLBACK_M = 400.0


class PlaceRuleError(ValueError):
    """A `same_place` value in sectors.yaml is missing or malformed."""


@dataclass(frozen=True)
class PlaceRule:
    """How near two reports of one sector must be: within `metres` of a point, or one street,
    settlement or municipality."""

    kind: str
    metres: float | None = None

    @classmethod
    def parse(cls, value: object) -> PlaceRule:
        """Read "point 100", "street", "settlement" or "municipality"; anything else fails loudly."""
        if not isinstance(value, str):
            raise PlaceRuleError(f"same_place must be a string, got {value!r}")
        parts = value.split()
        if not parts or parts[0] not in KINDS:
            raise PlaceRuleError(f"same_place {value!r}: expected one of {', '.join(KINDS)}")
        if parts[0] != "point":
            if len(parts) != 1:
                raise PlaceRuleError(f"same_place {value!r}: only `point` takes a distance")
            return cls(parts[0])
        if len(parts) != 2:
            raise PlaceRuleError(f"same_place {value!r}: `point` needs a distance in metres")
        try:
            metres = float(parts[1])
        except ValueError:
            raise PlaceRuleError(f"same_place {value!r}: the distance must be a number") from None
        if not 0 < metres <= 10_000 or not math.isfinite(metres):
            raise PlaceRuleError(f"same_place {value!r}: the distance must be in (0, 10000] metres")
        return cls("point", metres)

    @property
    def house_window(self) -> int:
        """How many house numbers apart two addresses on one street may be under a `point` rule."""
        if self.metres is None:
            return 0
        return max(MIN_HOUSE_WINDOW, round(self.metres / METRES_PER_HOUSE_NUMBER))


@dataclass(frozen=True)
class Place:
    """Where a report is: its municipality, the parsed typed address, and the pin when there is one."""

    municipality_id: str | None
    address: Address
    lat: float | None = None
    lon: float | None = None

    @property
    def has_point(self) -> bool:
        return self.lat is not None and self.lon is not None


def place_rules(path: Path = SECTORS_PATH) -> dict[str, PlaceRule]:
    """Sector id → its place rule, read from sectors.yaml; a sector without `same_place` fails."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    rules: dict[str, PlaceRule] = {}
    for item in raw["sectors"]:
        sector = str(item["id"])
        if "same_place" not in item:
            raise PlaceRuleError(f"{path}: sector {sector!r} has no same_place")
        try:
            rules[sector] = PlaceRule.parse(item["same_place"])
        except PlaceRuleError as error:
            raise PlaceRuleError(f"{path}: sector {sector!r}: {error}") from None
    return rules


def _same_settlement(a: Place, b: Place) -> bool:
    # An address often leaves the settlement out (the municipality's centre is implied), so a missing
    # one does not contradict a named one; two named ones must agree.
    if a.municipality_id != b.municipality_id:
        return False
    sa, sb = a.address.settlement_key, b.address.settlement_key
    return sa is None or sb is None or sa == sb


def _near_houses(rule: PlaceRule, a: Address, b: Address) -> bool:
    if not same_street(a.street_key, b.street_key):
        return False
    if a.house == b.house and (a.house is not None or is_crossroads(a.street_key)):
        return True
    na, nb = house_number(a.house), house_number(b.house)
    if na is None or nb is None:
        return False  # "somewhere on Lenina street" is too vague for a spot
    return abs(na - nb) <= rule.house_window


def same_place(rule: PlaceRule, a: Place, b: Place) -> bool:
    """Whether two places are one place under `rule`."""
    if a.municipality_id != b.municipality_id or a.municipality_id is None:
        return False
    if rule.kind == "municipality":
        return True
    if not _same_settlement(a, b):
        return False
    if rule.kind == "settlement":
        return True
    both_points = a.has_point and b.has_point
    if rule.kind == "street":
        if a.address.street_key is not None and b.address.street_key is not None:
            return same_street(a.address.street_key, b.address.street_key)
        return both_points and _point_distance(a, b) <= STREET_FALLBACK_M
    assert rule.metres is not None  # a `point` rule always has its distance (PlaceRule.parse)
    if both_points:
        return _point_distance(a, b) <= rule.metres
    return _near_houses(rule, a.address, b.address)


def _point_distance(a: Place, b: Place) -> float:
    assert a.lat is not None and a.lon is not None and b.lat is not None and b.lon is not None
    return haversine_km(a.lat, a.lon, b.lat, b.lon) * 1000.0
