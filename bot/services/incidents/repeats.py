"""Repeated reports (decree 459-УГ: the repeats the ЦУР must prevent): a report of one sector about
one place (the sector's `same_place` rule) filed within 90 days after an earlier one there was closed.

Repeats link reports into chains, a chain is a recurring problem, and problems are ranked per
municipality for the weekly digest. Only problems with a repeat filed in the period are found, so
only reports created or closed in the period plus the 90-day window before it are ever read, and
only the (sector, municipality) groups that had a report filed in the period, each by the indexed
place columns of that period's reports.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.geo.addresses import CROSSROADS, STREET_TYPES, UNKNOWN_TYPE, Address, street_name
from bot.services.geo.cells import cell_of, cells_around
from bot.services.incidents.places import Place, PlaceRule, same_place
from bot.services.reports.lifecycle import Status
from storage.models import Report

REPEAT_WINDOW = timedelta(days=90)
# Every street type a key may carry: a key typed without its type ("*:ленина") matches all of them.
_TYPES = (*STREET_TYPES, CROSSROADS, UNKNOWN_TYPE)
# A pin's cell and the eight around it cover at least this far (a cell is ~1.1 by ~1.2 km); a point
# rule reaching farther compares every pair of its group.
CELL_REACH_M = 1000.0


@dataclass(frozen=True)
class PlacedReport:
    """The columns of a report that say where, when and in which sector (no citizen's words)."""

    id: int
    number: str
    sector_id: str
    municipality_id: str
    street_key: str | None
    house: str | None
    settlement_key: str | None
    lat: float | None
    lon: float | None
    created_at: datetime
    closed_at: datetime | None
    body_id: str

    @property
    def place(self) -> Place:
        return Place(
            self.municipality_id,
            Address(self.street_key, self.house, self.settlement_key),
            self.lat,
            self.lon,
        )


@dataclass(frozen=True)
class RecurringProblem:
    """One place+sector chain: its reports oldest first, and which of them are repeats."""

    sector_id: str
    municipality_id: str
    reports: tuple[PlacedReport, ...]
    repeat_ids: frozenset[int] = field(default_factory=frozenset)
    # The sector's place rule kind (point, street, settlement, municipality): how the place is named.
    place_kind: str = "point"

    @property
    def repeats(self) -> int:
        return len(self.repeat_ids)

    @property
    def latest(self) -> PlacedReport:
        return self.reports[-1]

    @property
    def where(self) -> PlacedReport:
        """The report whose address names the place best: the latest one with a street (with a
        settlement under a settlement rule)."""
        if self.place_kind == "settlement":
            named = [r for r in self.reports if r.settlement_key is not None]
        else:
            named = [r for r in self.reports if r.street_key is not None]
        return (named or list(self.reports))[-1]


def is_repeat(rule: PlaceRule, earlier: PlacedReport, later: PlacedReport, window: timedelta) -> bool:
    """`later` reports the place and sector of `earlier` again within `window` after it closed."""
    if earlier.closed_at is None or earlier.id == later.id or earlier.sector_id != later.sector_id:
        return False
    if not earlier.closed_at < later.created_at <= earlier.closed_at + window:
        return False
    return same_place(rule, earlier.place, later.place)


class _Chains:
    """Union-find over report ids: a repeat joins its report to the one it repeats."""

    def __init__(self) -> None:
        self._parent: dict[int, int] = {}

    def find(self, item: int) -> int:
        root = self._parent.setdefault(item, item)
        while root != self._parent[root]:
            root = self._parent[root]
        while item != root:  # path compression keeps long chains (a busy street) cheap
            self._parent[item], item = root, self._parent[item]
        return root

    def union(self, a: int, b: int) -> None:
        self._parent[self.find(a)] = self.find(b)

    def linked(self, item: int) -> bool:
        """Whether `item` took part in a union (only those are in `_parent`)."""
        return item in self._parent


def _sweep(bucket: Sequence[PlacedReport], window: timedelta, chains: _Chains, repeats: set[int]) -> None:
    """Link repeats in a bucket whose reports are all one place (a municipality- or settlement-wide
    rule): linear in the bucket, where comparing every pair would be quadratic in a city's month."""
    closed = sorted((r for r in bucket if r.closed_at is not None), key=lambda r: (r.closed_at, r.id))
    closed_at = [r.closed_at for r in closed if r.closed_at is not None]
    joined = 0  # closed[i] and closed[i + 1] are already linked for every i < joined
    for later in sorted(bucket, key=lambda r: (r.created_at, r.id)):
        # The reports closed in the 90 days before `later` was filed: one contiguous run of `closed`,
        # and the run only moves forward as `later` does.
        start = bisect_left(closed_at, later.created_at - window)
        end = bisect_left(closed_at, later.created_at)
        if start == end:
            continue
        repeats.add(later.id)
        chains.union(closed[end - 1].id, later.id)
        # `later` repeats each of them, so the whole run is one chain: link its neighbours once.
        for index in range(max(joined, start), end - 1):
            chains.union(closed[index].id, closed[index + 1].id)
        joined = max(joined, end - 1)


def _pairwise(
    rule: PlaceRule, members: Sequence[PlacedReport], window: timedelta, chains: _Chains, repeats: set[int]
) -> None:
    """Link repeats under a street or point rule, comparing only reports on a street of that name or
    in the grid cells around the pin (a point rule reaches no farther, see bot/services/geo/cells.py)."""
    closed = [r for r in members if r.closed_at is not None]
    if rule.metres is not None and rule.metres > CELL_REACH_M:
        by_street: dict[str, list[PlacedReport]] = {}
        by_cell: dict[str, list[PlacedReport]] = {}
    else:
        by_street, by_cell = defaultdict(list), defaultdict(list)
        for report in closed:
            if report.street_key is not None:
                by_street[street_name(report.street_key)].append(report)
            cell = cell_of(report.lat, report.lon)
            if cell is not None:
                by_cell[cell].append(report)
    for later in members:
        if not by_street and not by_cell:
            candidates: Iterable[PlacedReport] = closed  # a rule wider than the grid: every pair
        else:
            found: dict[int, PlacedReport] = {}
            if later.street_key is not None:
                found.update((r.id, r) for r in by_street.get(street_name(later.street_key), ()))
            if later.lat is not None and later.lon is not None:
                for cell in cells_around(later.lat, later.lon):
                    found.update((r.id, r) for r in by_cell.get(cell, ()))
            candidates = found.values()
        for earlier in candidates:
            if is_repeat(rule, earlier, later, window):
                chains.union(earlier.id, later.id)
                repeats.add(later.id)


def chain_problems(
    reports: Iterable[PlacedReport],
    rules: Mapping[str, PlaceRule],
    *,
    since: datetime,
    until: datetime,
    window: timedelta = REPEAT_WINDOW,
) -> list[RecurringProblem]:
    """Recurring problems among `reports` with at least one repeat filed in [since, until), ranked:
    most repeats first, then most reports, then the most recent."""
    groups: dict[tuple[str, str], list[PlacedReport]] = defaultdict(list)
    for report in reports:
        groups[(report.sector_id, report.municipality_id)].append(report)
    problems: list[RecurringProblem] = []
    for (sector_id, municipality_id), members in groups.items():
        rule = rules.get(sector_id)
        if rule is None:
            continue  # a sector no longer configured has no place rule to compare by
        problems += _group_problems(rule, sector_id, municipality_id, members, since, until, window)
    return sorted(problems, key=_rank)


def _group_problems(
    rule: PlaceRule,
    sector_id: str,
    municipality_id: str,
    members: list[PlacedReport],
    since: datetime,
    until: datetime,
    window: timedelta,
) -> list[RecurringProblem]:
    chains = _Chains()
    repeats: set[int] = set()
    if rule.kind == "municipality":
        _sweep(members, window, chains, repeats)
    elif rule.kind == "settlement":
        # A report naming no settlement is in the municipality's centre or anywhere: it is one place
        # with every settlement (places.py), so it joins each settlement's bucket.
        named: dict[str, list[PlacedReport]] = defaultdict(list)
        loose = [r for r in members if r.settlement_key is None]
        for report in members:
            if report.settlement_key is not None:
                named[report.settlement_key].append(report)
        for bucket in list(named.values()) or [[]]:
            _sweep([*bucket, *loose], window, chains, repeats)
    else:
        _pairwise(rule, members, window, chains, repeats)
    by_root: dict[int, list[PlacedReport]] = defaultdict(list)
    for report in members:
        if chains.linked(report.id):  # a report never repeated nor repeating is no problem
            by_root[chains.find(report.id)].append(report)
    problems = []
    for chain in by_root.values():
        chain_repeats = frozenset(r.id for r in chain if r.id in repeats)
        if not any(since <= r.created_at < until for r in chain if r.id in chain_repeats):
            continue  # recurring, but not again in this period: last period's digest told of it
        chain.sort(key=lambda r: (r.created_at, r.id))
        problems.append(RecurringProblem(sector_id, municipality_id, tuple(chain), chain_repeats, rule.kind))
    return problems


def _rank(problem: RecurringProblem) -> tuple[int, int, float, int]:
    return (
        -problem.repeats,
        -len(problem.reports),
        -problem.latest.created_at.timestamp(),
        problem.latest.id,
    )


def top_per_municipality(problems: Iterable[RecurringProblem], top: int) -> dict[str, list[RecurringProblem]]:
    """The `top` highest-ranked problems of each municipality (input order is the rank)."""
    result: dict[str, list[RecurringProblem]] = defaultdict(list)
    for problem in problems:
        if len(result[problem.municipality_id]) < top:
            result[problem.municipality_id].append(problem)
    return dict(result)


# ------------------------------------------------------------------------------------- queries

_COLUMNS = (
    Report.id,
    Report.number,
    Report.sector_id,
    Report.municipality_id,
    Report.street_key,
    Report.house,
    Report.settlement_key,
    Report.latitude,
    Report.longitude,
    Report.created_at,
    Report.closed_at,
    Report.body_id,
)


def _placed(row: Sequence[object]) -> PlacedReport:
    rid, number, sector, municipality, street, house, settlement, lat, lon, created, closed, body = row
    assert isinstance(rid, int) and isinstance(created, datetime)
    return PlacedReport(
        id=rid,
        number=str(number or rid),
        sector_id=str(sector),
        municipality_id=str(municipality),
        street_key=street if isinstance(street, str) else None,
        house=house if isinstance(house, str) else None,
        settlement_key=settlement if isinstance(settlement, str) else None,
        lat=float(lat) if isinstance(lat, int | float) else None,
        lon=float(lon) if isinstance(lon, int | float) else None,
        created_at=created,
        closed_at=closed if isinstance(closed, datetime) else None,
        body_id=str(body),
    )


def _street_variants(street_key: str) -> set[str]:
    """The stored keys `same_street` may match: itself, the untyped form, and with a typeless key
    every typed one."""
    kind, _, name = street_key.partition(":")
    if kind == UNKNOWN_TYPE:
        return {f"{t}:{name}" for t in _TYPES}
    return {street_key, f"{UNKNOWN_TYPE}:{name}"}


def _place_filter(rule: PlaceRule, fresh: Sequence[PlacedReport]) -> ColumnElement[bool] | None:
    """Where the period's reports of a group are, as indexed columns; None: the whole group."""
    if rule.kind in ("municipality", "settlement") or (rule.metres or 0.0) > CELL_REACH_M:
        return None
    streets: set[str] = set()
    cells: set[str] = set()
    for report in fresh:
        if report.street_key is not None:
            streets |= _street_variants(report.street_key)
        if report.lat is not None and report.lon is not None:
            cells.update(cells_around(report.lat, report.lon))
    terms: list[ColumnElement[bool]] = []
    if streets:
        terms.append(Report.street_key.in_(sorted(streets)))
    if cells:
        terms.append(Report.geo_cell.in_(sorted(cells)))
    return or_(*terms) if terms else false()


async def find_recurring(
    session: AsyncSession,
    rules: Mapping[str, PlaceRule],
    *,
    since: datetime,
    until: datetime,
    sectors: Sequence[str] | None = None,
    window: timedelta = REPEAT_WINDOW,
) -> list[RecurringProblem]:
    """Recurring problems with a repeat filed in [since, until), ranked (see `chain_problems`)."""
    counted = Report.status != Status.REJECTED.value  # spam and out-of-competence repeat nothing
    in_scope = [Report.municipality_id.is_not(None), counted]
    if sectors is not None:
        in_scope.append(Report.sector_id.in_(list(sectors)))
    fresh_rows = await session.execute(
        select(*_COLUMNS).where(*in_scope, Report.created_at >= since, Report.created_at < until)
    )
    fresh: dict[tuple[str, str], list[PlacedReport]] = defaultdict(list)
    for row in fresh_rows:
        report = _placed(tuple(row))
        fresh[(report.sector_id, report.municipality_id)].append(report)
    lower = since - window
    loaded: dict[int, PlacedReport] = {}
    for (sector_id, municipality_id), reports in fresh.items():
        rule = rules.get(sector_id)
        if rule is None:
            continue
        where = _place_filter(rule, reports)
        conditions = [
            Report.sector_id == sector_id,  # with the municipality: ix_reports_place
            Report.municipality_id == municipality_id,
            counted,
            or_(
                and_(Report.created_at >= lower, Report.created_at < until),
                and_(Report.closed_at >= lower, Report.closed_at < until),
            ),
        ]
        if where is not None:
            conditions.append(where)
        for row in await session.execute(select(*_COLUMNS).where(*conditions)):
            report = _placed(tuple(row))
            loaded[report.id] = report
        for report in reports:
            loaded.setdefault(report.id, report)
    return chain_problems(loaded.values(), rules, since=since, until=until, window=window)
