"""Open reports about the same problem near a place: the candidates are found by index (sector,
municipality, then the street or the pin's grid cells), the decision is the sector's place rule and
the texts' likeness (`is_duplicate`), and the best few are returned, most alike first.

Only reports already routed and still open are candidates, and only those with a clock of their
own (standalone reports and incidents' leads): a follower is found through its lead.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.geo.addresses import (
    CROSSROADS,
    STREET_TYPES,
    UNKNOWN_TYPE,
    Address,
    parse_address,
    street_name,
)
from bot.services.geo.cells import cells_around
from bot.services.incidents.places import Place, PlaceRule
from bot.services.incidents.similarity import address_words, is_duplicate, similarity
from bot.services.reports.followers import not_a_follower
from bot.services.reports.lifecycle import Status
from storage.models import Report

OFFERABLE = (Status.ROUTED.value, Status.IN_PROGRESS.value, Status.NEEDS_INFO.value)
# A problem reported again after two months is a repeat (the weekly digest's business), not a duplicate.
LOOKBACK = timedelta(days=60)
# Enough for the busiest street of Yekaterinburg in one sector; the query stays on its index.
CANDIDATE_LIMIT = 200
STREET_KINDS = sorted({kind for kind, _ in STREET_TYPES.values()} | {UNKNOWN_TYPE, CROSSROADS})


@dataclass(frozen=True)
class Probe:
    """What a new report says about itself: its sector, place and words."""

    sector_id: str
    municipality_id: str | None
    address: str | None
    lat: float | None
    lon: float | None
    text: str

    @property
    def place(self) -> Place:
        return Place(self.municipality_id, parse_address(self.address or ""), self.lat, self.lon)


def report_place(report: Report) -> Place:
    """A stored report's place, from the columns parsed at filing."""
    return Place(
        report.municipality_id,
        Address(report.street_key, report.house, report.settlement_key),
        report.latitude,
        report.longitude,
    )


def _place_filter(
    rule: PlaceRule, address: Address, lat: float | None, lon: float | None
) -> ColumnElement[bool] | None:
    """The index-friendly part of the place rule; None when the place is too vague for the rule."""
    if rule.kind in ("municipality", "settlement"):
        return true()  # the settlement, when named, is compared in Python
    clauses: list[ColumnElement[bool]] = []
    if address.street_key is not None:
        name = street_name(address.street_key)
        keys = {address.street_key}
        if name:
            # "Ленина" typed without its type matches "улица Ленина" (`same_street`): every key is
            # "type:name", so listing the types keeps it an index lookup (a LIKE '%:name' is not).
            keys |= {f"{kind}:{name}" for kind in STREET_KINDS}
        clauses.append(Report.street_key.in_(sorted(keys)))
    if lat is not None and lon is not None:
        clauses.append(Report.geo_cell.in_(cells_around(lat, lon)))
    return or_(*clauses) if clauses else None


async def similar_open(
    session: AsyncSession,
    rules: Mapping[str, PlaceRule],
    probe: Probe,
    now: datetime,
    *,
    exclude: Collection[int] = (),
    limit: int = 3,
) -> list[Report]:
    """Up to `limit` open, routed reports (standalone or leads) that are the probe's problem."""
    rule = rules.get(probe.sector_id)
    place = probe.place
    if rule is None or probe.municipality_id is None:
        return []
    narrow = _place_filter(rule, place.address, probe.lat, probe.lon)
    if narrow is None:
        return []
    query = (
        select(Report)
        .where(
            Report.sector_id == probe.sector_id,
            Report.municipality_id == probe.municipality_id,
            Report.status.in_(OFFERABLE),
            Report.created_at >= now - LOOKBACK,
            not_a_follower(),
            narrow,
        )
        .order_by(Report.id.desc())
        .limit(CANDIDATE_LIMIT)
    )
    if exclude:
        query = query.where(Report.id.notin_(list(exclude)))
    scored: list[tuple[float, int, Report]] = []
    for candidate in await session.scalars(query):
        other = report_place(candidate)
        if not is_duplicate(
            probe.sector_id, place, probe.text, candidate.sector_id, other, candidate.text, rules
        ):
            continue
        score = similarity(probe.text, candidate.text, address_words(place.address, other.address))
        scored.append((score, candidate.id, candidate))
    scored.sort(key=lambda item: (-item[0], -item[1]))
    return [report for _, _, report in scored[:limit]]
