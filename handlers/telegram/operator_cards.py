"""Delivers report cards and topic messages into operator chats, creating forum topics as needed.

Wraps the plain Telegram messenger: deliveries addressed to a report (its card, or a message for
its topic) are resolved here to a chat and thread, so a deleted topic is recreated on the next
event instead of losing the message. Every rendering signs the card's buttons afresh for the chat's
binding as it is now, so a refresh also renews buttons near their expiry.

The card never carries the citizen's phone: a «📞» button shows it to the person who presses it, if
they may see it (`Casework.reveal_phone`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto

from bot.core.i18n import Translator
from bot.delivery.outbox import Kind
from bot.delivery.ports import Delivery, Failed, Messenger, Outcome, RetryAfter, Sent, Unreachable
from bot.delivery.postbox import ChatThread, ReportTopic, topic_target
from bot.services.catalog import Catalog
from bot.services.chats import Binding
from bot.services.incidents.desk import CardExtras
from bot.services.reports.lifecycle import OPEN_STATUSES, Status
from bot.services.reports.topics import ReportTopics
from handlers.telegram.callbacks import CallbackSigner
from handlers.telegram.errors import not_modified
from storage.models import Report

log = logging.getLogger(__name__)

# No chat bound yet: keep the card waiting (not counted as a failure) until someone binds one.
UNBOUND_RETRY_SECONDS = 300.0
MAX_LOCKS = 10_000
OPERATOR_LANG = "ru"
PHONE_ACTION = "phone"
SPLIT_ACTION = "split"
MERGE_PREFIX = "mg-"
NO_EXTRAS = CardExtras()


def card_markup(
    report: Report,
    binding: Binding,
    signer: CallbackSigner,
    translator: Translator,
    extras: CardExtras = NO_EXTRAS,
) -> InlineKeyboardMarkup:
    """The action buttons a report in this status offers, signed for this chat's binding."""

    def button(action: str, key: str, args: dict[str, Any] | None = None) -> InlineKeyboardButton:
        data = signer.sign(action, report.id, binding.chat_id, nonce=binding.nonce)
        return InlineKeyboardButton(text=translator.text(OPERATOR_LANG, key, args), callback_data=data)

    status = Status(report.status)
    rows: list[list[InlineKeyboardButton]] = []
    if extras.lead_number is not None:
        # Merged into an incident: worked in the lead's topic; here it can only be taken back out.
        rows.append([button(SPLIT_ACTION, "op-btn-split")])
    elif status in (Status.ROUTED, Status.IN_PROGRESS, Status.NEEDS_INFO):
        rows.append([button("take", "op-btn-take"), button("clarify", "op-btn-clarify")])
        rows.append([button("answer", "op-btn-answer"), button("reject", "op-btn-reject")])
        rows.append([button("transfer", "op-btn-transfer")])
        for other_id, number in extras.duplicates:
            rows.append([button(f"{MERGE_PREFIX}{other_id}", "op-btn-merge", {"number": number})])
    if status in OPEN_STATUSES and report.phone:
        rows.append([button(PHONE_ACTION, "op-btn-phone")])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def card_text(
    report: Report, catalog: Catalog, translator: Translator, extras: CardExtras = NO_EXTRAS
) -> str:
    """The card: what operators need to act on the report (no phone: see `card_markup`)."""
    sector = catalog.sector(report.sector_id).name(OPERATOR_LANG)
    args: dict[str, Any] = {
        "number": report.number or "",
        "sector": sector,
        "municipality": catalog.municipality_name(report.municipality_id) or "—",
        "address": report.address or "—",
        "status": translator.text(OPERATOR_LANG, f"status-{report.status}"),
        "confidence": f"{(report.classifier_confidence or 0) * 100:.0f}%",
        "first": report.first_reaction_due.strftime("%d.%m.%Y %H:%M UTC"),
        "due": report.answer_due.strftime("%d.%m.%Y"),
        "platform": report.platform,
        "photos": len(report.photos or []),
        "rating": f"{report.rating}/5" if report.rating else "—",
    }
    head = translator.text(OPERATOR_LANG, "op-card", args)
    if extras.lead_number is not None:
        head += "\n" + translator.text(OPERATOR_LANG, "op-card-follows", {"lead": extras.lead_number})
    if extras.reporters > 1:
        head += "\n" + translator.text(OPERATOR_LANG, "op-card-reporters", {"count": extras.reporters})
    if extras.duplicates:
        numbers = ", ".join(f"№{number}" for _, number in extras.duplicates)
        head += "\n" + translator.text(OPERATOR_LANG, "op-card-duplicates", {"numbers": numbers})
    body = report.text if len(report.text) <= 2500 else report.text[:2500] + "…"
    return f"{head}\n\n{body}"[:4096]


