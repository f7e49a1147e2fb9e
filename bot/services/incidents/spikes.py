"""The spike detector (issue #16), pure: no database, no clock of its own.

A *cell* is a sector in a place: a municipality (`place` None) or, where the report names one, a
settlement or street inside it. Every pass counts the reports of the last `window` (60 min) per cell
and compares the count with what the baseline expects for that stretch of local time:

- **Warm baseline** (at least `warm_days` = 28 days of history): for each (cell, weekday, hour) the
  mean count of that hour over the weeks seen, shrunk towards the cold-start prior by one pseudo-week
  so a cell that never had a report in that hour does not get an expectation of zero.
- **Cold start** (less history): the sector's oblast-wide rate scaled by the municipality's share of
  the oblast population (a settlement or street: by `place_people` residents, capped at its
  municipality). The oblast-wide rate is measured from whatever history there is: with a week or
  more it has a weekday × hour shape, with a day or more an hour-of-day shape, with less it is flat
  and multiplied by `cold_margin` (a flat rate underestimates the evening peak); with no history at
  all `default_rates` are used.

Whatever the history, the expectation is at least the sector's count in the same window in the rest
of the oblast, scaled by the cell's people: what the rest of the oblast does now is the best guess
of a morning the history has not seen, and a sector busy everywhere is no local cluster.

A cell is improbable when P(X ≥ count | Poisson(expected)) — `scipy.stats.poisson.sf` — is below
`alpha / m` and count ≥ `min_count` (5). The correction is **Bonferroni** over the `m` cells that
had at least one report in the window (a cell with none has p = 1 and cannot alert, so leaving it
out changes nothing but the divisor). Bonferroni, not Benjamini–Hochberg, because the figure that
counts is false alerts per month, a family-wise rate: every false alert costs an operator's
attention, and BH would let false alerts grow with the number of true bursts in the same pass.

Cells of one sector and municipality form a *family*: one burst on a street raises the street and
its municipality together, so a pass reports at most one signal per family (the cell with the
smallest p-value), and `AlertBook` keeps one alert per family while it stays elevated.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from scipy.stats import poisson

from bot.services.geo.places import Municipality

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

# (sector, municipality, place or None)
Cell = tuple[str, str, str | None]
# (weekday 0 = Monday, hour 0..23), local time
Slot = tuple[int, int]


def cell_key(cell: Cell) -> str:
    """The stored name of a cell: "<sector>|<municipality>[|<place>]"."""
    return "|".join(part for part in cell if part is not None)


@dataclass(frozen=True, slots=True)
class Sighting:
    """One report as the detector sees it: when, which sector, where."""

    at: datetime
    sector: str
    municipality: str
    place: str | None = None
    report_id: int = 0
    lat: float | None = None
    lon: float | None = None

    def cells(self) -> tuple[Cell, ...]:
        """The municipality cell, and the place cell when the place is known."""
        municipal: Cell = (self.sector, self.municipality, None)
        if self.place:
            return municipal, (self.sector, self.municipality, self.place)
        return (municipal,)


@dataclass(frozen=True)
class SpikeConfig:
    """The detector's knobs; the defaults are what the bench measures."""

    window: timedelta = timedelta(minutes=60)
    alpha: float = 0.001
    min_count: int = 5
    warm_days: int = 28
    # Pseudo-weeks of the pooled estimate (the cell's level times the oblast's weekday × hour shape)
    # in the warm estimate of one weekday and hour: four weeks hold only four samples of an hour,
    # too few alone (their noise alone raised six false alerts a simulated month).
    slot_pseudo_weeks: float = 4.0
    # Pseudo-weeks of the cold-start prior in a cell's warm level.
    prior_weeks: float = 1.0
    # The people a settlement or street stands for in the cold-start prior of a place cell.
    place_people: int = 5000
    cold_margin: float = 2.0
    # Oblast-wide reports per hour per sector before any history (a rough, generous guess).
    default_rates: Mapping[str, float] = field(default_factory=lambda: {"*": 10.0})
    # Expected counts are floored: a cell with no reports ever is still not "impossible".
    min_expected: float = 0.01
    # An alert whose family was last elevated longer ago than this is closed; the next burst is new.
    quiet_gap: timedelta = timedelta(hours=2)


def populations(municipalities: Iterable[Municipality]) -> dict[str, int]:
    """Population per municipality id; a municipality without one in the data gets the median of
    the known ones (the unknown ones in bot/data/municipalities.csv are small districts)."""
    items = list(municipalities)
    known = [m.population for m in items if m.population]
    fallback = int(median(known)) if known else 1
    return {m.id: m.population or fallback for m in items}


