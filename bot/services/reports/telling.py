"""What a report's citizen is told when operators act: one outbox row per message, keyed by the
report, the event and the report's history length, so a redelivered action tells them once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.buttons import FeedbackAnswer
from bot.core.clock import Clock
from bot.core.messages import Button, Text, View
from bot.delivery.postbox import ReportTopic, to_citizen, to_topic
from bot.services.catalog import Catalog
from bot.services.reports.followers import lead_id_of
from storage.models import Citizen, Report


class Telling:
    """Queues messages for a report's citizen in their messenger and language."""

    def __init__(self, catalog: Catalog, clock: Clock) -> None:
        self._catalog = catalog
        self._clock = clock

    def args(self, report: Report) -> dict[str, str]:
        """The number, status and body every message about the report names."""
        return {
            "number": report.number or "",
            "status": report.status,
            "body": self._catalog.body(report.body_id).name(report.language),
        }

    def answer_views(self, report: Report, text: str) -> list[View]:
        """The body's answer and this report's own "Solved?" buttons."""
        buttons = (
            (
                Button(FeedbackAnswer(report.id, solved=True).pack(), Text("btn-solved-yes")),
                Button(FeedbackAnswer(report.id, solved=False).pack(), Text("btn-solved-no")),
            ),
        )
        return [
            View((Text("notify-answer", self.args(report)), Text.raw(text))),
            View((Text("ask-solved"),), buttons),
        ]

    async def message(
        self,
        session: AsyncSession,
        report: Report,
        what: str,
        text: str,
        photos: tuple[str, ...] = (),
        documents: tuple[str, ...] = (),
    ) -> bool:
        """An operator's words (and files) to the citizen as the body's message about the report."""
        lines = [Text("notify-message", self.args(report))]
        if text:
            lines.append(Text.raw(text))
        return await self.send(
            session, report, what, [View(tuple(lines))], photos=photos, documents=documents
        )

    async def status(self, session: AsyncSession, report: Report) -> None:
        """Tell the citizen the report's new status."""
        view = View((Text("notify-status", self.args(report)),))
        await self.send(session, report, f"status-{len(report.history)}", [view])

    async def send(
        self,
        session: AsyncSession,
        report: Report,
        what: str,
        views: list[View],
        *,
        photos: tuple[str, ...] = (),
        documents: tuple[str, ...] = (),
    ) -> bool:
        """Queue views for the report's citizen; False when this very message was queued before."""
        if report.citizen_id is None:
            return True  # the citizen asked to be forgotten, or staff opened the report by hand
        citizen = await session.get(Citizen, report.citizen_id)
        if citizen is None:
            return True
        return await to_citizen(
            session,
            platform=citizen.platform,
            user_id=citizen.platform_user_id,
            key=f"report:{report.id}:{what}:{len(report.history)}",
            views=views,
            lang=report.language,
            photos=photos,
            documents=documents,
            report_id=report.id,
            now=self._clock.now(),
        )


async def unreachable_in_topic(session: AsyncSession, report_id: int | None, now: datetime) -> None:
    """Tell the report's operators (in its topic, or its incident's) that the citizen blocked the bot."""
    if report_id is None:
        return
    report = await session.get(Report, report_id)
    if report is None:
        return
    view = View((Text("op-citizen-unreachable", {"number": report.number or ""}),))
    await to_topic(
        session,
        where=ReportTopic(await lead_id_of(session, report)),
        key=f"unreachable:{report_id}",
        views=[view],
        report_id=report_id,
        now=now,
    )
