"""Citizens' private chats with the bot: Telegram updates → Inbound → dialog runner → messages."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field, replace
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import CallbackQuery, Message

from bot.core.i18n import Translator
from bot.core.messages import Inbound, InboundKind
from dialogs.engine import DialogRunner, Reply
from handlers.telegram.render import OutgoingMessage, render

log = logging.getLogger(__name__)

PLATFORM = "tg"
SEND_ATTEMPTS = 4
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


async def send_reply(bot: Bot, chat_id: int, reply: Reply, translator: Translator) -> None:
    """Send the rendered views, waiting out Telegram's flood limits; a blocked bot is logged."""
    for outgoing in render(reply.views, reply.lang, translator):
        await _send(bot, chat_id, outgoing)


async def _send(bot: Bot, chat_id: int, outgoing: OutgoingMessage) -> None:
    for attempt in range(SEND_ATTEMPTS):
        try:
            await bot.send_message(chat_id, outgoing.text, reply_markup=outgoing.markup)
            return
        except TelegramRetryAfter as error:
            if attempt == SEND_ATTEMPTS - 1:
                raise
            await asyncio.sleep(min(error.retry_after, 30))
        except TelegramForbiddenError:
            log.info("chat %s blocked the bot; reply dropped", chat_id)
            return


@dataclass
class _Album:
    photos: list[str] = field(default_factory=list)
    caption: str = ""
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


class AlbumGatherer:
    """Telegram delivers an album as one update per photo; the dialog must see one step."""

    def __init__(self, wait_seconds: float) -> None:
        self.wait_seconds = wait_seconds
        self._albums: dict[tuple[int, str], _Album] = {}

    async def gather(self, message: Message) -> tuple[tuple[str, ...], str] | None:
        """For the first photo of an album: wait for the rest and return them all; else None."""
        assert message.media_group_id is not None and message.photo
        key = (message.chat.id, message.media_group_id)
        album = self._albums.get(key)
        first = album is None
        if album is None:
            album = self._albums[key] = _Album()
        album.photos.append(message.photo[-1].file_id)
        album.caption = album.caption or (message.caption or "")
        album.arrived.set()
        if not first:
            return None
        # Wait until no photo of this album arrived for a whole wait period.
        while True:
            album.arrived.clear()
            try:
                await asyncio.wait_for(album.arrived.wait(), self.wait_seconds)
            except TimeoutError:
                break
        del self._albums[key]
        return tuple(album.photos), album.caption


def citizen_router() -> Router:
    """Handlers for citizens' private chats; runner, translator, albums arrive as workflow data."""
    router = Router(name="citizen")
    router.message.filter(F.chat.type == "private")
    router.callback_query.filter(F.message.chat.type == "private")

    @router.message()
    async def on_message(
        message: Message, bot: Bot, runner: DialogRunner, translator: Translator, albums: AlbumGatherer
    ) -> None:
        if message.media_group_id is not None and message.photo:
            gathered = await albums.gather(message)
            if gathered is None:
                return
            photos, caption = gathered
            inbound = replace(inbound_from_message(message, photos), text=caption)
        else:
            inbound = inbound_from_message(message)
        reply = await runner.handle(inbound)
        await send_reply(bot, message.chat.id, reply, translator)

    @router.callback_query()
    async def on_button(query: CallbackQuery, bot: Bot, runner: DialogRunner, translator: Translator) -> None:
        user = query.from_user
        inbound = Inbound(
            platform=PLATFORM,
            user_id=str(user.id),
            kind=InboundKind.BUTTON,
            button=(query.data or "")[:64],
            language_hint=user.language_code,
        )
        reply = await runner.handle(inbound)
        # Answered after handling: the spinner stops when the reply is ready (Telegram allows ~15 s).
        await query.answer()
        if query.message is not None and reply.views:
            # The pressed message loses its buttons so it cannot be pressed again by mistake.
            with contextlib.suppress(TelegramBadRequest):
                await bot.edit_message_reply_markup(
                    chat_id=query.message.chat.id, message_id=query.message.message_id, reply_markup=None
                )
        await send_reply(bot, user.id, reply, translator)

    return router