def _hours(start: datetime, end: datetime) -> Iterable[datetime]:
    """The starts of the whole hours in [start, end), start truncated to the hour."""
    moment = start.replace(minute=0, second=0, microsecond=0)
    while moment < end:
        yield moment
        moment += HOUR


class Baseline:
    """Expected reports per cell and hour, from a span of history (see the module docstring)."""

    def __init__(
        self,
        history: Iterable[Sighting],
        start: datetime,
        end: datetime,
        population: Mapping[str, int],
        tz: ZoneInfo,
        config: SpikeConfig = SpikeConfig(),
    ) -> None:
        """Count `history` (reports in [start, end)) by cell, sector and local weekday and hour."""
        self._tz = tz
        self._config = config
        self._population = population
        self._total_people = max(1, sum(population.values()))
        self.span = max(timedelta(0), end - start)
        self.warm = self.span >= timedelta(days=config.warm_days)
        self._occurrences: Counter[Slot] = Counter()
        if end > start:
            for moment in _hours(start, end):
                self._occurrences[self._slot(moment)] += 1
        self._cells: Counter[tuple[Cell, Slot]] = Counter()
        self._cell_total: Counter[Cell] = Counter()
        self._sector_total: Counter[str] = Counter()
        self._all_by_slot: Counter[Slot] = Counter()
        self._all_by_hour: Counter[int] = Counter()
        total = 0
        for sighting in history:
            if not start <= sighting.at < end:
                continue
            slot = self._slot(sighting.at)
            total += 1
            self._sector_total[sighting.sector] += 1
            self._all_by_slot[slot] += 1
            self._all_by_hour[slot[1]] += 1
            if self.warm:
                for cell in sighting.cells():
                    self._cells[cell, slot] += 1
                    self._cell_total[cell] += 1
        self._hours_seen = self.span / HOUR
        self._all_mean = total / self._hours_seen if self._hours_seen > 0 else 0.0

    def _slot(self, moment: datetime) -> Slot:
        local = moment.astimezone(self._tz)
        return local.weekday(), local.hour

    def _shape(self, slot: Slot) -> float:
        """How busy this weekday and hour is against the oblast's mean hour (1.0 = average)."""
        if self._all_mean <= 0:
            return self._config.cold_margin
        if self.span >= 7 * DAY and self._occurrences[slot]:
            return self._all_by_slot[slot] / self._occurrences[slot] / self._all_mean
        if self.span >= DAY:
            days = sum(n for (_, hour), n in self._occurrences.items() if hour == slot[1])
            return self._all_by_hour[slot[1]] / max(1, days) / self._all_mean
        return self._config.cold_margin

    def oblast_rate(self, sector: str, slot: Slot) -> float:
        """The sector's oblast-wide reports per hour at this weekday and hour."""
        if self._hours_seen >= 1 and self._all_mean > 0:
            mean = self._sector_total[sector] / self._hours_seen
        else:
            defaults = self._config.default_rates
            mean = defaults.get(sector, defaults.get("*", 1.0))
        return mean * self._shape(slot)

    def people(self, cell: Cell) -> int:
        """The residents a cell stands for: its municipality's, or `place_people` for a place."""
        people = self._population.get(cell[1], 0)
        return min(people, self._config.place_people) if cell[2] is not None else people

    @property
    def total_people(self) -> int:
        return self._total_people

    def prior(self, cell: Cell, slot: Slot) -> float:
        """The cold-start rate per hour: the oblast rate scaled by the people of the place."""
        return self.oblast_rate(cell[0], slot) * self.people(cell) / self._total_people

    def rate(self, cell: Cell, slot: Slot) -> float:
        """Expected reports per hour in `cell` at this weekday and hour."""
        prior = self.prior(cell, slot)
        if not self.warm:
            return prior
        config = self._config
        # The cell's mean hour over the whole history (the prior's level as pseudo-weeks), shaped
        # like the oblast's weekday and hour; then the cell's own counts of this hour pulled to it.
        shape = self._shape(slot)
        prior_level = prior / shape if shape > 0 else prior
        pseudo_hours = 168 * config.prior_weeks
        level = (self._cell_total[cell] + prior_level * pseudo_hours) / (self._hours_seen + pseudo_hours)
        pooled = level * shape
        k = config.slot_pseudo_weeks
        return (self._cells[cell, slot] + pooled * k) / (self._occurrences[slot] + k)

    def expected(self, cell: Cell, start: datetime, end: datetime) -> float:
        """Expected reports in `cell` during [start, end), the hourly rates integrated."""
        total = 0.0
        for hour in _hours(start, end):
            overlap = min(end, hour + HOUR) - max(start, hour)
            total += self.rate(cell, self._slot(hour)) * (overlap / HOUR)
        return max(total, self._config.min_expected)


