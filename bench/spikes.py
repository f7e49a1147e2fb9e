"""A simulated month for the spike detector (issue #16): are bursts caught fast, and are false
alerts rare?

Usage: .venv/bin/python bench/spikes.py [--days 30] [--warmup 28] [--seed 16] [--step 5]
       (--warmup 0 = cold start: the detector begins with no history at all)

The synthetic stream (fixed seed, numpy's Poisson generator, nothing read from the network):
- `OBLAST_PER_DAY` = 1200 reports a day for the whole oblast, split over sectors by
  `SECTOR_SHARES` and over municipalities by population (bot/data/municipalities.csv; one without
  a population counts as the median town, as in the detector);
- times the local (Asia/Yekaterinburg) `HOUR_SHAPE` (quiet nights, morning and evening peaks)
  and `WEEKDAY_SHAPE` (busier Mondays, quiet Sundays), both averaging 1;
- counts per (sector, municipality, hour) are Poisson, times uniform in the hour; half the reports
  name a street, uniformly one of population / 2000 streets of their municipality (at least 5).
- `BURSTS`: reports about one problem in one place, planted in the month: 10 to 30 reports,
  arriving front-loaded as an outage's do (exponential gaps, mean `BURST_MEAN_MINUTES` after the
  start, truncated to the hour), three quarters of them naming the burst's street.

The detector runs a pass every `--step` minutes over the last 60 minutes, its baseline rebuilt
from the last 28 days (reports of alerts left out) every hour during the first day, every six
hours while it is cold, then daily. Printed: per burst its detection delay (goal <= 15 min), the
false alerts (alerts matching no burst; goal <= 1 a month), and the runtime. The last line is
`RESULT <json>` for tests.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    # Run as a plain script, so the repository is not on the import path by itself.
    sys.path.insert(0, str(REPO_ROOT))

from bot.services.geo.directory import MunicipalityDirectory  # noqa: E402
from bot.services.incidents.spikes import (  # noqa: E402
    AlertBook,
    Baseline,
    Sighting,
    SpikeConfig,
    populations,
    scan,
)

TZ = ZoneInfo("Asia/Yekaterinburg")
OBLAST_PER_DAY = 1200.0
SECTOR_SHARES = {
    "housing": 0.35,
    "roads": 0.15,
    "waste": 0.10,
    "transport": 0.08,
    "energy": 0.07,
    "health": 0.09,
    "education": 0.04,
    "social": 0.05,
    "other": 0.07,
}
# Local hours 0..23, relative to the mean hour.
_HOURS = [0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.5, 1.0, 1.5, 1.8, 1.8, 1.7]
_HOURS += [1.6, 1.5, 1.5, 1.5, 1.5, 1.5, 1.6, 1.6, 1.4, 1.1, 0.7, 0.35]
HOUR_SHAPE = [h * 24 / sum(_HOURS) for h in _HOURS]
_DAYS = [1.2, 1.1, 1.05, 1.0, 1.0, 0.85, 0.8]
WEEKDAY_SHAPE = [d * 7 / sum(_DAYS) for d in _DAYS]
PLACE_SHARE = 0.5
PEOPLE_PER_STREET = 2000
BURST_PLACE_SHARE = 0.75
BURST_MEAN_MINUTES = 8.0
# A Monday at midnight, local time.
MONTH_START = datetime(2026, 11, 2, tzinfo=TZ).astimezone(UTC)
GOAL_DELAY_MINUTES = 15
GOAL_FALSE = 1


@dataclass(frozen=True)
class Burst:
    """A planted burst: `day` of the month, local hour and minute of its start."""

    day: int
    hour: int
    minute: int
    sector: str
    municipality: str
    size: int

    def start(self) -> datetime:
        local = (MONTH_START.astimezone(TZ) + timedelta(days=self.day)).replace(
            hour=self.hour, minute=self.minute
        )
        return local.astimezone(UTC)

    @property
    def place(self) -> str:
        return f"burst-street-{self.day}-{self.hour}"


# Spread over the month, day and night, big and small places; days past --days are dropped.
BURSTS = (
    Burst(0, 11, 20, "energy", "kamensk-uralsky", 12),
    Burst(1, 19, 5, "housing", "ekaterinburg", 20),
    Burst(4, 3, 40, "energy", "alapaevsk", 10),
    Burst(9, 9, 15, "waste", "nizhny-tagil", 15),
    Burst(15, 14, 0, "roads", "ekaterinburg", 25),
    Burst(21, 8, 30, "housing", "pervouralsk", 30),
    Burst(27, 17, 45, "transport", "berezovsky", 18),
)


def synthetic_stream(
    rng: np.random.Generator, start: datetime, hours: int, people: dict[str, int]
) -> list[Sighting]:
    """Background reports for `hours` hours from `start` (see the module docstring)."""
    sectors = list(SECTOR_SHARES)
    munis = list(people)
    total = sum(people.values())
    base = np.outer([SECTOR_SHARES[s] for s in sectors], [people[m] / total for m in munis]) * (
        OBLAST_PER_DAY / 24
    )
    streets = [max(5, people[m] // PEOPLE_PER_STREET) for m in munis]
    events: list[Sighting] = []
    for index in range(hours):
        hour_start = start + timedelta(hours=index)
        local = hour_start.astimezone(TZ)
        counts = rng.poisson(base * HOUR_SHAPE[local.hour] * WEEKDAY_SHAPE[local.weekday()])
        for s, m in zip(*np.nonzero(counts), strict=True):
            for _ in range(int(counts[s, m])):
                at = hour_start + timedelta(seconds=float(rng.uniform(0, 3600)))
                place = None
                if rng.random() < PLACE_SHARE:
                    place = f"street-{int(rng.integers(streets[m]))}"
                events.append(Sighting(at, sectors[s], munis[m], place, len(events) + 1))
    return events


def burst_reports(rng: np.random.Generator, burst: Burst, first_id: int) -> list[Sighting]:
    """A burst's reports: front-loaded arrivals within the hour, most naming its street."""
    out: list[Sighting] = []
    for index in range(burst.size):
        minutes = float(rng.exponential(BURST_MEAN_MINUTES))
        while minutes >= 60:
            minutes = float(rng.exponential(BURST_MEAN_MINUTES))
        place = burst.place if rng.random() < BURST_PLACE_SHARE else None
        at = burst.start() + timedelta(minutes=minutes)
        out.append(Sighting(at, burst.sector, burst.municipality, place, first_id + index))
    return out


