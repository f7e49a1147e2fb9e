"""Views → VK messages, within VK's limits.

VK keyboards: an inline keyboard holds at most 10 buttons (6 rows of 5), a regular one 40 (10 rows
of 5); labels up to 40 characters, payloads up to 255. A view with more choices than one inline
keyboard holds is paged over several messages. A location request needs a regular keyboard, which
stays on screen until replaced, so the message after it carries a keyboard that takes it away.
VK has no "share my phone" button: a contact request is rendered as a plain prompt (the phone is
typed), with the view's own buttons.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.core.i18n import Translator
from bot.core.messages import Ask, Button, View
from handlers.text import split_text, view_text

# VK accepts up to 9000 characters in theory; longer Cyrillic texts have been refused below that.
TEXT_LIMIT = 4096
LABEL_LIMIT = 40
PAYLOAD_LIMIT = 255
INLINE_BUTTONS = 10
INLINE_ROWS = 6
REGULAR_BUTTONS = 40
REGULAR_ROWS = 10
ROW_WIDTH = 5

# The payload a location button carries; a geo message with it is the answer to the request.
LOCATION_PAYLOAD = {"ask": "location"}
# Removes a regular keyboard left on screen by an earlier request.
EMPTY_KEYBOARD: dict[str, Any] = {"one_time": True, "buttons": []}


@dataclass(frozen=True)
class VkMessage:
    """One messages.send call: text and an optional keyboard (already JSON-ready)."""

    text: str
    keyboard: dict[str, Any] | None = None

    def keyboard_json(self) -> str | None:
        return None if self.keyboard is None else json.dumps(self.keyboard, ensure_ascii=False)


def button_payload(button_id: str) -> str:
    """The payload a pressed button sends back: its dialog id."""
    payload = json.dumps({"b": button_id}, ensure_ascii=False, separators=(",", ":"))
    if len(payload) > PAYLOAD_LIMIT:
        raise ValueError(f"button id too long for VK: {button_id!r}")
    return payload


def _label(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= LABEL_LIMIT else text[: LABEL_LIMIT - 1] + "…"


def _rows(buttons: tuple[tuple[Button, ...], ...]) -> list[list[Button]]:
    """Rows of at most ROW_WIDTH buttons (a wider row is wrapped)."""
    rows: list[list[Button]] = []
    for row in buttons:
        for start in range(0, len(row), ROW_WIDTH):
            rows.append(list(row[start : start + ROW_WIDTH]))
    return [row for row in rows if row]


def _pages(rows: list[list[Button]], max_buttons: int, max_rows: int) -> list[list[list[Button]]]:
    """Split rows into keyboards that each stay within the limits, keeping rows whole."""
    pages: list[list[list[Button]]] = []
    page: list[list[Button]] = []
    count = 0
    for row in rows:
        if page and (count + len(row) > max_buttons or len(page) >= max_rows):
            pages.append(page)
            page, count = [], 0
        page.append(row)
        count += len(row)
    if page:
        pages.append(page)
    return pages


def _action(button: Button, lang: str, translator: Translator, kind: str) -> dict[str, Any]:
    label = translator.text(lang, button.label.key, button.label.args)
    return {
        "action": {"type": kind, "label": _label(label), "payload": button_payload(button.id)},
        "color": "secondary",
    }


def _keyboard(
    rows: list[list[Button]], lang: str, translator: Translator, *, inline: bool, one_time: bool = False
) -> dict[str, Any]:
    kind = "callback" if inline else "text"
    keyboard: dict[str, Any] = {
        "inline": inline,
        "buttons": [[_action(b, lang, translator, kind) for b in row] for row in rows],
    }
    if not inline:
        keyboard["one_time"] = one_time
    return keyboard


def _location_keyboard(view: View, lang: str, translator: Translator) -> dict[str, Any]:
    rows = _rows(view.buttons)[: REGULAR_ROWS - 1]
    keyboard = _keyboard(rows, lang, translator, inline=False)
    location = {"action": {"type": "location", "payload": json.dumps(LOCATION_PAYLOAD)}}
    keyboard["buttons"].insert(0, [location])
    return keyboard


def render(views: list[View], lang: str, translator: Translator) -> list[VkMessage]:
    """The messages to send for a reply, in order."""
    messages: list[VkMessage] = []
    for view in views:
        pieces = split_text(view_text(view, lang, translator), TEXT_LIMIT)
        keyboards = _view_keyboards(view, lang, translator)
        for piece in pieces[:-1]:
            messages.append(VkMessage(piece))
        messages.append(VkMessage(pieces[-1], keyboards[0] if keyboards else None))
        more = translator.text(lang, "vk-more-options")
        messages.extend(VkMessage(more, keyboard) for keyboard in keyboards[1:])
    return messages


def _view_keyboards(view: View, lang: str, translator: Translator) -> list[dict[str, Any]]:
    """The keyboards of one view: usually one; several pages for a long list."""
    if view.ask is Ask.LOCATION:
        return [_location_keyboard(view, lang, translator)]
    rows = _rows(view.buttons)
    if not rows:
        return [EMPTY_KEYBOARD] if view.remove_keyboard or view.ask is Ask.CONTACT else []
    if view.remove_keyboard or view.ask is Ask.CONTACT:
        # One keyboard must both take the old one away and offer the choices: a regular one that
        # hides itself after a press (a contact request gets the same, so no stale one lingers).
        pages = _pages(rows, REGULAR_BUTTONS, REGULAR_ROWS)
        if len(pages) == 1:
            return [_keyboard(pages[0], lang, translator, inline=False, one_time=True)]
    pages = _pages(rows, INLINE_BUTTONS, INLINE_ROWS)
    keyboards = [_keyboard(page, lang, translator, inline=True) for page in pages]
    if view.remove_keyboard:
        keyboards.insert(0, EMPTY_KEYBOARD)
    return keyboards
