"""Scripted citizens: each files its report through the real intake dialog when the scenario clock
passes its start, then behaves as its script says — answers a clarification after N minutes (or
never), says solved / not solved and rates the answer, or falls silent.

They act only through the public drivers of the local messengers, exactly as a person would, and
read the database only to learn what happened to their own report (a person would read the bot's
message; the database is the unambiguous record of it).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.core.clock import ScaledClock
from bot.core.i18n import Translator
from bot.sandbox.training.ports import TrainingWorld
from bot.sandbox.training.scenarios import ScriptedCitizen
from bot.sandbox.training.voices import TelegramVoice, VkVoice, Voice, shown
from bot.services.reports.lifecycle import Status
from storage.models import Citizen, Report, StatusChange

log = logging.getLogger(__name__)

# Real seconds between looks at the clock and at the report: fast enough for x3600, cheap enough.
POLL = 0.2
STAR_LABELS = {n: "⭐" * n if n < 3 else f"{n} ⭐" for n in range(1, 6)}
DEFAULT_CLARIFICATION = {
    "ru": "Да, всё так, как я написал(а) выше. Жду решения.",
    "en": "Yes, it is all as I wrote above. Waiting for a fix.",
}


@dataclass
class CitizenProgress:
    """Where a scripted citizen stands: waiting | filing | filed | failed; its report once filed."""

    key: str
    name: str
    state: str = "waiting"
    report_id: int | None = None
    error: str | None = None


class ScriptedPlayer:
    """Plays one scripted citizen of a scenario on the world's messengers and clock."""

    def __init__(
        self,
        world: TrainingWorld,
        script: ScriptedCitizen,
        start: datetime,
        translator: Translator,
    ) -> None:
        self.world = world
        self.script = script
        self.start = start
        self.progress = CitizenProgress(script.key, script.name)
        self._t = translator
        self._handled: set[int] = set()  # history rows (clarification requests, answers) acted on
        self._answers_seen = 0

    def _label(self, key: str, **args: str) -> str:
        return self._t.text(self.script.language, key, args)

    @property
    def clock(self) -> ScaledClock:
        return self.world.clock

    async def until(self, moment: datetime) -> None:
        """Sleep until the scenario clock reaches `moment` (a jump of the clock wakes us at once)."""
        while (now := self.clock.now()) < moment:
            left = (moment - now).total_seconds() / self.clock.speed
            await asyncio.sleep(min(POLL, max(left, 0.01)))

    async def play(self) -> None:
        """File the report at its start, then follow the script until cancelled."""
        script = self.script
        await self.until(self.start + timedelta(minutes=script.at))
        self.progress.state = "filing"
        try:
            voice, user_id = self._voice()
            await self._file(voice)
            self.progress.report_id = await self._find_report(user_id)
            self.progress.state = "filed"
            while True:
                await self._follow(voice)
                await asyncio.sleep(POLL)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            # One citizen stuck on an unexpected screen must not stop the scenario.
            log.exception("scripted citizen %s failed", script.key)
            self.progress.state, self.progress.error = "failed", str(error)

    def _voice(self) -> tuple[Voice, str]:
        citizen = self.world.new_citizen(self.script.platform, self.script.name, self.script.language)
        if citizen.telegram is not None:
            voice: Voice = TelegramVoice(citizen.telegram, self._label("btn-send-location"))
            return voice, str(citizen.telegram.id)
        assert citizen.vk is not None
        return VkVoice(citizen.vk), str(citizen.vk.user_id)

    def _place(self) -> tuple[float, float]:
        script = self.script
        if script.lat is not None and script.lon is not None:
            return script.lat, script.lon
        municipality = self.world.catalog.municipalities.get(script.place)
        if municipality is None:
            raise LookupError(f"unknown municipality {script.place!r}")
        return municipality.lat, municipality.lon

    async def _file(self, voice: Voice) -> None:
        """The intake dialog, step by step, with the labels of the citizen's language."""
        script = self.script
        if script.platform == "vk":
            # The bot's long poll takes its position when it first asks for a server: a message
            # written before that (a scenario started with the sandbox) would never reach it.
            vk = self.world.vk
            await shown(lambda: any(c.method == "groups.getLongPollServer" for c in vk.requests), "VK", 60)
            await asyncio.sleep(0.5)
        await voice.command("/start")
        await voice.press(self._label("btn-consent-yes"))
        await voice.press(self._label("btn-report"))
        await voice.say(script.text)
        if script.photos:
            await voice.photos(script.photos)
            await voice.press(self._label("btn-next"))
        else:
            await voice.press(self._label("btn-skip-photos"))
        await voice.location(*self._place())
        sector = self.world.catalog.sector(script.picks).name(script.language)
        every = self._label("btn-sector-all")
        await shown(lambda: any(sector in b or b == every for b in voice.buttons()), "the topics")
        if not any(sector in label for label in voice.buttons()):
            await voice.press(self._label("btn-sector-all"))
        await voice.press(sector, contains=True)
        await voice.press(self._label("btn-skip-phone"))
        await voice.press(self._label("btn-confirm"))

    async def _find_report(self, user_id: str) -> int:
        async with self.world.db.session() as session:
            report_id = await session.scalar(
                select(Report.id)
                .join(Citizen, Citizen.id == Report.citizen_id)
                .where(Citizen.platform == self.script.platform, Citizen.platform_user_id == user_id)
                .order_by(Report.id.desc())
                .limit(1)
            )
        if report_id is None:
            raise LookupError(f"{self.script.key}: the report was not filed")
        return int(report_id)

    async def _history(self) -> list[StatusChange]:
        async with self.world.db.session() as session:
            rows = await session.scalars(
                select(StatusChange)
                .where(StatusChange.report_id == self.progress.report_id)
                .order_by(StatusChange.id)
            )
            return list(rows)

    async def _follow(self, voice: Voice) -> None:
        """React to the newest clarification request or answer not acted on yet."""
        for change in await self._history():
            if change.id in self._handled:
                continue
            if change.to_status == Status.NEEDS_INFO:
                self._handled.add(change.id)
                await self._clarify(voice, change.at)
            elif change.to_status == Status.ANSWERED:
                self._handled.add(change.id)
                self._answers_seen += 1
                await self._after_answer(voice, change.at)

    async def _clarify(self, voice: Voice, asked_at: datetime) -> None:
        clarification = self.script.clarification
        if clarification.after is None:
            return  # this citizen never answers a clarification request
        await self.until(asked_at + timedelta(minutes=clarification.after))
        await voice.say(clarification.text or DEFAULT_CLARIFICATION[self.script.language])

    async def _after_answer(self, voice: Voice, answered_at: datetime) -> None:
        behaviour = self.script.after_answer
        if behaviour.silent:
            return  # the report closes by itself after the autoclose period
        await self.until(answered_at + timedelta(minutes=behaviour.after))
        # A citizen who said "not solved" once accepts the next answer (otherwise scenarios loop).
        solved = behaviour.solved or self._answers_seen > 1
        key = "btn-solved-yes" if solved else "btn-solved-no"
        await voice.press(self._label(key))
        if not solved:
            return
        stars = behaviour.stars if self._answers_seen == 1 else 3
        if stars is None:
            return
        await voice.press(STAR_LABELS[stars])
        if behaviour.comment and self._answers_seen == 1:
            await voice.say(behaviour.comment)
        else:
            await voice.press(self._label("btn-skip-comment"))
