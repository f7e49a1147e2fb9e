"""Views → Telegram messages, within Telegram's limits (4096-char texts, 64-byte callback data)."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.core.i18n import Translator
from bot.core.messages import Ask, View
from handlers.text import split_text, view_text

TEXT_LIMIT = 4096

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


@dataclass(frozen=True)
class OutgoingMessage:
    text: str
    markup: Markup | None = None


def markup_for(view: View, lang: str, translator: Translator) -> Markup | None:
    """Inline buttons; or a native reply keyboard when the view asks for a location or contact."""
    if view.ask is not Ask.NONE:
        request = KeyboardButton(
            text=translator.text(
                lang, "btn-send-location" if view.ask is Ask.LOCATION else "btn-share-phone"
            ),
            request_location=view.ask is Ask.LOCATION,
            request_contact=view.ask is Ask.CONTACT,
        )
        rows = [[request]]
        # Reply keyboards send labels as text; the dialog runner maps them back to button ids.
        rows += [
            [KeyboardButton(text=translator.text(lang, b.label.key, b.label.args)) for b in row]
            for row in view.buttons
        ]
        return ReplyKeyboardMarkup(keyboard=rows, resize_keyboard=True, is_persistent=True)
    if view.buttons:
        return InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=translator.text(lang, b.label.key, b.label.args)[:64], callback_data=b.id
                    )
                    for b in row
                ]
                for row in view.buttons
            ]
        )
    if view.remove_keyboard:
        return ReplyKeyboardRemove()
    return None


def render(views: list[View], lang: str, translator: Translator) -> list[OutgoingMessage]:
    """The messages to send for a reply, in order; a long text becomes several messages."""
    messages: list[OutgoingMessage] = []
    for view in views:
        pieces = split_text(view_text(view, lang, translator), TEXT_LIMIT)
        markup = markup_for(view, lang, translator)
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            messages.append(OutgoingMessage(piece, markup if last else None))
    return messages
