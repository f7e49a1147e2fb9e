"""Where each report is worked in Telegram: its forum topic and card message in an operator chat.

The only module that queries `ReportThread`: the operator desk (which creates topics and cards), the
operator chat (which finds the report a topic is about) and casework (a transfer moves the card)
ask here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.chats import TSUR_BODY, Binding, binding_of_body
from storage.db import Database
from storage.models import Report, ReportThread


@dataclass(frozen=True)
class Topic:
    """A report's forum topic and the message holding its card."""

    report_id: int
    chat_id: int
    thread_id: int
    card_message_id: int | None


def _topic(row: ReportThread | None) -> Topic | None:
    if row is None:
        return None
    return Topic(row.report_id, row.chat_id, row.thread_id, row.card_message_id)


async def topic_in(session: AsyncSession, report_id: int) -> Topic | None:
    """The report's topic, inside the caller's transaction."""
    return _topic(await session.get(ReportThread, report_id))


class ReportTopics:
    """Reads and records the topics of reports, each call its own transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def of_report(self, report_id: int) -> Topic | None:
        async with self._db.session() as session:
            return await topic_in(session, report_id)

    async def at(self, chat_id: int, thread_id: int) -> Topic | None:
        """The report a topic in this chat is about, if it is one of ours."""
        async with self._db.session() as session:
            row = await session.scalar(
                select(ReportThread).where(
                    ReportThread.chat_id == chat_id, ReportThread.thread_id == thread_id
                )
            )
            return _topic(row)

    async def for_card(self, report_id: int) -> tuple[Report | None, Topic | None, Binding | None]:
        """What a card is drawn from: the report, its topic, and the chat its body works in now."""
        async with self._db.session() as session:
            report = await session.get(Report, report_id)
            topic = await topic_in(session, report_id)
            if report is None:
                return None, topic, None
            # A body without its own chat is worked from the ЦУР chat.
            binding = await binding_of_body(session, report.body_id) or await binding_of_body(
                session, TSUR_BODY
            )
            return report, topic, binding

    async def remember(self, report_id: int, chat_id: int, thread_id: int, card_message_id: int) -> None:
        async with self._db.session() as session:
            await session.merge(
                ReportThread(
                    report_id=report_id, chat_id=chat_id, thread_id=thread_id, card_message_id=card_message_id
                )
            )

    async def forget(self, report_id: int) -> None:
        """The topic is gone (deleted in the chat, or the report moved): the next card makes a new one."""
        async with self._db.session() as session:
            await session.execute(delete(ReportThread).where(ReportThread.report_id == report_id))
