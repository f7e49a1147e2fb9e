"""Delivers outbox messages through the Telegram Bot API, paced to stay under Telegram's limits.

A message may take several API calls (an album, documents, then the text in pieces). The number
of calls that already succeeded travels back in a RetryAfter/Failed outcome; the worker stores it
in the payload (`done_parts`) and the next attempt resumes after them instead of repeating the
album. A call whose answer was lost (timeout) may still be repeated: delivery is at least once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
)
from aiogram.types import InputMediaPhoto
from aiogram.types.media_union import MediaUnion

from bot.core.i18n import Translator
from bot.delivery.outbox import DONE_PARTS, Kind, recipient_id, views_of
from bot.delivery.pacing import TokenBucket
from bot.delivery.ports import Delivery, Failed, Outcome, RetryAfter, Sent, Unreachable
from bot.delivery.postbox import ChatThread, topic_target
from handlers.telegram.errors import chat_not_found, topic_gone
from handlers.telegram.render import render

ALBUM_LIMIT = 10
TOPIC_MISSING = "topic_missing"
# Telegram's words for a forum topic that is gone or closed; the operator side recreates it.

CardSender = Callable[[Delivery], Awaitable[Outcome]]
Part = Callable[[], Awaitable[Any]]


class TelegramMessenger:
    """The outbox's Messenger for Telegram: citizens, officials and operator forum topics."""

    platform = "tg"

    def __init__(
        self,
        bot: Bot,
        translator: Translator,
        *,
        card_sender: CardSender | None = None,
        global_rate: float = 30.0,
        chat_rate: float = 1.0,
        chat_burst: float = 3.0,
        group_rate: float = 20.0 / 60.0,
        paid_broadcast: bool = False,
    ) -> None:
        self._bot = bot
        self._translator = translator
        self._card_sender = card_sender
        self._global_rate = global_rate
        self._chat_rate = chat_rate
        self._chat_burst = chat_burst
        # Telegram allows about 20 messages a minute into one group, fewer than into a private chat.
        self._group_rate = group_rate
        # Paid broadcasts (Telegram Stars) lift the overall limit to 1000/s for notices only.
        self._paid_broadcast = paid_broadcast
        self._global: TokenBucket | None = None
        self._chats: dict[int, TokenBucket] = {}

    async def deliver(self, delivery: Delivery) -> Outcome:
        """Send one outbox message; Telegram errors become outcomes, never exceptions."""
        if delivery.kind is Kind.REPORT_CARD:
            if self._card_sender is None:
                return Failed("no card sender")
            return await self._card_sender(delivery)
        try:
            chat_id, thread_id = self._address(delivery)
        except ValueError:
            return Failed(f"bad target {delivery.target!r}")
        paid = self._paid_broadcast and delivery.notice_id is not None
        parts = self._parts(delivery, chat_id, thread_id, paid=paid)
        done = int(delivery.payload.get(DONE_PARTS, 0))
        sent = done
        try:
            for part in parts[done:]:
                await self._pace(chat_id)
                await part()
                sent += 1
        except TelegramRetryAfter as error:
            # Everyone sending through this bot waits, not only this message.
            if self._global is not None:
                self._global.slow_down(float(error.retry_after))
            return RetryAfter(float(error.retry_after), done_parts=sent)
        except TelegramForbiddenError as error:
            return Unreachable(error.message)
        except TelegramBadRequest as error:
            if chat_not_found(error):
                return Unreachable(error.message)
            if delivery.kind is Kind.TOPIC and topic_gone(error):
                return Failed(f"{TOPIC_MISSING}: {error.message}", done_parts=sent)
            return Failed(error.message, done_parts=sent)
        except (TelegramNetworkError, aiohttp.ClientError, TimeoutError) as error:
            return Failed(f"network: {type(error).__name__}: {error}", done_parts=sent)
        except TelegramAPIError as error:
            # 5xx, conflicts and the like: the worker retries with backoff.
            return Failed(f"{type(error).__name__}: {error.message}", done_parts=sent)
        return Sent()

    @staticmethod
    def _address(delivery: Delivery) -> tuple[int, int | None]:
        """Chat and topic of a delivery: "<chat_id>:<thread_id>" for topics, a user id otherwise."""
        if delivery.kind is Kind.TOPIC:
            where = topic_target(delivery.target)
            if isinstance(where, ChatThread):
                return where.chat_id, where.thread_id
            raise ValueError(f"topic target {delivery.target!r} is not resolved to a chat")
        return int(recipient_id(delivery.platform, delivery.target)), None

    def _parts(self, delivery: Delivery, chat_id: int, thread_id: int | None, *, paid: bool) -> list[Part]:
        """The API calls of a message, in order: photos, documents, then the text with its buttons."""
        bot = self._bot
        payload = delivery.payload
        parts: list[Part] = []
        photos = [str(p) for p in payload.get("photos", [])]
        for start in range(0, len(photos), ALBUM_LIMIT):
            chunk = photos[start : start + ALBUM_LIMIT]
            if len(chunk) == 1:
                parts.append(
                    partial(
                        bot.send_photo,
                        chat_id,
                        chunk[0],
                        message_thread_id=thread_id,
                        allow_paid_broadcast=paid or None,
                    )
                )
            else:
                media: list[MediaUnion] = [InputMediaPhoto(media=p) for p in chunk]
                parts.append(partial(bot.send_media_group, chat_id, media, message_thread_id=thread_id))
        for document in payload.get("documents", []):
            parts.append(partial(bot.send_document, chat_id, str(document), message_thread_id=thread_id))
        lang = str(payload.get("lang", "ru"))
        for outgoing in render(views_of(payload), lang, self._translator):
            parts.append(
                partial(
                    bot.send_message,
                    chat_id,
                    outgoing.text,
                    reply_markup=outgoing.markup,
                    message_thread_id=thread_id,
                    allow_paid_broadcast=paid or None,
                )
            )
        return parts

    async def _pace(self, chat_id: int) -> None:
        """Wait until both the global and this chat's budget allow one more call."""
        if self._global is None:
            # A small burst: over any second the overall rate stays close to the configured one.
            self._global = TokenBucket(self._global_rate, max(1.0, self._global_rate / 10))
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if len(self._chats) > 10_000:
                # Forget idle chats; a full bucket carries no information.
                self._chats = {cid: b for cid, b in self._chats.items() if not b.full}
            rate = self._group_rate if chat_id < 0 else self._chat_rate
            bucket = self._chats[chat_id] = TokenBucket(rate, self._chat_burst)
        await bucket.take()
        await self._global.take()
