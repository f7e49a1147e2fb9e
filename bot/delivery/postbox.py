"""What services call to send: one function per kind of recipient, each writing one outbox row in
the caller's transaction. Delivery targets are typed here and parsed back here only, so a service
never spells "report:42" and a messenger never guesses what a target string means."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.messages import View
from bot.delivery.outbox import Kind, Queued, enqueue, enqueue_many, envelope

TELEGRAM = "tg"
STAFF_LANGUAGE = "ru"
_REPORT_TOPIC = "report:"


@dataclass(frozen=True, slots=True)
class ReportTopic:
    """A report's forum topic, wherever its body's chat is now (resolved when it is sent)."""

    report_id: int

    def __str__(self) -> str:
        return f"{_REPORT_TOPIC}{self.report_id}"


@dataclass(frozen=True, slots=True)
class ChatThread:
    """One topic of one chat, fixed (the old topic of a report that moved on)."""

    chat_id: int
    thread_id: int

    def __str__(self) -> str:
        return f"{self.chat_id}:{self.thread_id}"


TopicTarget = ReportTopic | ChatThread


def topic_target(target: str) -> TopicTarget:
    """The typed form of a topic row's target."""
    if target.startswith(_REPORT_TOPIC):
        return ReportTopic(int(target.removeprefix(_REPORT_TOPIC)))
    chat, thread = target.rsplit(":", 1)
    return ChatThread(int(chat), int(thread))


async def to_citizen(
    session: AsyncSession,
    *,
    platform: str,
    user_id: str,
    key: str,
    views: Sequence[View],
    lang: str,
    now: datetime,
    report_id: int | None = None,
    photos: Sequence[str] = (),
    documents: Sequence[str] = (),
    erase_when_sent: bool = False,
) -> bool:
    """A message to a citizen in their messenger; False when `key` was queued before."""
    return await enqueue(
        session,
        key=key,
        platform=platform,
        kind=Kind.CITIZEN,
        target=user_id,
        payload=envelope(views, lang, photos=photos, documents=documents, erase_when_sent=erase_when_sent),
        report_id=report_id,
        now=now,
    )


async def to_topic(
    session: AsyncSession,
    *,
    where: TopicTarget,
    key: str,
    views: Sequence[View],
    report_id: int,
    now: datetime,
    lang: str = STAFF_LANGUAGE,
    photos: Sequence[str] = (),
) -> bool:
    """A message into a report's topic in the operator chat (Telegram)."""
    return await enqueue(
        session,
        key=key,
        platform=TELEGRAM,
        kind=Kind.TOPIC,
        target=str(where),
        payload=envelope(views, lang, photos=photos),
        report_id=report_id,
        now=now,
    )


async def to_official(
    session: AsyncSession,
    *,
    chat_id: str | int,
    key: str,
    views: Sequence[View],
    now: datetime,
    report_id: int | None = None,
    lang: str = STAFF_LANGUAGE,
) -> bool:
    """A message straight to a person or a chat of the staff (a block head, a chat being rebound)."""
    return await enqueue(
        session,
        key=key,
        platform=TELEGRAM,
        kind=Kind.DIRECT,
        target=str(chat_id),
        payload=envelope(views, lang),
        report_id=report_id,
        now=now,
    )


async def card_update(
    session: AsyncSession, *, report_id: int, body_id: str, key: str, now: datetime
) -> bool:
    """Post or refresh a report's card in its body's chat; the card is drawn when it is sent."""
    return await enqueue(
        session,
        key=key,
        platform=TELEGRAM,
        kind=Kind.REPORT_CARD,
        target=body_id,
        payload={"report_id": report_id},
        report_id=report_id,
        now=now,
    )


@dataclass(frozen=True, slots=True)
class NoticeCopy:
    """One citizen's copy of a notice; the payload says how to render it when it is sent."""

    key: str
    platform: str
    user_id: str
    payload: dict[str, Any]
    due: datetime


async def notice_copies(
    session: AsyncSession, *, notice_id: int, copies: Sequence[NoticeCopy], now: datetime
) -> None:
    """Queue a batch of a notice's copies to citizens in one INSERT; keys queued before are skipped."""
    await enqueue_many(
        session,
        [
            Queued(c.key, c.platform, Kind.CITIZEN, c.user_id, c.payload, c.due, notice_id=notice_id)
            for c in copies
        ],
        now=now,
    )
