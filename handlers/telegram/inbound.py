"""Telegram updates in and out of the inbound queue: where each belongs, and feeding it to aiogram."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.types import Update
from pydantic import ValidationError

from bot.inbound.queue import Arrival, InboundItem
from bot.inbound.worker import RetryLater, Unprocessable

PLATFORM = "tg"
# The update kinds that carry a message (and so a chat).
MESSAGE_FIELDS = ("message", "edited_message", "channel_post", "edited_channel_post", "business_message")
MEMBER_FIELDS = ("my_chat_member", "chat_member", "chat_join_request")


@dataclass(frozen=True, slots=True)
class Album:
    """The photos of one album, gathered from its updates, and the caption one of them carried."""

    photos: tuple[str, ...]
    caption: str


def update_key(update_id: int) -> str:
    """The de-duplication key of a Telegram update."""
    return f"{PLATFORM}:{update_id}"


def _id(value: Any) -> int | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def arrival_of(update: Any) -> Arrival:
    """Where a raw update belongs; ValueError when it has no update_id to be known by."""
    if not isinstance(update, dict):
        raise ValueError("an update is a JSON object")
    update_id = update.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise ValueError("an update has an integer update_id")
    key = update_key(update_id)
    chat: int | None = None
    user: int | None = None
    album: str | None = None
    for name in MESSAGE_FIELDS:
        message = update.get(name)
        if isinstance(message, dict):
            chat, user = _id(message.get("chat")), _id(message.get("from"))
            group = message.get("media_group_id")
            if isinstance(group, str) and message.get("photo") and name == "message":
                album = f"{PLATFORM}:{chat}:{group}"
            break
    else:
        query = update.get("callback_query")
        if isinstance(query, dict):
            user = _id(query.get("from"))
            message = query.get("message")
            chat = _id(message.get("chat")) if isinstance(message, dict) else user
        for name in MEMBER_FIELDS:
            member = update.get(name)
            if isinstance(member, dict):
                chat, user = _id(member.get("chat")), _id(member.get("from"))
    if chat is None:
        conversation = key
    elif user is None or user == chat:
        # A private chat: everything the citizen does, messages and buttons, is one conversation.
        conversation = f"{PLATFORM}:{chat}"
    else:
        # In a group each member's commands and drafts are their own; members do not wait for one another.
        conversation = f"{PLATFORM}:{chat}:{user}"
    return Arrival(key, PLATFORM, conversation, update, seq=update_id, album=album)


def album_of(updates: list[Update]) -> Album | None:
    """The photos of an album's updates, in order (None for a single update)."""
    messages = [u.message for u in updates if u.message is not None and u.message.photo]
    if not messages or messages[0].media_group_id is None:
        return None
    caption = next((m.caption for m in messages if m.caption), "")
    return Album(tuple(m.photo[-1].file_id for m in messages if m.photo), caption)


class TelegramUpdates:
    """Processes one queued item through aiogram's dispatcher (the routers of every audience)."""

    def __init__(self, dispatcher: Dispatcher, bot: Bot) -> None:
        self._dispatcher = dispatcher
        self._bot = bot

    async def __call__(self, item: InboundItem) -> None:
        try:
            updates = [Update.model_validate(p, context={"bot": self._bot}) for p in item.payloads]
        except ValidationError as error:
            # The count only: the error's text quotes the update, and so what the citizen wrote.
            raise Unprocessable(f"not a Telegram update ({error.error_count()} invalid fields)") from None
        # aiogram's handlers raise what they cannot handle (the queue retries or gives up); an
        # update no router wants is simply done.
        try:
            await self._dispatcher.feed_update(self._bot, updates[0], album=album_of(updates))
        except TelegramRetryAfter as error:
            raise RetryLater("telegram flood wait", float(error.retry_after)) from error
        except (TelegramNetworkError, TelegramServerError) as error:
            raise RetryLater(type(error).__name__) from error
