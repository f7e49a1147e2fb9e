"""What tests read back: recorded calls, sent messages, uploaded files; form decoding."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.telegram.errors import _bad
from bot.sandbox.telegram.markup import _inline_buttons, _reply_button_text, _reply_keyboard_buttons

# Form fields that are plain strings even when they look like JSON ("123", "true", ...).
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "ip_address",
        "name",
        "title",
        "description",
        "short_description",
        "action",
        "emoji",
        "icon_custom_emoji_id",
        "language_code",
        "phone_number",
        "first_name",
        "last_name",
        "vcard",
        "address",
        "foursquare_id",
        "foursquare_type",
        "google_place_id",
        "google_place_type",
        "file_id",
        "photo",
        "document",
        "video",
        "audio",
        "voice",
        "sticker",
        "animation",
        "video_note",
        "thumbnail",
        "custom_title",
        "question",
        "explanation",
        "business_connection_id",
        "message_effect_id",
        "payload",
        "currency",
        "start_parameter",
        "provider_token",
    }
)


@dataclass
class UploadedFile:
    """A file part of a multipart request (an ``InputFile`` the bot uploaded)."""

    name: str
    """The multipart part name (aiogram's random ``attach://`` key)."""
    filename: str
    content_type: str
    size: int
    data: bytes = field(repr=False)
    file_id: str = ""


@dataclass
class ApiCall:
    """One request to the fake API, in arrival order.

    ``params`` hold decoded values: ints/floats/bools as such, ``reply_markup``/``media``/
    ``reply_parameters``/... as dicts and lists; uploaded file parts are in ``files`` (the
    param itself keeps aiogram's ``"attach://<key>"`` reference).
    ``ok`` is None while the request is in flight (e.g. a long poll).
    """

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile] = field(default_factory=dict)
    index: int = 0
    ok: bool | None = None
    error_code: int | None = None
    description: str | None = None
    result: Any = None
    via_webhook_reply: bool = False
    at: float = 0.0

    @property
    def done(self) -> bool:
        """Whether the server already answered this call."""
        return self.ok is not None


@dataclass
class SentMessage:
    """A message the bot sent in a chat, with its latest content.

    ``text`` is the text or caption *as the user sees it* (HTML/Markdown markup removed);
    ``sent_text`` is what the bot passed, ``parse_mode`` how it asked to parse it.
    ``edits`` lists the previous visible texts, oldest first (one entry per edit);
    ``history`` keeps every previous version as ``{"text", "reply_markup"}``.
    """

    message_id: int
    chat_id: int
    method: str
    text: str | None
    reply_markup: dict[str, Any] | None
    photos: list[str] = field(default_factory=list)
    message_thread_id: int | None = None
    edits: list[str | None] = field(default_factory=list)
    sent_text: str | None = None
    parse_mode: str | None = None
    document: dict[str, Any] | None = None
    location: dict[str, Any] | None = None
    media_group_id: str | None = None
    deleted: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    call_index: int = 0
    touched_at: int = 0

    @property
    def inline_buttons(self) -> list[str]:
        """Texts of the inline keyboard buttons, row by row."""
        return [str(b.get("text", "")) for b in _inline_buttons(self.reply_markup)]

    @property
    def reply_buttons(self) -> list[str]:
        """Texts of the reply keyboard buttons (if this message showed one)."""
        return [_reply_button_text(b) for b in _reply_keyboard_buttons(self.reply_markup)]

    def callback_data(self, button_text: str) -> str | None:
        """``callback_data`` of the inline button with exactly this text."""
        for button in _inline_buttons(self.reply_markup):
            if button.get("text") == button_text:
                data = button.get("callback_data")
                return None if data is None else str(data)
        return None


def _decode_form_value(key: str, value: str) -> Any:
    if key in _STRING_PARAMS:
        return value
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    if isinstance(decoded, str):
        return value
    return decoded


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise _bad(f"invalid {name} specified")
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError as exc:
        raise _bad(f"invalid {name} specified") from exc


def _opt_int(value: Any, name: str) -> int | None:
    return None if value is None else _as_int(value, name)


_Handler = Callable[[ApiCall], Awaitable[Any]]