def rebuild_every(span: timedelta, config: SpikeConfig) -> timedelta:
    if span < timedelta(days=1):
        return timedelta(hours=1)
    if span < timedelta(days=config.warm_days):
        return timedelta(hours=6)
    return timedelta(days=1)


def simulate(days: int, warmup: int, seed: int, step_minutes: int) -> dict[str, object]:
    """Run the month; returns the figures the bench prints."""
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    config = SpikeConfig()
    people = populations(MunicipalityDirectory.load().all())
    history_start = MONTH_START - timedelta(days=warmup)
    events = synthetic_stream(rng, history_start, (warmup + days) * 24, people)
    month_end = MONTH_START + timedelta(days=days)
    bursts = [b for b in BURSTS if b.start() < month_end - timedelta(hours=1)]
    unknown = {b.municipality for b in bursts} - set(people)
    if unknown:
        raise ValueError(f"bursts in unknown municipalities: {sorted(unknown)}")
    burst_ids: dict[Burst, set[int]] = {}
    for burst in bursts:
        planted = burst_reports(rng, burst, len(events) + 1)
        burst_ids[burst] = {s.report_id for s in planted}
        events += planted
    events.sort(key=lambda s: s.at)
    generated = time.perf_counter()

    book = AlertBook(config)
    step = timedelta(minutes=step_minutes)
    baseline: Baseline | None = None
    built_at = MONTH_START
    now = MONTH_START + step
    lo = hi = 0
    passes = 0
    while now <= month_end:
        if baseline is None or now - built_at >= rebuild_every(baseline.span, config):
            since = max(history_start, now - config.window - timedelta(days=config.warm_days))
            skip = book.alerted_reports()
            history = [s for s in events if since <= s.at < now - config.window and s.report_id not in skip]
            baseline = Baseline(history, since, now - config.window, people, TZ, config)
            built_at = now
        while hi < len(events) and events[hi].at <= now:
            hi += 1
        while lo < hi and events[lo].at <= now - config.window:
            lo += 1
        book.update(now, scan(events[lo:hi], now, baseline, config))
        passes += 1
        now += step
    detected = time.perf_counter()

    delays: dict[str, float | None] = {}
    matched: set[int] = set()
    for burst in bursts:
        hits = [
            (i, a)
            for i, a in enumerate(book.alerts)
            if a.signal.family == (burst.sector, burst.municipality)
            and burst.start() <= a.opened_at <= burst.start() + timedelta(hours=1)
            and burst_ids[burst] & set(a.signal.report_ids)
        ]
        when = f"day {burst.day} {burst.hour:02d}:{burst.minute:02d}"
        label = f"{burst.sector}@{burst.municipality} {when} x{burst.size}"
        if hits:
            matched.update(i for i, _ in hits)
            delays[label] = (hits[0][1].opened_at - burst.start()) / timedelta(minutes=1)
        else:
            delays[label] = None
    false_alerts = [a for i, a in enumerate(book.alerts) if i not in matched]
    return {
        "days": days,
        "warmup_days": warmup,
        "seed": seed,
        "step_minutes": step_minutes,
        "reports": len(events),
        "passes": passes,
        "bursts": len(bursts),
        "delays_minutes": delays,
        "missed": sum(1 for d in delays.values() if d is None),
        "max_delay_minutes": max((d for d in delays.values() if d is not None), default=None),
        "false_alerts": len(false_alerts),
        "false_alert_cells": [
            f"{'|'.join(p for p in a.signal.cell if p)} {a.opened_at:%m-%d %H:%M} "
            f"n={a.signal.count} exp={a.signal.expected:.2f}"
            for a in false_alerts
        ],
        "generate_seconds": round(generated - started, 2),
        "detect_seconds": round(detected - generated, 2),
        "ms_per_pass": round((detected - generated) / max(1, passes) * 1000, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30, help="length of the simulated month")
    parser.add_argument("--warmup", type=int, default=28, help="days of history before it; 0 = cold start")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--step", type=int, default=5, help="minutes between passes")
    args = parser.parse_args(argv)
    if not 1 <= args.days <= 62 or not 0 <= args.warmup <= 56 or not 1 <= args.step <= 15:
        parser.error("days 1..62, warmup 0..56, step 1..15")
    result = simulate(args.days, args.warmup, args.seed, args.step)
    mode = "cold start" if args.warmup == 0 else f"{args.warmup} days of warm-up history"
    print(f"spike bench: {args.days} days, {mode}, seed {args.seed}, a pass every {args.step} min")
    print(f"reports {result['reports']}, passes {result['passes']}")
    delays = result["delays_minutes"]
    assert isinstance(delays, dict)
    for label, delay in delays.items():
        verdict = "MISSED" if delay is None else f"{delay:.0f} min"
        print(f"  burst {label}: {verdict}")
    print(f"max detection delay: {result['max_delay_minutes']} min (goal <= {GOAL_DELAY_MINUTES})")
    scaled = result["false_alerts"]
    print(f"false alerts: {scaled} in {args.days} days (goal <= {GOAL_FALSE} a month)")
    for cell in result["false_alert_cells"]:  # type: ignore[attr-defined]
        print(f"  false: {cell}")
    print(
        f"runtime: generate {result['generate_seconds']} s, detect {result['detect_seconds']} s "
        f"({result['ms_per_pass']} ms a pass)"
    )
    print("RESULT " + json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
