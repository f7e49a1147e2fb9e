"""What Telegram's error texts mean to us, read in one place (the Bot API has no error codes for them)."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import AnswerCallbackQuery, Response, TelegramMethod
from aiogram.methods.base import TelegramType

log = logging.getLogger(__name__)

# The forum topic a delivery was aimed at was deleted or closed by someone in the chat.
TOPIC_GONE = ("message thread not found", "thread not found", "topic_deleted", "topic_closed")


def topic_gone(error: TelegramBadRequest) -> bool:
    """The request failed because its forum topic no longer takes messages."""
    text = error.message.lower()
    return any(gone in text for gone in TOPIC_GONE)


def not_modified(error: TelegramBadRequest) -> bool:
    """An edit asked for what the message already shows: nothing to do, and no failure."""
    return "message is not modified" in error.message.lower()


def chat_not_found(error: TelegramBadRequest) -> bool:
    """The chat is gone or the bot was never in it."""
    return "chat not found" in error.message.lower()


class ExpiredQueriesTolerated(BaseRequestMiddleware):
    """Answering a button press Telegram no longer waits for is no failure.

    A press processed again after a restart, or late behind a storage outage, can no longer be
    answered ("query is too old"); the handler's real work must not fail for that.
    """

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except TelegramBadRequest as error:
            if isinstance(method, AnswerCallbackQuery) and query_expired(error):
                log.info("a button press was answered too late; its spinner stopped on its own")
                return Response[TelegramType](ok=True, result=True)
            raise


def query_expired(error: TelegramBadRequest) -> bool:
    """The press is too old to answer (Telegram waits about 15 seconds)."""
    text = error.message.lower()
    return "query is too old" in text or "query id is invalid" in text