@dataclass(frozen=True)
class Signal:
    """An improbable cell in one pass (the most improbable of its family)."""

    cell: Cell
    count: int
    expected: float
    p_value: float
    # The threshold it beat: alpha / cells tested.
    threshold: float
    sightings: tuple[Sighting, ...]

    @property
    def family(self) -> tuple[str, str]:
        return self.cell[0], self.cell[1]

    @property
    def report_ids(self) -> list[int]:
        return sorted({s.report_id for s in self.sightings})

    def pin(self) -> tuple[float, float] | None:
        """The mean pin of the cluster's reports that have one (a street's extent, so plain means)."""
        lats: list[float] = []
        lons: list[float] = []
        for s in self.sightings:
            if s.lat is not None and s.lon is not None:
                lats.append(s.lat)
                lons.append(s.lon)
        if not lats:
            return None
        return sum(lats) / len(lats), sum(lons) / len(lons)


def scan(
    recent: Sequence[Sighting], now: datetime, baseline: Baseline, config: SpikeConfig = SpikeConfig()
) -> list[Signal]:
    """The improbable cells among the reports of [now - window, now], one per family."""
    start = now - config.window
    by_cell: dict[Cell, list[Sighting]] = {}
    for sighting in recent:
        if start < sighting.at <= now:
            for cell in sighting.cells():
                by_cell.setdefault(cell, []).append(sighting)
    tested = len(by_cell)
    if not tested:
        return []
    threshold = config.alpha / tested
    # The oblast-wide count of each sector in this very window: a floor under every expectation
    # (the rest of the oblast, scaled by the cell's people), so a morning the history has not seen
    # yet, or a sector busy everywhere (a snowfall), is not a local cluster.
    sector_now: Counter[str] = Counter()
    for (sector, _, place), sightings in by_cell.items():
        if place is None:
            sector_now[sector] += len(sightings)
    best: dict[tuple[str, str], Signal] = {}
    for cell, sightings in by_cell.items():
        count = len(sightings)
        if count < config.min_count:
            continue
        here = len(by_cell.get((cell[0], cell[1], None), ()))
        elsewhere = baseline.total_people - baseline.people((cell[0], cell[1], None))
        now_rate = (sector_now[cell[0]] - here) * baseline.people(cell) / max(1, elsewhere)
        expected = max(baseline.expected(cell, start, now), now_rate)
        p_value = float(poisson.sf(count - 1, expected))
        if not p_value < threshold:
            continue
        signal = Signal(cell, count, expected, p_value, threshold, tuple(sightings))
        family = signal.family
        if family not in best or _more_telling(signal, best[family]):
            best[family] = signal
    return sorted(best.values(), key=lambda s: s.p_value)


def _more_telling(a: Signal, b: Signal) -> bool:
    # Lower p first; a tie (both underflow to 0) goes to the more specific place.
    if a.p_value != b.p_value:
        return a.p_value < b.p_value
    return a.cell[2] is not None and b.cell[2] is None


@dataclass
class Alert:
    """One alert per family while it stays elevated."""

    signal: Signal
    opened_at: datetime
    last_seen_at: datetime
    passes: int = 1


@dataclass
class AlertBook:
    """The in-memory version of the `spike_alerts` table (the bench uses it; the running pass reads
    the table instead): a family that alerted and is still elevated extends its alert."""

    config: SpikeConfig = field(default_factory=SpikeConfig)
    alerts: list[Alert] = field(default_factory=list)
    _live: dict[tuple[str, str], Alert] = field(default_factory=dict)

    def update(self, now: datetime, signals: Iterable[Signal]) -> list[Alert]:
        """Record a pass's signals; returns the alerts opened by this pass."""
        opened: list[Alert] = []
        for signal in signals:
            live = self._live.get(signal.family)
            if live is not None and now - live.last_seen_at <= self.config.quiet_gap:
                live.last_seen_at = now
                live.passes += 1
                continue
            alert = Alert(signal, now, now)
            self._live[signal.family] = alert
            self.alerts.append(alert)
            opened.append(alert)
        return opened

    def alerted_reports(self) -> set[int]:
        """Report ids attached to alerts (left out of later baselines: a burst is no normal day)."""
        return {i for a in self.alerts for i in a.signal.report_ids}


def p_value_text(p_value: float) -> str:
    """A p-value as people read it: "3.2e-07", or "< 1e-300" when it underflowed."""
    if p_value <= 0 or math.isnan(p_value):
        return "< 1e-300"
    return f"{p_value:.1e}"
