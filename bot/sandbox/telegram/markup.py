"""Keyboards and texts: what a user sees of reply markup and message text (plain text only:
the bot sends no parse_mode, so none is parsed)."""

from __future__ import annotations

import re
from typing import Any

from bot.sandbox.telegram.errors import (
    INLINE_BUTTON_ACTIONS,
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    _bad,
)


def _inline_buttons(markup: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not markup or not isinstance(markup.get("inline_keyboard"), list):
        return []
    return [
        b for row in markup["inline_keyboard"] if isinstance(row, list) for b in row if isinstance(b, dict)
    ]


def _reply_keyboard_buttons(markup: dict[str, Any] | None) -> list[Any]:
    if not markup or not isinstance(markup.get("keyboard"), list):
        return []
    return [b for row in markup["keyboard"] if isinstance(row, list) for b in row]


def _reply_button_text(button: Any) -> str:
    return str(button.get("text", "")) if isinstance(button, dict) else str(button)


def _plain(text: str, parse_mode: Any) -> str:
    """The text as the user sees it; parse modes are not part of the sandbox (the bot sends none)."""
    if parse_mode:
        raise _bad("unsupported parse_mode")
    return text


def validate_markup(markup: Any, *, private: bool, inline_only: bool = False) -> dict[str, Any] | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
        for button in _inline_buttons(markup):
            if not str(button.get("text", "")).strip():
                raise _bad("BUTTON_TEXT_INVALID")
            actions = [a for a in INLINE_BUTTON_ACTIONS if a in button]
            if not actions:
                raise _bad("text buttons are unallowed in the inline keyboard")
            if "callback_data" in button:
                data = str(button["callback_data"]).encode("utf-8")
                if not 1 <= len(data) <= MAX_CALLBACK_DATA_BYTES:
                    raise _bad("BUTTON_DATA_INVALID")
            if "url" in button and not re.match(r"^(https?|tg)://\S+$", str(button["url"])):
                raise _bad(f"inline keyboard button URL '{button['url']}' is invalid: Wrong HTTP URL")
        return markup
    if inline_only:
        raise _bad("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad('field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays')
        for button in _reply_keyboard_buttons(markup):
            if not _reply_button_text(button).strip():
                raise _bad("keyboard button text must be non-empty")
            if (
                isinstance(button, dict)
                and not private
                and (button.get("request_contact") or button.get("request_location"))
            ):
                raise _bad(
                    "keyboard buttons requesting contact or location can be used in private chats only"
                )
        return markup
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return markup
    raise _bad('can\'t find field "inline_keyboard"')


def check_text(params: dict[str, Any]) -> str:
    text = params.get("text")
    if text is None or not str(text).strip():
        raise _bad("message text is empty")
    visible = _plain(str(text), params.get("parse_mode")).strip()
    if not visible:
        raise _bad("message text is empty")
    if len(visible) > MAX_TEXT_LENGTH:
        raise _bad("message is too long")
    return visible


def check_caption(caption: Any, parse_mode: Any) -> str | None:
    if caption is None or caption == "":
        return None
    visible = _plain(str(caption), parse_mode).strip()
    if len(visible) > MAX_CAPTION_LENGTH:
        raise _bad("message caption is too long")
    return visible or None
