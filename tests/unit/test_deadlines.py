"""Due dates on the Russian production calendar, office hours 09:00–18:00 Yekaterinburg time (UTC+5)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.services.reports.deadlines import DueDates, WorkCalendar, due_dates

EKB = ZoneInfo("Asia/Yekaterinburg")
MSK = ZoneInfo("Europe/Moscow")
SECTORS = {
    str(s["id"]): s
    for s in yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "bot" / "data" / "sectors.yaml").read_text(encoding="utf-8")
    )["sectors"]
}


@pytest.fixture(scope="module")
def calendar() -> WorkCalendar:
    return WorkCalendar()


def ekb(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=EKB)


def local(moment: datetime) -> datetime:
    assert moment.tzinfo is not None and moment.utcoffset() == timedelta(0), "results are UTC"
    return moment.astimezone(EKB)


# --- the calendar -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 11, 1), True),  # Saturday worked instead of Monday 3 November
        (date(2025, 11, 3), False),
        (date(2025, 11, 4), False),  # Unity Day
        (date(2025, 12, 30), True),
        (date(2025, 12, 31), False),  # day off moved from 5 January
        (date(2026, 1, 1), False),
        (date(2026, 1, 8), False),
        (date(2026, 1, 9), False),  # day off moved from Saturday 3 January
        (date(2026, 1, 10), False),
        (date(2026, 1, 12), True),
        (date(2026, 3, 9), False),  # 8 March falls on a Sunday
        (date(2026, 3, 7), False),  # an ordinary Saturday
        (date(2026, 3, 10), True),
    ],
)
def test_production_calendar(calendar: WorkCalendar, day: date, working: bool) -> None:
    assert calendar.is_working_day(day) is working


# --- working hours ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (ekb(2026, 3, 10, 10), 4, ekb(2026, 3, 10, 14)),  # plain Tuesday
        (ekb(2026, 3, 10, 7, 30), 2, ekb(2026, 3, 10, 11)),  # before opening: the clock starts at 9
        (ekb(2026, 3, 10, 14), 4, ekb(2026, 3, 10, 18)),  # ends exactly at closing: same day
        (ekb(2026, 3, 10, 17), 4, ekb(2026, 3, 11, 12)),  # 1 h today, 3 h tomorrow
        (ekb(2026, 3, 13, 17), 4, ekb(2026, 3, 16, 12)),  # Friday afternoon → Monday
        (ekb(2026, 3, 13, 20), 2, ekb(2026, 3, 16, 11)),  # Friday evening → Monday
        (ekb(2026, 3, 14, 12), 8, ekb(2026, 3, 16, 17)),  # filed on Saturday
        (ekb(2026, 3, 6, 16), 4, ekb(2026, 3, 10, 11)),  # 7–9 March: weekend + moved holiday
        (ekb(2025, 12, 30, 16), 4, ekb(2026, 1, 12, 11)),  # New Year holidays 31.12–11.01
        (ekb(2025, 12, 30, 20), 8, ekb(2026, 1, 12, 17)),
        (ekb(2025, 10, 31, 17), 2, ekb(2025, 11, 1, 10)),  # working Saturday 1 November 2025
        (ekb(2025, 11, 1, 17), 3, ekb(2025, 11, 5, 11)),  # …then 3 and 4 November are off
        (ekb(2026, 3, 10, 10), 1.5, ekb(2026, 3, 10, 11, 30)),
        (ekb(2026, 3, 10, 10), 0, ekb(2026, 3, 10, 10)),
        (ekb(2026, 3, 10, 19), 0, ekb(2026, 3, 11, 9)),
        (ekb(2026, 3, 10, 10), 27, ekb(2026, 3, 13, 10)),  # three whole office days of 9 h
    ],
)
def test_add_working_hours(calendar: WorkCalendar, start: datetime, hours: float, expected: datetime) -> None:
    assert local(calendar.add_working_hours(start, hours)) == expected


def test_other_time_zones_are_converted(calendar: WorkCalendar) -> None:
    # 15:00 in Moscow is 17:00 in Yekaterinburg: one office hour left that day.
    due = calendar.add_working_hours(datetime(2026, 3, 10, 15, tzinfo=MSK), 2)
    assert local(due) == ekb(2026, 3, 11, 10)
    assert due == datetime(2026, 3, 11, 5, tzinfo=UTC)
    # 23:30 UTC on Monday is already Tuesday 04:30 in Yekaterinburg.
    assert local(calendar.add_working_hours(datetime(2026, 3, 9, 23, 30, tzinfo=UTC), 1)) == ekb(
        2026, 3, 10, 10
    )


def test_custom_office_hours_and_zone() -> None:
    moscow = WorkCalendar("Europe/Moscow", start=time(8), end=time(17))
    due = moscow.add_working_hours(datetime(2026, 3, 10, 16, tzinfo=MSK), 2)
    assert due.astimezone(MSK) == datetime(2026, 3, 11, 9, tzinfo=MSK)
    with pytest.raises(ValueError):
        WorkCalendar(start=time(18), end=time(9))


# --- working days -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (ekb(2026, 3, 10, 10), 1, ekb(2026, 3, 11, 18)),
        (ekb(2026, 3, 10, 23), 1, ekb(2026, 3, 11, 18)),  # late evening still counts from that day
        (ekb(2026, 3, 13, 20), 1, ekb(2026, 3, 16, 18)),  # Friday evening → Monday
        (ekb(2026, 3, 14, 12), 1, ekb(2026, 3, 16, 18)),  # Saturday → Monday
        (ekb(2026, 3, 10, 10), 5, ekb(2026, 3, 17, 18)),
        (ekb(2026, 3, 5, 10), 1, ekb(2026, 3, 6, 18)),
        (ekb(2026, 3, 6, 10), 1, ekb(2026, 3, 10, 18)),  # over 7–9 March
        (ekb(2025, 12, 29, 10), 3, ekb(2026, 1, 13, 18)),  # 30.12, 12.01, 13.01
        (ekb(2025, 12, 31, 10), 1, ekb(2026, 1, 12, 18)),
        (ekb(2025, 10, 31, 10), 1, ekb(2025, 11, 1, 18)),  # working Saturday counts
        (ekb(2025, 10, 31, 10), 2, ekb(2025, 11, 5, 18)),
        (ekb(2026, 3, 10, 10), 0, ekb(2026, 3, 10, 18)),
        (ekb(2026, 3, 14, 10), 0, ekb(2026, 3, 16, 18)),
        (ekb(2026, 3, 10, 10), 30, ekb(2026, 4, 21, 18)),
    ],
)
def test_add_working_days(calendar: WorkCalendar, start: datetime, days: int, expected: datetime) -> None:
    assert local(calendar.add_working_days(start, days)) == expected


# --- due dates and errors ---------------------------------------------------------------------------


def test_due_dates_for_sectors(calendar: WorkCalendar) -> None:
    energy = SECTORS["energy"]
    friday_evening = ekb(2026, 3, 13, 19, 45)
    due = due_dates(
        friday_evening, float(energy["first_reaction_hours"]), int(energy["answer_days"]), calendar
    )
    assert isinstance(due, DueDates)
    assert local(due.first_reaction) == ekb(2026, 3, 16, 9 + int(energy["first_reaction_hours"]))
    assert local(due.answer) == ekb(2026, 3, 18, 18)
    assert due.first_reaction.tzinfo is not None and due.first_reaction.utcoffset() == timedelta(0)

    roads = SECTORS["roads"]
    before_new_year = ekb(2025, 12, 30, 17)
    due = due_dates(
        before_new_year, float(roads["first_reaction_hours"]), int(roads["answer_days"]), calendar
    )
    # 1 h on 30 December, then 7 h from 12 January.
    assert local(due.first_reaction) == ekb(2026, 1, 12, 16)
    assert local(due.answer) == ekb(2026, 1, 23, 18)
    assert due.first_reaction < due.answer


def test_naive_datetimes_are_refused(calendar: WorkCalendar) -> None:
    naive = datetime(2026, 3, 10, 10)
    with pytest.raises(ValueError, match="aware"):
        calendar.add_working_hours(naive, 1)
    with pytest.raises(ValueError, match="aware"):
        calendar.add_working_days(naive, 1)
    with pytest.raises(ValueError, match="aware"):
        due_dates(naive, 4, 5, calendar)


def test_negative_durations_are_refused(calendar: WorkCalendar) -> None:
    start = datetime(2026, 3, 10, 10, tzinfo=timezone(timedelta(hours=5)))
    with pytest.raises(ValueError):
        calendar.add_working_hours(start, -1)
    with pytest.raises(ValueError):
        calendar.add_working_days(start, -1)
