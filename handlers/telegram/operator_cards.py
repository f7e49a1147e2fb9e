"""Delivers report cards and topic messages into operator chats, creating forum topics as needed.

Wraps the plain Telegram messenger: deliveries addressed to a report (its card, or a message for
its topic) are resolved here to a chat and thread, so a deleted topic is recreated on the next
event instead of losing the message.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import InputMediaPhoto
from sqlalchemy import delete, select

from bot.catalog import Catalog
from bot.i18n import Translator
from bot.outbox import Delivery, Failed, Kind, Messenger, Outcome, RetryAfter, Sent, Unreachable
from bot.report_actions import TRIAGE_BODY_ID
from handlers.telegram.operator import CallbackSigner, card_markup, card_text, topic_title
from storage.db import Database
from storage.models import OperatorChat, Report, ReportThread

log = logging.getLogger(__name__)

# No chat bound yet: keep the card waiting (not counted as a failure) until someone binds one.
UNBOUND_RETRY_SECONDS = 300.0
TOPIC_GONE = ("thread not found", "topic_deleted", "topic_closed", "message thread not found")


class OperatorDesk:
    """A Messenger for platform "tg" that knows about reports, topics and cards."""

    platform = "tg"

    def __init__(
        self,
        bot: Bot,
        db: Database,
        catalog: Catalog,
        translator: Translator,
        signer: CallbackSigner,
        inner: Messenger,
    ) -> None:
        self._bot = bot
        self._db = db
        self._catalog = catalog
        self._translator = translator
        self._signer = signer
        self._inner = inner

    async def deliver(self, delivery: Delivery) -> Outcome:
        if delivery.kind is Kind.REPORT_CARD:
            return await self._card(int(delivery.payload["report_id"]))
        if delivery.kind is Kind.TOPIC and delivery.target.startswith("report:"):
            return await self._to_topic(delivery)
        return await self._inner.deliver(delivery)

    async def _chat_for(self, body_id: str) -> int | None:
        async with self._db.session() as session:
            chats = {
                row.body_id: row.chat_id
                for row in await session.scalars(
                    select(OperatorChat).where(OperatorChat.body_id.in_([body_id, TRIAGE_BODY_ID]))
                )
            }
        # A body without its own chat is worked from the ЦУР chat.
        return chats.get(body_id) or chats.get(TRIAGE_BODY_ID)

    async def _to_topic(self, delivery: Delivery) -> Outcome:
        report_id = int(delivery.target.split(":", 1)[1])
        async with self._db.session() as session:
            thread = await session.get(ReportThread, report_id)
        if thread is None:
            # The card (queued earlier) has not made the topic yet.
            outcome = await self._card(report_id)
            if not isinstance(outcome, Sent):
                return outcome
            async with self._db.session() as session:
                thread = await session.get(ReportThread, report_id)
            if thread is None:
                return Failed("topic_missing")
        resolved = replace(delivery, target=f"{thread.chat_id}:{thread.thread_id}")
        outcome = await self._inner.deliver(resolved)
        if isinstance(outcome, Failed) and "topic_missing" in outcome.error:
            await self._forget_thread(report_id)
            return RetryAfter(1.0)
        return outcome

    async def _forget_thread(self, report_id: int) -> None:
        async with self._db.session() as session:
            await session.execute(delete(ReportThread).where(ReportThread.report_id == report_id))

    async def _card(self, report_id: int) -> Outcome:
        async with self._db.session() as session:
            report = await session.get(Report, report_id)
            thread = await session.get(ReportThread, report_id)
        if report is None:
            return Sent()
        chat_id = await self._chat_for(report.body_id)
        if chat_id is None:
            return RetryAfter(UNBOUND_RETRY_SECONDS)
        text = card_text(report, self._catalog, self._translator, show_phone=True)
        markup = card_markup(report, chat_id, self._signer, self._translator)
        try:
            if thread is not None and thread.chat_id == chat_id and thread.card_message_id:
                try:
                    await self._bot.edit_message_text(
                        text, chat_id=chat_id, message_id=thread.card_message_id, reply_markup=markup
                    )
                    return Sent()
                except TelegramBadRequest as error:
                    if "not modified" in error.message.lower():
                        return Sent()
                    log.info("card of report %s lost (%s); posting a new topic", report_id, error.message)
                    await self._forget_thread(report_id)
            elif thread is not None:
                # Transferred to another body's chat: a new topic there.
                await self._forget_thread(report_id)
            topic = await self._bot.create_forum_topic(chat_id, topic_title(report, self._catalog))
            thread_id = topic.message_thread_id
            photos = list(report.photos or [])
            if len(photos) == 1:
                await self._bot.send_photo(chat_id, photos[0], message_thread_id=thread_id)
            elif photos:
                await self._bot.send_media_group(
                    chat_id, [InputMediaPhoto(media=p) for p in photos[:10]], message_thread_id=thread_id
                )
            if report.latitude is not None and report.longitude is not None:
                await self._bot.send_location(
                    chat_id, report.latitude, report.longitude, message_thread_id=thread_id
                )
            card = await self._bot.send_message(
                chat_id, text, message_thread_id=thread_id, reply_markup=markup
            )
        except TelegramRetryAfter as error:
            return RetryAfter(float(error.retry_after))
        except TelegramForbiddenError as error:
            return Unreachable(error.message)
        except TelegramBadRequest as error:
            return Failed(error.message)
        async with self._db.session() as session:
            await session.merge(
                ReportThread(
                    report_id=report_id, chat_id=chat_id, thread_id=thread_id, card_message_id=card.message_id
                )
            )
        return Sent()
