"""Citizens' private chats with the bot: Telegram updates → Inbound → dialog runner → messages."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import replace
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message, Update

from bot.core.messages import Inbound, InboundKind
from dialogs.engine import DialogRunner
from handlers.telegram.inbound import Album, update_key

log = logging.getLogger(__name__)

PLATFORM = "tg"
UNSUPPORTED_MEDIA = (
    "sticker",
    "voice",
    "video",
    "video_note",
    "audio",
    "document",
    "animation",
    "poll",
    "dice",
    "venue",
)


def inbound_from_message(message: Message, photos: tuple[str, ...] = ()) -> Inbound:
    """Translate one message (or a gathered album) into the dialogs' language."""
    user = message.from_user
    user_id = str(user.id if user else message.chat.id)
    hint = user.language_code if user else None

    def make(kind: InboundKind, **fields: Any) -> Inbound:
        return Inbound(platform=PLATFORM, user_id=user_id, kind=kind, language_hint=hint, **fields)

    if message.text is not None:
        text = message.text
        if text.startswith("/") and len(text) > 1:
            command = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower()
            return make(InboundKind.COMMAND, command=command, text=text)
        return make(InboundKind.TEXT, text=text)
    if not photos and message.photo:
        photos = (message.photo[-1].file_id,)
    if photos:
        return make(InboundKind.PHOTOS, photos=photos, text=message.caption or "")
    if message.location is not None:
        return make(InboundKind.LOCATION, lat=message.location.latitude, lon=message.location.longitude)
    if message.contact is not None:
        own = user is not None and message.contact.user_id == user.id
        return make(InboundKind.CONTACT, phone=message.contact.phone_number, contact_is_own=own)
    media = next((name for name in UNSUPPORTED_MEDIA if getattr(message, name, None) is not None), "other")
    return make(InboundKind.UNSUPPORTED, media=media)


def citizen_router() -> Router:
    """Handlers for citizens' private chats; the runner arrives as workflow data, an album as feed data.

    The runner queues each answer in the outbox under the update's key (sent by the delivery
    worker): nothing here sends a citizen a message.
    """
    router = Router(name="citizen")
    router.message.filter(F.chat.type == "private")
    router.callback_query.filter(F.message.chat.type == "private")

    @router.message()
    async def on_message(
        message: Message, event_update: Update, runner: DialogRunner, album: Album | None = None
    ) -> None:
        # An album's photos were gathered by the inbound queue: this is its first update.
        inbound = inbound_from_message(message, album.photos if album else ())
        if album is not None:
            inbound = replace(inbound, text=album.caption)
        await runner.handle(replace(inbound, key=update_key(event_update.update_id)))

    @router.callback_query()
    async def on_button(
        query: CallbackQuery,
        bot: Bot,
        event_update: Update,
        runner: DialogRunner,
        callbacks_answered: bool = False,
    ) -> None:
        user = query.from_user
        inbound = Inbound(
            platform=PLATFORM,
            user_id=str(user.id),
            kind=InboundKind.BUTTON,
            button=(query.data or "")[:64],
            language_hint=user.language_code,
            key=update_key(event_update.update_id),
        )
        reply = await runner.handle(inbound)
        # By polling, answered after handling: the spinner stops when the reply is ready (Telegram
        # allows ~15 s). By webhook the webhook's response answered it on receipt (callbacks_answered).
        # A press processed again after a restart may be too old to answer: nothing is lost by that.
        if not callbacks_answered:
            with contextlib.suppress(TelegramBadRequest):
                await query.answer()
        if query.message is not None and reply.views:
            # The pressed message loses its buttons so it cannot be pressed again by mistake.
            with contextlib.suppress(TelegramBadRequest):
                await bot.edit_message_reply_markup(
                    chat_id=query.message.chat.id, message_id=query.message.message_id, reply_markup=None
                )

    return router
