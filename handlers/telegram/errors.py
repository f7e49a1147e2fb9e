"""What Telegram's error texts mean to us, read in one place (the Bot API has no error codes for them)."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest

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