def topic_title(report: Report, catalog: Catalog) -> str:
    place = catalog.municipality_name(report.municipality_id) or "?"
    return f"№{report.number} · {catalog.sector(report.sector_id).name(OPERATOR_LANG)} · {place}"[:128]


class OperatorDesk:
    """A Messenger for platform "tg" that knows about reports, topics and cards."""

    platform = "tg"

    def __init__(
        self,
        bot: Bot,
        topics: ReportTopics,
        catalog: Catalog,
        translator: Translator,
        signer: CallbackSigner,
        inner: Messenger,
        extras: Callable[[int], Awaitable[CardExtras]] | None = None,
    ) -> None:
        self._bot = bot
        self._topics = topics
        self._catalog = catalog
        self._translator = translator
        self._signer = signer
        self._inner = inner
        self._extras = extras
        # Deliveries run concurrently: a card and the first messages for its topic must not each
        # create a topic. One lock per report (within this process) orders them.
        self._locks: dict[int, asyncio.Lock] = {}

    def _lock(self, report_id: int) -> asyncio.Lock:
        if len(self._locks) > MAX_LOCKS:
            self._locks = {k: v for k, v in self._locks.items() if v.locked()}
        return self._locks.setdefault(report_id, asyncio.Lock())

    async def deliver(self, delivery: Delivery) -> Outcome:
        if delivery.kind is Kind.REPORT_CARD:
            return await self._card(int(delivery.payload["report_id"]))
        if delivery.kind is Kind.TOPIC:
            where = topic_target(delivery.target)
            if isinstance(where, ReportTopic):
                return await self._to_topic(delivery, where.report_id)
        return await self._inner.deliver(delivery)

    async def _to_topic(self, delivery: Delivery, report_id: int) -> Outcome:
        thread = await self._topics.of_report(report_id)
        if thread is None:
            async with self._lock(report_id):
                thread = await self._topics.of_report(report_id)
                if thread is None:
                    # The card (queued earlier) has not made the topic yet.
                    outcome = await self._draw_card(report_id)
                    if not isinstance(outcome, Sent):
                        return outcome
                    thread = await self._topics.of_report(report_id)
            if thread is None:
                return Failed("topic_missing")
        resolved = replace(delivery, target=str(ChatThread(thread.chat_id, thread.thread_id)))
        outcome = await self._inner.deliver(resolved)
        if isinstance(outcome, Failed) and "topic_missing" in outcome.error:
            await self._topics.forget(report_id)
            return RetryAfter(1.0)
        return outcome

    async def _card(self, report_id: int) -> Outcome:
        async with self._lock(report_id):
            return await self._draw_card(report_id)

    async def _draw_card(self, report_id: int) -> Outcome:
        report, thread, binding = await self._topics.for_card(report_id)
        if report is None:
            return Sent()
        if binding is None:
            return RetryAfter(UNBOUND_RETRY_SECONDS)
        chat_id = binding.chat_id
        extras = await self._extras(report_id) if self._extras is not None else NO_EXTRAS
        text = card_text(report, self._catalog, self._translator, extras)
        markup = card_markup(report, binding, self._signer, self._translator, extras)
        try:
            if thread is not None and thread.chat_id == chat_id and thread.card_message_id:
                try:
                    await self._bot.edit_message_text(
                        text, chat_id=chat_id, message_id=thread.card_message_id, reply_markup=markup
                    )
                    return Sent()
                except TelegramBadRequest as error:
                    if not_modified(error):
                        return Sent()
                    log.info("card of report %s lost (%s); posting a new topic", report_id, error.message)
                    await self._topics.forget(report_id)
            elif thread is not None:
                # Transferred to another body's chat: a new topic there.
                await self._topics.forget(report_id)
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
        await self._topics.remember(report_id, chat_id, thread_id, card.message_id)
        return Sent()
