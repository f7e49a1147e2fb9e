"""Due dates of reports on the Russian production calendar (производственный календарь).

Sector deadlines (bot/data/sectors.yaml) are given in working hours (first reaction) and working days
(answer). The `holidays` package knows Russian public holidays, the days off transferred by government
decree and the Saturdays that become working days, so weekends and the New Year holidays come for free.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

DEFAULT_TIMEZONE = "Asia/Yekaterinburg"
OFFICE_START = time(9)
OFFICE_END = time(18)
# A safety net against a broken calendar: no real year has a gap of working days this long.
_MAX_DAYS_WITHOUT_WORK = 60


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment!r}")


class WorkCalendar:
    """Working days and office hours of the bodies in one time zone."""

    def __init__(
        self, tz: str = DEFAULT_TIMEZONE, start: time = OFFICE_START, end: time = OFFICE_END
    ) -> None:
        """Office hours run from `start` to `end` local time on each working day in `tz`."""
        if start >= end:
            raise ValueError(f"office hours must start before they end: {start}–{end}")
        self.tz = ZoneInfo(tz)
        self.start = start
        self.end = end
        self._calendar = holidays.country_holidays("RU")
        # Cached per instance: is_working_day is hot in the loops below and the calendar never changes
        # while the process runs.
        self._is_working_day = lru_cache(maxsize=4096)(self._lookup)

    def _lookup(self, day: date) -> bool:
        return bool(self._calendar.is_working_day(day))

    def is_working_day(self, day: date) -> bool:
        """True when `day` is a working day: not a weekend or holiday, or a working Saturday."""
        return self._is_working_day(day)

    def _opening(self, day: date) -> datetime:
        return datetime.combine(day, self.start, tzinfo=self.tz)

    def _closing(self, day: date) -> datetime:
        return datetime.combine(day, self.end, tzinfo=self.tz)

    def _next_working_day(self, day: date) -> date:
        for _ in range(_MAX_DAYS_WITHOUT_WORK):
            day += timedelta(days=1)
            if self.is_working_day(day):
                return day
        raise RuntimeError(f"no working day within {_MAX_DAYS_WITHOUT_WORK} days after {day}")

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The moment `hours` office hours after `start` (aware in, aware UTC out).

        Time outside office hours does not count: a report filed on Friday evening starts its clock at
        the opening of the next working day. A deadline that ends exactly at closing time stays on that
        day (18:00), not the next morning.
        """
        _require_aware(start, "start")
        if hours < 0:
            raise ValueError(f"hours must not be negative, got {hours}")
        local = start.astimezone(self.tz)
        day = local.date()
        if not self.is_working_day(day) or local >= self._closing(day):
            day = self._next_working_day(day)
            cursor = self._opening(day)
        else:
            cursor = max(local, self._opening(day))
        remaining = timedelta(hours=hours)
        while True:
            available = self._closing(day) - cursor
            if remaining <= available:
                return (cursor + remaining).astimezone(UTC)
            remaining -= available
            day = self._next_working_day(day)
            cursor = self._opening(day)

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """End of office hours on the `days`-th working day after the local day of `start` (UTC out).

        With `days` = 0 it is the closing time of the start day, or of the next working day when the
        start day is not a working one.
        """
        _require_aware(start, "start")
        if days < 0:
            raise ValueError(f"days must not be negative, got {days}")
        day = start.astimezone(self.tz).date()
        if days == 0 and not self.is_working_day(day):
            day = self._next_working_day(day)
        for _ in range(days):
            day = self._next_working_day(day)
        return self._closing(day).astimezone(UTC)


@dataclass(frozen=True)
class DueDates:
    """When a report needs its first reaction and its answer (UTC)."""

    first_reaction: datetime
    answer: datetime


def due_dates(
    created_at: datetime, first_reaction_hours: float, answer_days: int, calendar: WorkCalendar
) -> DueDates:
    """Deadlines of a report created at `created_at` under its sector's limits."""
    _require_aware(created_at, "created_at")
    return DueDates(
        first_reaction=calendar.add_working_hours(created_at, first_reaction_hours),
        answer=calendar.add_working_days(created_at, answer_days),
    )
