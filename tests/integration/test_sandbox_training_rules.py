"""The training package's rules without a running sandbox: the scenario files, the "says nothing"
check, the next SLA moment (reminders found by bisection over the working-hours calendar), the
score store and `python -m bot sandbox --report`."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app.sandbox_cli import run_sandbox_command
from bot.core.i18n import Translator
from bot.sandbox.training import ScoreCard, ScoreStore
from bot.sandbox.training.answers import says_nothing
from bot.sandbox.training.scenarios import ScenarioError, load_scenarios, parse_scenario
from bot.sandbox.training.store import card_lines
from bot.sandbox.training.trainer import scenario_start
from bot.sandbox.world import HOME_MUNICIPALITY
from bot.services.catalog import load_sector_specs
from bot.services.geo.directory import MunicipalityDirectory
from bot.services.reports.deadlines import WorkCalendar
from bot.services.reports.next_deadline import reminder_moment, upcoming_events
from bot.services.reports.routing import load_routing_rules, route_report
from bot.services.reports.sla import Event, SlaPolicy
from storage.models import Report

CALENDAR = WorkCalendar("Asia/Yekaterinburg")
TZ = CALENDAR.tz


def local(day: int, hour: int, minute: int = 0) -> datetime:
    # Monday 7 – Friday 11 December 2026 are working days.
    return datetime(2026, 12, day, hour, minute, tzinfo=TZ).astimezone(UTC)


def test_every_scenario_parses_and_lands_in_a_seeded_chat() -> None:
    scenarios = load_scenarios()
    assert {"first-day", "quick"} <= set(scenarios)
    sectors = {s.id for s in load_sector_specs()}
    places = MunicipalityDirectory.load()
    rules = load_routing_rules()
    seeded = {"tsur"} | {route_report(s, HOME_MUNICIPALITY, rules) for s in sectors}
    first_day = scenarios["first-day"]
    # One per sector, a duplicate, a foreigner, rude, silent, a late clarification, a burst in one town.
    assert {c.sector for c in first_day.citizens} >= sectors - {"other"}
    assert any(c.duplicate_of for c in first_day.citizens)
    assert any(c.language == "en" for c in first_day.citizens)
    assert any(c.rude for c in first_day.citizens)
    assert any(c.after_answer.silent for c in first_day.citizens)
    assert any((c.clarification.after or 0) >= 60 for c in first_day.citizens)
    assert max(sum(c.place == p for c in first_day.citizens) for p in {"berezovsky"}) >= 4
    for scenario in scenarios.values():
        for citizen in scenario.citizens:
            assert citizen.sector in sectors and citizen.picks in sectors, citizen.key
            assert places.get(citizen.place) is not None, citizen.key
            # Both where the citizen files it and where it belongs have an operator chat.
            assert route_report(citizen.picks, citizen.place, rules) in seeded, citizen.key
            assert route_report(citizen.sector, citizen.place, rules) in seeded, citizen.key


def test_a_bad_scenario_is_refused() -> None:
    with pytest.raises(ScenarioError):
        parse_scenario({"name": "x", "citizens": [{"key": "a", "platform": "icq"}]})
    citizen = {"key": "a", "platform": "tg", "name": "A", "sector": "roads", "text": "t", "place": "x"}
    with pytest.raises(ScenarioError):
        parse_scenario({"name": "x", "citizens": [citizen, citizen]})
    with pytest.raises(ScenarioError):
        parse_scenario({"name": "x", "citizens": [{**citizen, "duplicate_of": "nobody"}]})


@pytest.mark.parametrize(
    ("text", "empty"),
    [
        ("Ваше обращение рассмотрено, меры приняты.", True),
        ("Рассмотрено.", True),
        ("Обращение передано в профильное подразделение для рассмотрения по существу", False),
        ("Яму на ул. Щербакова, 35 заасфальтировали, работы приняты комиссией", False),
        ("Вывоз контейнеров на ул. Ватутина будет выполнен до 15.12 включительно", False),
        ("Мы разберёмся с этим вопросом в рабочем порядке, спасибо", True),
        ("The bus 50 timetable was replaced at the Opera Theatre stop", False),
        ("We will look into it as soon as possible, thanks", True),
    ],
)
def test_says_nothing(text: str, empty: bool) -> None:
    assert says_nothing(text) is empty


def test_the_reminder_moment_skips_the_night() -> None:
    # Due Tuesday 10:00: two working hours before it is Monday 17:00 (the evening does not count).
    due = local(8, 10)
    moment = reminder_moment(due, local(7, 9), CALENDAR, 2.0)
    assert moment == local(7, 17)
    assert CALENDAR.add_working_hours(moment, 2.0) >= due
    assert CALENDAR.add_working_hours(moment - timedelta(seconds=2), 2.0) < due
    # Already inside the horizon: now.
    assert reminder_moment(due, local(8, 9), CALENDAR, 2.0) == local(8, 9)


def report(**fields: object) -> Report:
    base: dict[str, object] = {
        "id": 1,
        "status": "routed",
        "first_reaction_due": local(7, 13),
        "answer_due": local(11, 18),
        "first_reaction_at": None,
        "answered_at": None,
    }
    return Report(**{**base, **fields})


def test_upcoming_events_in_order() -> None:
    policy = SlaPolicy()
    events = upcoming_events(report(), {}, local(7, 9), CALENDAR, policy)
    assert [(e.at, e.event) for e in events[:3]] == [
        (local(7, 11), Event.REMIND_FIRST),
        (local(7, 13), Event.HEAD),
        (local(7, 13), Event.OVERDUE_FIRST),
    ]
    assert (local(11, 16), Event.REMIND_ANSWER) in [(e.at, e.event) for e in events]
    # Fired already: not again; overdue with the head told at 13:00 → the curator 8 working hours on.
    fired = {Event.REMIND_FIRST.value: local(7, 11), Event.HEAD.value: local(7, 13)}
    later = upcoming_events(report(), fired, local(7, 14), CALENDAR, policy)
    assert (local(8, 12), Event.CURATOR) in [(e.at, e.event) for e in later]
    assert Event.REMIND_FIRST not in [e.event for e in later]
    answered = report(status="answered", first_reaction_at=local(7, 10), answered_at=local(7, 12))
    assert [e.event for e in upcoming_events(answered, {}, local(7, 12), CALENDAR, policy)] == [
        Event.AUTOCLOSE
    ]
    assert upcoming_events(report(status="closed"), {}, local(7, 9), CALENDAR, policy) == []


def test_scores_are_kept_per_trainee_and_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / "sandbox.sqlite3"
    args = argparse.Namespace(report=True, database=str(database), scenario=None, speed=1.0, port=8080)
    assert run_sandbox_command(args) == 0
    assert "Оценок пока нет" in capsys.readouterr().out
    store = ScoreStore.beside(database)
    assert store.path == tmp_path / "sandbox-scores.jsonl"
    for trainee, score in (("Ксения", 67), ("Пётр", 100), ("Ксения", 83)):
        store.add(ScoreCard("quick", trainee, local(7, 9).isoformat(), local(7, 12).isoformat(), score=score))
    assert [len(v) for v in store.by_trainee().values()] == [2, 1]
    assert run_sandbox_command(args) == 0
    out = capsys.readouterr().out
    assert "Ксения — сценариев: 2" in out and "Пётр — сценариев: 1" in out
    assert out.index("Итог: 67 из 100") < out.index("Итог: 83 из 100")
    english = card_lines(store.all()[0].card, Translator(), "en")
    assert english[0] == "Total: 67 of 100"
    assert all("training-" not in line for line in english)


def test_a_scenario_starts_at_an_opening() -> None:
    # Just after 09:00 of a working day: right away; later that day: the next working day's 09:00.
    assert scenario_start(local(7, 9, 3), CALENDAR) == local(7, 9, 3)
    assert scenario_start(local(7, 8), CALENDAR) == local(7, 9)
    assert scenario_start(local(7, 11), CALENDAR) == local(8, 9)
    # Friday afternoon → Monday (12 and 13 December 2026 are a weekend).
    assert scenario_start(local(11, 15), CALENDAR) == local(14, 9)
