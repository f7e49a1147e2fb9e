"""The trainer: starts a scenario on the sandbox world, plays its scripted citizens on the scaled
clock, moves the clock (speed, «⏭ к следующему сроку»), computes the score card and keeps it.

The page and `python -m bot sandbox --scenario NAME` drive it; it acts only through the local
messengers' drivers and reads the database, like any other client of the sandbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.core.i18n import Translator
from bot.sandbox.training.approver import ScriptedApprover
from bot.sandbox.training.citizens import CitizenProgress, ScriptedPlayer
from bot.sandbox.training.ports import TrainingWorld
from bot.sandbox.training.scenarios import Scenario, ScriptedCitizen, load_scenarios
from bot.sandbox.training.scorecard import ScoreCard, score_card
from bot.sandbox.training.store import ScoreStore
from bot.services.reports.deadlines import WorkCalendar
from bot.services.reports.next_deadline import DEFAULT_POLICY, Upcoming, next_deadline
from bot.services.reports.sla import SlaPolicy

log = logging.getLogger(__name__)

DEFAULT_TRAINEE = "Стажёр"
# A scenario begun this soon after the opening of a working day starts where the clock is.
OPENING_SLACK = timedelta(minutes=5)


def scenario_start(now: datetime, calendar: WorkCalendar) -> datetime:
    """When a scenario begun at `now` starts: now, if it is within a few minutes after the opening
    of a working day, else the opening (09:00 local) of the next working day (the clock only
    moves forward)."""
    local = now.astimezone(calendar.tz)
    opening = datetime.combine(local.date(), calendar.start, tzinfo=calendar.tz)
    if calendar.is_working_day(local.date()) and opening <= local < opening + OPENING_SLACK:
        return now
    day = local.date() if local < opening else local.date() + timedelta(days=1)
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, calendar.start, tzinfo=calendar.tz).astimezone(UTC)


@dataclass(frozen=True)
class ScenarioInfo:
    """A scenario as the page lists it."""

    name: str
    title_ru: str
    title_en: str
    description_ru: str
    description_en: str
    citizens: int


@dataclass
class Session:
    """The scenario being played: who trains, since when (scenario time), and its citizens."""

    scenario: Scenario
    trainee: str
    started: datetime
    players: list[ScriptedPlayer]
    tasks: list[asyncio.Task[None]]
    card: ScoreCard | None = None  # set once finished


class Trainer:
    """Scenarios on one sandbox world; at most one runs at a time."""

    def __init__(
        self,
        world: TrainingWorld,
        calendar: WorkCalendar,
        store: ScoreStore,
        *,
        scenarios: dict[str, Scenario] | None = None,
        policy: SlaPolicy = DEFAULT_POLICY,
        translator: Translator | None = None,
    ) -> None:
        self.world = world
        self.calendar = calendar
        self.store = store
        self.policy = policy
        self.translator = translator or Translator()
        self.approver = ScriptedApprover(world)
        self._scenarios = scenarios if scenarios is not None else load_scenarios()
        self.session: Session | None = None
        self._background: set[asyncio.Task[Session]] = set()

    def scenarios(self) -> list[ScenarioInfo]:
        """The scenarios a trainee can pick, by name with their titles."""
        return [
            ScenarioInfo(s.name, s.title_ru, s.title_en, s.description_ru, s.description_en, len(s.citizens))
            for s in self._scenarios.values()
        ]

    @property
    def running(self) -> bool:
        """True while a scenario is started and not finished."""
        return self.session is not None and self.session.card is None

    async def start(self, name: str, trainee_name: str = DEFAULT_TRAINEE) -> Session:
        """Start scenario `name` for `trainee_name` (a running one is stopped without a card) at
        09:00 of a working day: now, when the clock is just past an opening, else the clock jumps
        to the next one. Its citizens act when the clock passes their start offsets.
        """
        scenario = self._scenarios.get(name)
        if scenario is None:
            raise KeyError(f"no scenario {name!r}; known: {', '.join(self._scenarios)}")
        await self._stop_players()
        self.world.clock.jump_to(scenario_start(self.world.clock.now(), self.calendar))
        started = self.world.clock.now()
        players = [ScriptedPlayer(self.world, c, started, self.translator) for c in scenario.citizens]
        tasks = [asyncio.create_task(p.play(), name=f"citizen-{p.script.key}") for p in players]
        trainee = " ".join(trainee_name.split())[:64] or DEFAULT_TRAINEE
        self.session = Session(scenario, trainee, started, players, tasks)
        log.info("scenario %s started for %s at %s", name, trainee, started.isoformat())
        return self.session

    def progress(self) -> list[CitizenProgress]:
        """Where each scripted citizen of the current scenario stands."""
        return [] if self.session is None else [p.progress for p in self.session.players]

    def set_speed(self, speed: float) -> None:
        """Run the scenario clock `speed` times as fast as real time (1 to 3600)."""
        self.world.clock.set_speed(speed)

    async def next_deadline(self) -> Upcoming | None:
        """The next reminder, deadline, escalation or autoclose of any open report."""
        return await next_deadline(self.world.db, self.world.clock.now(), self.calendar, self.policy)

    async def jump_to_next_deadline(self) -> datetime | None:
        """Move the clock to the next reminder, deadline or escalation of any open report (the SLA
        scheduler fires it on its next tick); None, and the clock untouched, when there is none."""
        upcoming = await self.next_deadline()
        if upcoming is None:
            return None
        self.world.clock.jump_to(upcoming.at)
        return upcoming.at

    def _filed(self) -> tuple[dict[int, ScriptedCitizen], int]:
        assert self.session is not None
        filed = {
            p.progress.report_id: p.script for p in self.session.players if p.progress.report_id is not None
        }
        return filed, len(self.session.players) - len(filed)

    async def score_card(self) -> ScoreCard:
        """The current scenario's card as of now (the finished card once finished)."""
        session = self.session
        if session is None:
            raise LookupError("no scenario was started")
        if session.card is not None:
            return session.card
        filed, waiting = self._filed()
        return await score_card(
            self.world.db,
            self.world.catalog,
            self.calendar,
            scenario=session.scenario.name,
            trainee=session.trainee,
            started=session.started,
            now=self.world.clock.now(),
            filed=filed,
            waiting=waiting,
        )

    async def finish(self) -> ScoreCard:
        """End the scenario: stop its citizens, compute the card and keep it for the trainee."""
        session = self.session
        if session is None:
            raise LookupError("no scenario was started")
        if session.card is not None:
            return session.card
        await self._stop_players()
        card = await self.score_card()
        session.card = card
        self.store.add(card)
        log.info("scenario %s finished for %s: %s/100", card.scenario, card.trainee, card.score)
        return card

    def begin(self, name: str, trainee_name: str = DEFAULT_TRAINEE) -> None:
        """Start scenario `name` from synchronous code (the sandbox's ready callback)."""
        task = asyncio.get_running_loop().create_task(self.start(name, trainee_name))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    @contextlib.asynccontextmanager
    async def background(self, stop: asyncio.Event) -> AsyncIterator[Trainer]:
        """Run `run(stop)` for the duration of the block (the sandbox wraps its serving in it)."""
        task = asyncio.create_task(self.run(stop), name="trainer")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await self._stop_players()

    async def run(self, stop: asyncio.Event) -> None:
        """Background work while the sandbox runs: the scripted approver. When the sandbox stops with
        a scenario still running (Ctrl+C), its card is kept as it stands, so `--report` has it."""
        try:
            await self.approver.run(stop)
            if self.running:
                try:
                    await self.finish()
                except Exception:
                    # The bot may already be closing its database: nothing to keep then.
                    log.exception("the unfinished scenario's card could not be kept")
        finally:
            await self._stop_players()

    async def _stop_players(self) -> None:
        if self.session is None:
            return
        for task in self.session.tasks:
            task.cancel()
        for task in self.session.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
