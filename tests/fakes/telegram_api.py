"""A fake Telegram Bot API server for end-to-end tests of the aiogram bot.

The real aiogram ``Bot`` talks to it over real HTTP on 127.0.0.1::

    server = FakeTelegramServer()
    await server.start()
    bot = server.make_bot()            # Bot(token, session=AiohttpSession(api=...from_base(base_url)))
    citizen = server.user(1001)
    async with server.polling(dp, bot):
        await citizen.send_command("/start")
        answer = await citizen.replies()
    await server.stop()

What it does:

* records every request in :attr:`FakeTelegramServer.calls` with the parameters decoded back to
  the types the bot meant (aiogram sends every field as a form string, nested objects as JSON);
* keeps per-chat message history (message ids grow per chat, edits update the stored message
  and keep the history, deletions are tracked);
* serves scripted updates through long polling (``getUpdates`` honours ``offset``/``limit``/
  ``timeout``) or posts them to the bot's webhook server;
* enforces the Telegram limits that bots usually trip over (message/caption length, empty text,
  ``callback_data`` size, HTML/MarkdownV2 parse errors, "message is not modified", album size,
  unknown chats, blocked users, closed topics, unknown file ids) and answers with the same
  ``{"ok": false, "error_code": ..., "description": ...}`` bodies Telegram uses;
* lets a test script failures (``fail_next``) such as 429 with ``retry_after``.

Error descriptions follow the real Bot API where they are well known; a few rarer ones
(album size, some topic errors) are plausible approximations.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from tests.fakes.loopback import LoopbackServer
from tests.fakes.signal import Signal

if TYPE_CHECKING:
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession

__all__ = [
    "DEFAULT_TOKEN",
    "ApiCall",
    "FakeChat",
    "FakeTelegramServer",
    "FakeUser",
    "SentMessage",
    "UploadedFile",
]

DEFAULT_TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijklmn"

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_PHOTO_UPLOAD = 10 * 1024 * 1024
MAX_UPLOAD = 50 * 1024 * 1024
MAX_DOWNLOAD = 20 * 1024 * 1024
TOPIC_ICON_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)

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

_FAKE_JPEG_HEADER = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"


class _ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def _bad(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


def _parse_error(description: str) -> _ApiError:
    return _bad(f"can't parse entities: {description}")


# --------------------------------------------------------------------------------------------
# Records exposed to tests
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Text parsing (parse_mode) — enough of Telegram's parser to report the classic mistakes
# --------------------------------------------------------------------------------------------

_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
        "tg-time",
    }
)
_HTML_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_HTML_TAG_NAME = re.compile(r"[A-Za-z0-9-]*")
_HTML_ATTR_NAME = re.compile(r"[A-Za-z0-9_-]+")
_HTML_END_TAG = re.compile(r"</([A-Za-z0-9-]*)\s*>")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _decode_html_entity(name: str) -> str:
    if name in _NAMED_ENTITIES:
        return _NAMED_ENTITIES[name]
    code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
    try:
        return chr(code)
    except (ValueError, OverflowError):
        return "\ufffd"


def _parse_html(text: str) -> str:
    """Strip Telegram HTML markup, raising like Telegram on malformed or unsupported tags."""
    out: list[str] = []
    stack: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "&":
            match = _HTML_ENTITY.match(text, i)
            if match:
                out.append(_decode_html_entity(match.group(1)))
                i = match.end()
                continue
            out.append(ch)
            i += 1
            continue
        if ch != "<":
            out.append(ch)
            i += 1
            continue
        offset = _byte_offset(text, i)
        if text.startswith("</", i):
            end = _HTML_END_TAG.match(text, i)
            if end is None:
                raise _parse_error(f"Unclosed end tag at byte offset {offset}")
            name = end.group(1).lower()
            if not stack:
                raise _parse_error(f"Unexpected end tag at byte offset {offset}")
            if stack[-1] != name:
                raise _parse_error(
                    f'Unmatched end tag at byte offset {offset}, expected "</{stack[-1]}>", found "</{name}>"'
                )
            stack.pop()
            i = end.end()
            continue
        name_match = _HTML_TAG_NAME.match(text, i + 1)
        name = name_match.group(0).lower() if name_match else ""
        if name not in _HTML_TAGS:
            raise _parse_error(f'Unsupported start tag "{name}" at byte offset {offset}')
        j = name_match.end() if name_match else i + 1
        attrs: dict[str, str] = {}
        while True:
            while j < n and text[j].isspace():
                j += 1
            if j >= n:
                raise _parse_error(f"Unclosed start tag at byte offset {offset}")
            if text[j] == ">":
                j += 1
                break
            attr = _HTML_ATTR_NAME.match(text, j)
            if attr is None:
                raise _parse_error(f'Empty attribute name in the tag "{name}" at byte offset {offset}')
            j = attr.end()
            while j < n and text[j].isspace():
                j += 1
            if j >= n or text[j] != "=":
                if attr.group(0).lower() == "expandable" and name == "blockquote":
                    attrs["expandable"] = ""
                    continue
                raise _parse_error(
                    f'Expected equal sign in declaration of an attribute of the tag "{name}" '
                    f"at byte offset {offset}"
                )
            j += 1
            while j < n and text[j].isspace():
                j += 1
            if j < n and text[j] in "\"'":
                close = text.find(text[j], j + 1)
                if close < 0:
                    raise _parse_error(f"Unclosed start tag at byte offset {offset}")
                value = text[j + 1 : close]
                j = close + 1
            else:
                start = j
                while j < n and not text[j].isspace() and text[j] != ">":
                    j += 1
                value = text[start:j]
            attrs[attr.group(0).lower()] = value
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise _parse_error(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        stack.append(name)
        i = j
    if stack:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


_MDV2_ENTITY_NAMES = {"*": "Bold", "_": "Italic", "__": "Underline", "~": "Strikethrough", "||": "Spoiler"}
_MDV2_MUST_ESCAPE = frozenset("()#+-={}.!>|]")


def _parse_markdown_v2(text: str) -> str:
    """Strip MarkdownV2 markup, raising on unescaped reserved characters and unclosed entities."""
    out: list[str] = []
    open_marks: dict[str, int] = {}
    link_open: int | None = None
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            out.append(text[i + 1])
            i += 2
            continue
        if ch == "`":
            fence = "```" if text.startswith("```", i) else "`"
            j = i + len(fence)
            chunk: list[str] = []
            while j < n and not text.startswith(fence, j):
                if text[j] == "\\" and j + 1 < n:
                    chunk.append(text[j + 1])
                    j += 2
                    continue
                chunk.append(text[j])
                j += 1
            if j >= n:
                kind = "Pre" if fence == "```" else "Code"
                raise _parse_error(f"Can't find end of {kind} entity at byte offset {_byte_offset(text, i)}")
            body = "".join(chunk)
            if fence == "```" and "\n" in body:
                first, rest = body.split("\n", 1)
                body = rest if first and " " not in first else body
            out.append(body)
            i = j + len(fence)
            continue
        if ch == "[":
            link_open = _byte_offset(text, i)
            i += 1
            continue
        if ch == "]" and link_open is not None:
            link_open = None
            if text.startswith("(", i + 1):
                close = text.find(")", i + 2)
                if close < 0:
                    raise _parse_error(f"Can't find end of a URL at byte offset {_byte_offset(text, i + 1)}")
                i = close + 1
            else:
                i += 1
            continue
        mark = ""
        if ch == "_":
            mark = "__" if text.startswith("__", i) else "_"
        elif ch == "|" and text.startswith("||", i):
            mark = "||"
        elif ch in "*~":
            mark = ch
        if mark:
            if mark in open_marks:
                del open_marks[mark]
            else:
                open_marks[mark] = _byte_offset(text, i)
            i += len(mark)
            continue
        if ch == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1
            continue
        if ch in _MDV2_MUST_ESCAPE:
            raise _parse_error(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")
        out.append(ch)
        i += 1
    if link_open is not None:
        raise _parse_error(f"Can't find end of a TextUrl entity at byte offset {link_open}")
    if open_marks:
        mark, offset = min(open_marks.items(), key=lambda item: item[1])
        raise _parse_error(f"Can't find end of {_MDV2_ENTITY_NAMES[mark]} entity at byte offset {offset}")
    return "".join(out)


def _parse_markdown(text: str) -> str:
    """Strip legacy Markdown markup (``*bold*``, ``_italic_``, ```code```, ``[text](url)``)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.append(text[i + 1])
            i += 2
            continue
        if ch in "*_`":
            fence = "```" if text.startswith("```", i) else ch
            close = text.find(fence, i + len(fence))
            if close < 0:
                raise _parse_error(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
                )
            out.append(text[i + len(fence) : close])
            i = close + len(fence)
            continue
        if ch == "[":
            close = text.find("]", i + 1)
            if close < 0:
                raise _parse_error(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
                )
            out.append(text[i + 1 : close])
            i = close + 1
            if text.startswith("(", i):
                end = text.find(")", i)
                i = n if end < 0 else end + 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def render_text(text: str, parse_mode: str | None) -> str:
    """Return the text a user would see for ``text`` sent with ``parse_mode`` (or raise _ApiError)."""
    if not parse_mode:
        return text
    mode = parse_mode.lower()
    if mode == "html":
        return _parse_html(text)
    if mode == "markdownv2":
        return _parse_markdown_v2(text)
    if mode == "markdown":
        return _parse_markdown(text)
    raise _bad("unsupported parse_mode")


# --------------------------------------------------------------------------------------------
# Server-side state
# --------------------------------------------------------------------------------------------


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    size: int
    data: bytes | None = None
    file_name: str | None = None
    mime_type: str | None = None
    file_path: str | None = None


@dataclass
class _Topic:
    message_thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False


@dataclass
class _Chat:
    info: dict[str, Any]
    next_message_id: int = 1
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    sent: list[SentMessage] = field(default_factory=list)
    reply_keyboard: dict[str, Any] | None = None
    topics: dict[int, _Topic] = field(default_factory=dict)
    members: dict[int, str] = field(default_factory=dict)
    blocked: bool = False
    chat_instance: str = ""

    @property
    def id(self) -> int:
        return int(self.info["id"])

    @property
    def is_private(self) -> bool:
        return bool(self.info["type"] == "private")

    @property
    def is_forum(self) -> bool:
        return bool(self.info.get("is_forum"))

    def allocate_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


def _unique_id(file_id: str) -> str:
    return "AQAD" + hashlib.sha1(file_id.encode()).hexdigest()[:12]


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


class FakeTelegramServer(LoopbackServer):
    """A Bot API server on 127.0.0.1 that records every call and serves scripted updates."""

    max_body = MAX_UPLOAD + 10 * 1024 * 1024

    def __init__(self, token: str = DEFAULT_TOKEN) -> None:
        """Create the server (call :meth:`start` to listen). ``token`` is the only accepted token."""
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = "tsur_test_bot"
        self.bot_first_name = "ЦУР тест"
        self.calls: list[ApiCall] = []
        self.strict_chats = True
        """When True (default) sending to a chat that no test registered fails with "chat not found"."""
        self.callback_answers: dict[str, dict[str, Any]] = {}
        """``answerCallbackQuery`` params by callback query id."""
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        """``setMyCommands`` lists keyed by (scope type, language code)."""
        self.webhook: dict[str, Any] | None = None
        """Last ``setWebhook`` params while a webhook is set."""
        super().__init__()
        self._chats: dict[int, _Chat] = {}
        self._users: dict[int, FakeUser] = {}
        self._groups: dict[int, FakeChat] = {}
        self._queue: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._delivered_at: dict[int, int] = {}
        self._poll_generation = 0
        self._failures: dict[str, list[_ApiError]] = {}
        self._files: dict[str, _StoredFile] = {}
        self._paths: dict[str, _StoredFile] = {}
        self._callback_queries: dict[str, bool] = {}
        self._counter = itertools.count(1)
        self._signal = Signal()
        self._last_activity = 0.0
        self._webhook_delivery: tuple[str, str | None] | None = None
        self._handlers: dict[str, _Handler] = {
            name.lower(): handler
            for name, handler in {
                "getMe": self._get_me,
                "logOut": self._true,
                "close": self._true,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "getMyCommands": self._get_my_commands,
                "sendMessage": self._send_message,
                "sendPhoto": self._send_photo,
                "sendDocument": self._send_document,
                "sendMediaGroup": self._send_media_group,
                "sendLocation": self._send_location,
                "editMessageText": self._edit_message_text,
                "editMessageCaption": self._edit_message_caption,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "sendChatAction": self._send_chat_action,
                "createForumTopic": self._create_forum_topic,
                "editForumTopic": self._edit_forum_topic,
                "closeForumTopic": self._close_forum_topic,
                "reopenForumTopic": self._reopen_forum_topic,
                "getChat": self._get_chat,
                "getChatMember": self._get_chat_member,
                "getChatAdministrators": self._get_chat_administrators,
                "copyMessage": self._copy_message,
                "forwardMessage": self._forward_message,
                "getFile": self._get_file,
            }.items()
        }

    # ---------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` — pass to ``TelegramAPIServer.from_base``."""
        return self.root_url

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)

    def _wake_waiters(self) -> None:
        self._signal.fire()

    def make_bot(self, token: str | None = None, **kwargs: Any) -> Bot:
        """A real aiogram ``Bot`` whose session points at this server.

        The session is aiogram's ``AiohttpSession`` except that ``close()`` skips the 250 ms
        "let SSL connections close" sleep (there is no SSL on 127.0.0.1); close it with
        ``await bot.session.close()`` (``polling()`` does that on exit).
        """
        from aiogram import Bot

        return Bot(token or self.token, session=self.make_session(), **kwargs)

    def make_session(self) -> AiohttpSession:
        """An aiogram ``AiohttpSession`` pointed at this server (with the fast ``close()``)."""
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer

        class LocalAiohttpSession(AiohttpSession):
            """AiohttpSession without the SSL-shutdown sleep in close()."""

            async def close(self) -> None:
                if self._session is not None and not self._session.closed:
                    await self._session.close()

        return LocalAiohttpSession(api=TelegramAPIServer.from_base(self.base_url))

    @contextlib.asynccontextmanager
    async def polling(
        self, dp: Dispatcher, bot: Bot, *, polling_timeout: int = 1, **kwargs: Any
    ) -> AsyncIterator[asyncio.Task[None]]:
        """Run ``dp.start_polling(bot)`` in a task for the duration of the block, then stop it.

        Enters once the first ``getUpdates`` reached the server. The bot session is closed on exit
        (aiogram's default ``close_bot_session=True``; pass ``close_bot_session=False`` to keep it).
        """
        start = len(self.calls)
        task = asyncio.create_task(
            dp.start_polling(bot, handle_signals=False, polling_timeout=polling_timeout, **kwargs)
        )
        deadline = asyncio.get_running_loop().time() + 5.0
        while not any(c.method == "getUpdates" for c in self.calls[start:]):
            if task.done():
                await task
                raise AssertionError("polling stopped before calling getUpdates")
            if asyncio.get_running_loop().time() > deadline:
                task.cancel()
                raise AssertionError("polling did not call getUpdates within 5 s")
            await self._signal.wait(0.05)
        try:
            yield task
        finally:
            if not task.done():
                try:
                    await dp.stop_polling()
                except RuntimeError:
                    task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # ---------------------------------------------------------------- scripting

    def user(
        self,
        user_id: int,
        first_name: str = "Иван",
        language_code: str = "ru",
        username: str | None = None,
    ) -> FakeUser:
        """A citizen with a private chat (chat id == user id); the same object for the same id."""
        if user_id in self._users:
            return self._users[user_id]
        fake = FakeUser(self, user_id, first_name, language_code, username)
        self._users[user_id] = fake
        info: dict[str, Any] = {"id": user_id, "type": "private", "first_name": first_name}
        if username:
            info["username"] = username
        chat = self._chat_for(info)
        chat.members[user_id] = "member"
        return fake

    def group(self, chat_id: int, title: str, is_forum: bool = True) -> FakeChat:
        """A supergroup (a forum by default) the bot is an administrator of."""
        if chat_id in self._groups:
            return self._groups[chat_id]
        info: dict[str, Any] = {"id": chat_id, "type": "supergroup", "title": title}
        if is_forum:
            info["is_forum"] = True
        chat = self._chat_for(info)
        chat.members[self.bot_id] = "administrator"
        fake = FakeChat(self, chat_id, title, is_forum)
        self._groups[chat_id] = fake
        return fake

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for ``getUpdates`` (its ``update_id`` is assigned here); returns the id."""
        update = dict(update)
        update["update_id"] = self._allocate_update_id()
        self._queue.append(update)
        self._signal.fire()
        return int(update["update_id"])

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail (e.g. 429 with ``retry_after``, 403, 400)."""
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        queue = self._failures.setdefault(method.lower(), [])
        queue.extend(_ApiError(error_code, description, parameters) for _ in range(times))

    def register_file(self, file_id: str, data: bytes = b"", kind: str = "document") -> None:
        """Make ``file_id`` known (as if Telegram stored it), e.g. a sticker id from the bot's config."""
        self._store_file(file_id, kind, len(data) or 1024, data or None)

    def deliver_via_webhook(self, url: str | None, secret: str | None = None) -> None:
        """Send FakeUser/FakeChat updates by POSTing them to ``url`` (the bot's webhook server).

        ``None`` switches back to queueing them for ``getUpdates``.
        """
        self._webhook_delivery = None if url is None else (url, secret)

    async def post_webhook(self, url: str, update: dict[str, Any], secret: str | None) -> int:
        """POST an update to the bot's webhook like Telegram does; returns the HTTP status.

        A method returned in the webhook response body (aiogram's "reply in webhook") is executed
        and recorded like a normal call (``ApiCall.via_webhook_reply``).
        """
        if self._client is None:
            raise RuntimeError("FakeTelegramServer is not started")
        update = dict(update)
        if "update_id" not in update:
            update["update_id"] = self._allocate_update_id()
        self._delivered_at.setdefault(int(update["update_id"]), len(self.calls))
        self._signal.fire()
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        async with self._client.post(url, json=update, headers=headers) as resp:
            if resp.status == 200 and resp.content_type == "multipart/form-data":
                params: dict[str, str] = {}
                files: dict[str, UploadedFile] = {}
                reader = aiohttp.MultipartReader(resp.headers, resp.content)
                while True:
                    part = await reader.next()
                    if part is None:
                        break
                    if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                        continue
                    if part.filename:
                        data = bytes(await part.read())
                        files[part.name] = self._upload(part.name, part.filename, "", data)
                    else:
                        params[part.name] = await part.text()
                method = params.pop("method", "")
                if method:
                    decoded = {k: _decode_form_value(k, v) for k, v in params.items()}
                    await self._execute(method, decoded, files, via_webhook_reply=True)
            else:
                await resp.read()
            return resp.status

    # ---------------------------------------------------------------- inspection

    def calls_of(self, method: str) -> list[ApiCall]:
        """All calls of ``method`` (case-insensitive), in order."""
        return [c for c in self.calls if c.method.lower() == method.lower()]

    async def wait_for(
        self,
        predicate: Callable[[ApiCall], bool],
        timeout: float = 15.0,  # noqa: ASYNC109 - a deadline for the predicate, not for one await
        since: int = 0,
    ) -> ApiCall:
        """The first answered call at index >= ``since`` matching ``predicate`` (waits up to ``timeout``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for call in self.calls[since:]:
                if call.done and predicate(call):
                    return call
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = ", ".join(f"{c.method}({c.ok})" for c in self.calls[since:][-15:])
                raise AssertionError(
                    f"no matching API call within {timeout} s; calls since {since}: {recent}"
                )
            await self._signal.wait(remaining)

    def sent_to(self, chat_id: int) -> list[SentMessage]:
        """Messages the bot sent in that chat (latest content, deleted ones flagged), in order."""
        chat = self._chats.get(chat_id)
        return list(chat.sent) if chat else []

    def unanswered_callbacks(self) -> list[str]:
        """Ids of pushed callback queries the bot never answered (the client spinner keeps spinning)."""
        return [qid for qid, answered in self._callback_queries.items() if not answered]

    def pending_updates(self) -> int:
        """How many updates wait in the queue (not confirmed by ``offset`` yet)."""
        return len(self._queue)

    # ---------------------------------------------------------------- internals: HTTP

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params: dict[str, Any] = {k: _decode_form_value(k, v) for k, v in request.query.items()}
        files: dict[str, UploadedFile] = {}
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    params.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        data = value.file.read()
                        files[key] = self._upload(key, value.filename, value.content_type, data)
                    else:
                        params[key] = _decode_form_value(key, str(value))
        status, body = await self._execute(method, params, files)
        return web.json_response(body, status=status)

    async def _handle_file(self, request: web.Request) -> web.Response:
        stored = self._paths.get(request.match_info["path"])
        if request.match_info["token"] != self.token or stored is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.Response(
            body=self._file_bytes(stored), content_type=stored.mime_type or "application/octet-stream"
        )

    async def _execute(
        self,
        method: str,
        params: dict[str, Any],
        files: dict[str, UploadedFile],
        via_webhook_reply: bool = False,
    ) -> tuple[int, dict[str, Any]]:
        call = ApiCall(
            method=method,
            params=params,
            files=files,
            index=len(self.calls),
            via_webhook_reply=via_webhook_reply,
            at=time.time(),
        )
        self.calls.append(call)
        self._touch(call)
        status = 200
        body: dict[str, Any]
        try:
            failures = self._failures.get(method.lower())
            if failures:
                raise failures.pop(0)
            handler = self._handlers.get(method.lower())
            if handler is None:
                raise _ApiError(404, "Not Found: method not found")
            result = await handler(call)
        except _ApiError as error:
            call.ok, call.error_code, call.description = False, error.code, error.description
            body = {"ok": False, "error_code": error.code, "description": error.description}
            if error.parameters:
                body["parameters"] = error.parameters
            status = error.code
        except Exception as exc:  # a bug in the fake itself: make it loud but keep the Bot API shape
            call.ok, call.error_code, call.description = False, 500, f"Internal Server Error: {exc!r}"
            body = {"ok": False, "error_code": 500, "description": call.description}
            status = 500
        else:
            call.ok, call.result = True, result
            body = {"ok": True, "result": result}
        finally:
            if call.ok is None:  # cancelled (client went away) or crashed
                call.ok, call.description = False, "request was not answered"
            self._touch(call)
        return status, body

    def _touch(self, call: ApiCall) -> None:
        if call.method.lower() != "getupdates":
            self._last_activity = asyncio.get_running_loop().time()
        self._signal.fire()

    def _allocate_update_id(self) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        return update_id

    async def _deliver(self, update: dict[str, Any]) -> int:
        if self._webhook_delivery is None:
            return self.push_update(update)
        update = dict(update)
        update["update_id"] = self._allocate_update_id()
        url, secret = self._webhook_delivery
        await self.post_webhook(url, update, secret)
        return int(update["update_id"])

    # ---------------------------------------------------------------- internals: state helpers

    def _chat_for(self, info: dict[str, Any]) -> _Chat:
        chat_id = int(info["id"])
        if chat_id not in self._chats:
            instance = str(int(hashlib.sha1(f"{self.bot_id}:{chat_id}".encode()).hexdigest()[:15], 16))
            self._chats[chat_id] = _Chat(info=info, chat_instance=instance)
        return self._chats[chat_id]

    @property
    def bot_user(self) -> dict[str, Any]:
        """The bot as a Telegram ``User`` object."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._counter):06d}FakeFileId"

    def _upload(self, key: str, filename: str, content_type: str, data: bytes) -> UploadedFile:
        return UploadedFile(
            name=key,
            filename=filename,
            content_type=content_type,
            size=len(data),
            data=data,
            file_id=self._new_id("BQACAgIAAxkB"),
        )

    def _store_file(
        self,
        file_id: str,
        kind: str,
        size: int,
        data: bytes | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> _StoredFile:
        stored = _StoredFile(file_id, _unique_id(file_id), kind, size, data, file_name, mime_type)
        self._files[file_id] = stored
        return stored

    def _file_bytes(self, stored: _StoredFile) -> bytes:
        if stored.data is not None:
            return stored.data
        header = _FAKE_JPEG_HEADER if stored.kind == "photo" else b"FAKE"
        return (header + b"\x00" * max(stored.size - len(header), 0))[: max(stored.size, len(header))]

    def _photo_sizes(self, file_id: str, size: int, data: bytes | None = None) -> list[dict[str, Any]]:
        sizes = []
        for suffix, width, height, part in (("-s", 90, 67, 60), ("-m", 320, 240, 12), ("", 1280, 960, 1)):
            fid = f"{file_id}{suffix}"
            fsize = max(size // part, 1)
            if fid not in self._files:
                self._store_file(fid, "photo", fsize, data if not suffix else None, mime_type="image/jpeg")
            sizes.append(
                {
                    "file_id": fid,
                    "file_unique_id": _unique_id(fid),
                    "width": width,
                    "height": height,
                    "file_size": self._files[fid].size,
                }
            )
        return sizes

    def _resolve_chat(self, chat_id: Any, *, for_send: bool = True) -> _Chat:
        if chat_id is None or chat_id == "":
            raise _bad("chat_id is empty")
        chat: _Chat | None = None
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            chat = next((c for c in self._chats.values() if c.info.get("username") == chat_id[1:]), None)
        else:
            try:
                chat = self._chats.get(_as_int(chat_id, "chat_id"))
            except _ApiError:
                chat = None
            if chat is None and not self.strict_chats and isinstance(chat_id, int) and chat_id > 0:
                chat = self.user(chat_id)._chat
        if chat is None:
            raise _bad("chat not found")
        if for_send and chat.blocked:
            if chat.is_private:
                raise _ApiError(403, "Forbidden: bot was blocked by the user")
            raise _ApiError(403, "Forbidden: bot was kicked from the supergroup chat")
        return chat

    def _resolve_thread(self, chat: _Chat, value: Any) -> int | None:
        thread_id = _opt_int(value, "message_thread_id")
        if thread_id is None or not chat.is_forum:
            return None
        topic = chat.topics.get(thread_id)
        if topic is None:
            raise _bad("message thread not found")
        if topic.closed:
            raise _bad("TOPIC_CLOSED")
        return thread_id

    def _resolve_reply(self, chat: _Chat, params: dict[str, Any]) -> dict[str, Any] | None:
        reply = params.get("reply_parameters")
        message_id: int | None = None
        allow_missing = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply, dict):
            message_id = _opt_int(reply.get("message_id"), "message_id")
            allow_missing = bool(reply.get("allow_sending_without_reply", allow_missing))
            if reply.get("chat_id") not in (None, chat.id):
                chat = self._resolve_chat(reply["chat_id"], for_send=False)
        elif params.get("reply_to_message_id") is not None:
            message_id = _as_int(params["reply_to_message_id"], "reply_to_message_id")
        if message_id is None:
            return None
        target = chat.messages.get(message_id)
        if target is None:
            if allow_missing:
                return None
            raise _bad("message to be replied not found")
        return {k: v for k, v in target.items() if k != "reply_to_message"}

    def _validate_markup(
        self, markup: Any, chat: _Chat, *, inline_only: bool = False
    ) -> dict[str, Any] | None:
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
                    and not chat.is_private
                    and (button.get("request_contact") or button.get("request_location"))
                ):
                    raise _bad(
                        "keyboard buttons requesting contact or location can be used in private chats only"
                    )
            return markup
        if markup.get("remove_keyboard") or markup.get("force_reply"):
            return markup
        raise _bad('can\'t find field "inline_keyboard"')

    def _check_text(self, params: dict[str, Any]) -> str:
        text = params.get("text")
        if text is None or not str(text).strip():
            raise _bad("message text is empty")
        visible = render_text(str(text), params.get("parse_mode")).strip()
        if not visible:
            raise _bad("message text is empty")
        if len(visible) > MAX_TEXT_LENGTH:
            raise _bad("message is too long")
        return visible

    def _check_caption(self, caption: Any, parse_mode: Any) -> str | None:
        if caption is None or caption == "":
            return None
        visible = render_text(str(caption), parse_mode).strip()
        if len(visible) > MAX_CAPTION_LENGTH:
            raise _bad("message caption is too long")
        return visible or None

    def _resolve_file(self, call: ApiCall, value: Any, kind: str) -> _StoredFile:
        if isinstance(value, str) and value.startswith("attach://"):
            upload = call.files.get(value[len("attach://") :])
            if upload is None:
                raise _bad("wrong file identifier/HTTP URL specified")
            if upload.size == 0:
                raise _bad("file must be non-empty")
            limit = MAX_PHOTO_UPLOAD if kind == "photo" else MAX_UPLOAD
            if upload.size > limit:
                raise _ApiError(413, "Request Entity Too Large")
            return self._store_file(
                upload.file_id, kind, upload.size, upload.data, upload.filename, upload.content_type or None
            )
        if isinstance(value, str) and re.match(r"^https?://", value):
            return self._store_file(
                self._new_id("BQACAgIAAxkB"), kind, 50_000, None, value.rsplit("/", 1)[-1]
            )
        if isinstance(value, str) and value in self._files:
            stored = self._files[value]
            if stored.kind != kind:
                raise _bad(f"can't use file of type {stored.kind.capitalize()} as {kind.capitalize()}")
            return stored
        raise _bad("wrong file identifier/HTTP URL specified")

    def _media_content(self, kind: str, stored: _StoredFile) -> dict[str, Any]:
        if kind == "photo":
            return {"photo": self._photo_sizes(stored.file_id, stored.size, stored.data)}
        obj: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
        }
        if kind in ("document", "video", "audio", "animation"):
            obj["file_name"] = stored.file_name or f"{kind}.bin"
            obj["mime_type"] = stored.mime_type or "application/octet-stream"
        if kind in ("video", "animation"):
            obj.update(width=640, height=480, duration=5)
        if kind in ("audio", "voice"):
            obj["duration"] = 5
        return {kind: obj}

    def _compose(
        self,
        chat: _Chat,
        sender: dict[str, Any],
        content: dict[str, Any],
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": chat.allocate_message_id(),
            "from": sender,
            "chat": dict(chat.info),
            "date": int(time.time()),
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        message.update(content)
        chat.messages[message["message_id"]] = message
        return message

    def _bot_message(
        self,
        call: ApiCall,
        chat: _Chat,
        content: dict[str, Any],
        *,
        thread_id: int | None,
        markup: dict[str, Any] | None,
        reply_to: dict[str, Any] | None = None,
        text: str | None = None,
        sent_text: str | None = None,
    ) -> dict[str, Any]:
        if reply_to is not None:
            content = {**content, "reply_to_message": reply_to}
        if markup is not None and "inline_keyboard" in markup:
            content = {**content, "reply_markup": markup}
        message = self._compose(chat, self.bot_user, content, thread_id)
        photos = [message["photo"][-1]["file_id"]] if "photo" in message else []
        chat.sent.append(
            SentMessage(
                message_id=message["message_id"],
                chat_id=chat.id,
                method=call.method,
                text=text,
                reply_markup=markup,
                photos=photos,
                message_thread_id=thread_id,
                sent_text=sent_text,
                parse_mode=call.params.get("parse_mode"),
                document=message.get("document"),
                location=message.get("location"),
                media_group_id=message.get("media_group_id"),
                raw=message,
                call_index=call.index,
                touched_at=call.index,
            )
        )
        if markup is not None:
            if "keyboard" in markup:
                chat.reply_keyboard = markup
            elif markup.get("remove_keyboard"):
                chat.reply_keyboard = None
        return message

    def _find_sent(self, chat: _Chat, message_id: int) -> SentMessage | None:
        return next((m for m in chat.sent if m.message_id == message_id and not m.deleted), None)

    def _editable(self, call: ApiCall) -> tuple[_Chat, SentMessage]:
        params = call.params
        if params.get("inline_message_id"):
            raise _bad("MESSAGE_ID_INVALID")
        chat = self._resolve_chat(params.get("chat_id"))
        message_id = _opt_int(params.get("message_id"), "message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        sent = self._find_sent(chat, message_id)
        if sent is None:
            if message_id in chat.messages:
                raise _bad("message can't be edited")
            raise _bad("message to edit not found")
        return chat, sent

    def _apply_edit(
        self,
        call: ApiCall,
        sent: SentMessage,
        *,
        text: str | None,
        sent_text: str | None,
        markup: dict[str, Any] | None,
        text_key: str,
    ) -> dict[str, Any]:
        if (text, sent_text, markup) == (sent.text, sent.sent_text, sent.reply_markup):
            raise _bad(
                "message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message"
            )
        sent.history.append({"text": sent.text, "reply_markup": sent.reply_markup})
        sent.edits.append(sent.text)
        sent.text, sent.sent_text, sent.reply_markup = text, sent_text, markup
        sent.parse_mode = call.params.get("parse_mode")
        sent.touched_at = call.index
        raw = {k: v for k, v in sent.raw.items() if k not in ("reply_markup", text_key)}
        if text is not None:
            raw[text_key] = text
        if markup is not None:
            raw["reply_markup"] = markup
        raw["edit_date"] = int(time.time())
        sent.raw = raw
        self._chats[sent.chat_id].messages[sent.message_id] = raw
        return raw

    async def _push_callback(
        self, chat: _Chat, sender: dict[str, Any], message: dict[str, Any], data: str
    ) -> int:
        query_id = str(4_000_000_000_000_000_000 + next(self._counter))
        self._callback_queries[query_id] = False
        return await self._deliver(
            {
                "callback_query": {
                    "id": query_id,
                    "from": sender,
                    "message": message,
                    "chat_instance": chat.chat_instance,
                    "data": data,
                }
            }
        )

    def _find_button(
        self, chat: _Chat, text: str, contains: bool, thread_id: int | None = None
    ) -> tuple[SentMessage, dict[str, Any]]:
        visible: list[str] = []
        for sent in reversed(chat.sent):
            if sent.deleted or (thread_id is not None and sent.message_thread_id != thread_id):
                continue
            buttons = _inline_buttons(sent.reply_markup)
            if buttons:
                visible.append(f"#{sent.message_id}: {[b.get('text') for b in buttons]}")
            for button in buttons:
                label = str(button.get("text", ""))
                if label == text or (contains and text in label):
                    if "callback_data" not in button:
                        raise AssertionError(f"button {label!r} has no callback_data: {button}")
                    return sent, button
        shown = "; ".join(visible) or "none"
        raise AssertionError(f"no inline button {text!r} in chat {chat.id}; visible buttons: {shown}")

    async def _replies(
        self, chat_id: int, update_id: int | None, wait_seconds: float, settle: float
    ) -> list[SentMessage]:
        if update_id is None:
            raise AssertionError("nothing was sent yet, there is nothing to wait replies for")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        while update_id not in self._delivered_at:
            if loop.time() >= deadline:
                raise AssertionError(f"update {update_id} was never fetched by the bot (is polling running?)")
            await self._signal.wait(deadline - loop.time())
        start = self._delivered_at[update_id]

        def answered() -> bool:
            return any(c.method.lower() != "getupdates" for c in self.calls[start:])

        while not answered() and loop.time() < deadline:
            await self._signal.wait(deadline - loop.time())
        if answered():
            while loop.time() < deadline:
                in_flight = any(not c.done and c.method.lower() != "getupdates" for c in self.calls[start:])
                quiet = loop.time() - self._last_activity
                if quiet >= settle and not in_flight:
                    break
                await asyncio.sleep(max(settle - quiet, 0.01))
        chat = self._chats.get(chat_id)
        if chat is None:
            return []
        return sorted((m for m in chat.sent if m.touched_at >= start), key=lambda m: m.message_id)

    # ---------------------------------------------------------------- API methods

    async def _true(self, call: ApiCall) -> Any:
        return True

    async def _get_me(self, call: ApiCall) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, call: ApiCall) -> Any:
        if self.webhook is not None:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete it first",
            )
        params = call.params
        offset = _as_int(params.get("offset") or 0, "offset")
        limit = min(max(_as_int(params.get("limit") or 100, "limit"), 1), 100)
        timeout = float(params.get("timeout") or 0)
        self._poll_generation += 1
        generation = self._poll_generation
        self._signal.fire()
        if offset > 0:
            self._queue = [u for u in self._queue if u["update_id"] >= offset]
        elif offset < 0:
            self._queue = self._queue[offset:]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise _ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            batch = self._queue[:limit]
            if batch or self._closing or loop.time() >= deadline:
                for update in batch:
                    self._delivered_at.setdefault(update["update_id"], len(self.calls))
                if batch:
                    self._signal.fire()
                return batch
            await self._signal.wait(deadline - loop.time())

    async def _set_webhook(self, call: ApiCall) -> Any:
        params = call.params
        url = str(params.get("url") or "")
        if not url:
            self.webhook = None
            return True
        if not url.startswith("https://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _bad("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._queue.clear()
        self.webhook = dict(params)
        return True

    async def _delete_webhook(self, call: ApiCall) -> Any:
        if call.params.get("drop_pending_updates"):
            self._queue.clear()
        self.webhook = None
        return True

    async def _get_webhook_info(self, call: ApiCall) -> Any:
        info: dict[str, Any] = {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }
        if self.webhook:
            info["max_connections"] = self.webhook.get("max_connections", 40)
            if self.webhook.get("allowed_updates"):
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope")
        scope_type = str(scope.get("type", "default")) if isinstance(scope, dict) else "default"
        return scope_type, str(params.get("language_code") or "")

    async def _set_my_commands(self, call: ApiCall) -> Any:
        commands = call.params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("commands must be an array of at most 100 BotCommand")
        for command in commands:
            if not isinstance(command, dict) or not re.fullmatch(
                r"[a-z0-9_]{1,32}", str(command.get("command"))
            ):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(call.params)] = commands
        return True

    async def _delete_my_commands(self, call: ApiCall) -> Any:
        self.commands.pop(self._commands_key(call.params), None)
        return True

    async def _get_my_commands(self, call: ApiCall) -> Any:
        return self.commands.get(self._commands_key(call.params), [])

    async def _send_message(self, call: ApiCall) -> Any:
        params = call.params
        chat = self._resolve_chat(params.get("chat_id"))
        thread_id = self._resolve_thread(chat, params.get("message_thread_id"))
        markup = self._validate_markup(params.get("reply_markup"), chat)
        visible = self._check_text(params)
        reply_to = self._resolve_reply(chat, params)
        return self._bot_message(
            call,
            chat,
            {"text": visible},
            thread_id=thread_id,
            markup=markup,
            reply_to=reply_to,
            text=visible,
            sent_text=str(params["text"]),
        )

    async def _send_file_message(self, call: ApiCall, kind: str) -> Any:
        params = call.params
        chat = self._resolve_chat(params.get("chat_id"))
        thread_id = self._resolve_thread(chat, params.get("message_thread_id"))
        markup = self._validate_markup(params.get("reply_markup"), chat)
        caption = self._check_caption(params.get("caption"), params.get("parse_mode"))
        if params.get(kind) is None:
            raise _bad(f"there is no {kind} in the request")
        stored = self._resolve_file(call, params[kind], kind)
        reply_to = self._resolve_reply(chat, params)
        content = self._media_content(kind, stored)
        if caption is not None:
            content["caption"] = caption
        return self._bot_message(
            call,
            chat,
            content,
            thread_id=thread_id,
            markup=markup,
            reply_to=reply_to,
            text=caption,
            sent_text=params.get("caption"),
        )

    async def _send_photo(self, call: ApiCall) -> Any:
        return await self._send_file_message(call, "photo")

    async def _send_document(self, call: ApiCall) -> Any:
        return await self._send_file_message(call, "document")

    async def _send_media_group(self, call: ApiCall) -> Any:
        params = call.params
        chat = self._resolve_chat(params.get("chat_id"))
        thread_id = self._resolve_thread(chat, params.get("message_thread_id"))
        media = params.get("media")
        if not isinstance(media, list) or len(media) < 2:
            raise _bad("too few media in the album: a media group must contain 2-10 items")
        if len(media) > 10:
            raise _bad("too many messages to send as an album")
        kinds = {str(item.get("type")) for item in media if isinstance(item, dict)}
        for exclusive in ("document", "audio"):
            if exclusive in kinds and len(kinds) > 1:
                raise _bad(f"{exclusive} can't be mixed with other media types")
        prepared = []
        for item in media:
            if not isinstance(item, dict) or item.get("type") not in ("photo", "video", "document", "audio"):
                raise _bad("wrong type of the media specified")
            kind = str(item["type"])
            caption = self._check_caption(item.get("caption"), item.get("parse_mode"))
            prepared.append((kind, self._resolve_file(call, item.get("media"), kind), caption, item))
        reply_to = self._resolve_reply(chat, params)
        group_id = str(13_000_000_000_000_000 + next(self._counter))
        results = []
        for kind, stored, caption, item in prepared:
            content = {**self._media_content(kind, stored), "media_group_id": group_id}
            if caption is not None:
                content["caption"] = caption
            results.append(
                self._bot_message(
                    call,
                    chat,
                    content,
                    thread_id=thread_id,
                    markup=None,
                    reply_to=reply_to,
                    text=caption,
                    sent_text=item.get("caption"),
                )
            )
        return results

    async def _send_location(self, call: ApiCall) -> Any:
        params = call.params
        chat = self._resolve_chat(params.get("chat_id"))
        thread_id = self._resolve_thread(chat, params.get("message_thread_id"))
        markup = self._validate_markup(params.get("reply_markup"), chat)
        try:
            lat, lon = float(params["latitude"]), float(params["longitude"])
        except (KeyError, TypeError, ValueError) as exc:
            raise _bad("wrong latitude or longitude specified") from exc
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise _bad("wrong latitude or longitude specified")
        reply_to = self._resolve_reply(chat, params)
        return self._bot_message(
            call,
            chat,
            {"location": {"latitude": lat, "longitude": lon}},
            thread_id=thread_id,
            markup=markup,
            reply_to=reply_to,
        )

    async def _edit_message_text(self, call: ApiCall) -> Any:
        chat, sent = self._editable(call)
        if "text" not in sent.raw:
            raise _bad("there is no text in the message to edit")
        markup = self._validate_markup(call.params.get("reply_markup"), chat, inline_only=True)
        visible = self._check_text(call.params)
        return self._apply_edit(
            call, sent, text=visible, sent_text=str(call.params["text"]), markup=markup, text_key="text"
        )

    async def _edit_message_caption(self, call: ApiCall) -> Any:
        chat, sent = self._editable(call)
        if not any(k in sent.raw for k in ("photo", "document", "video", "audio", "animation", "voice")):
            raise _bad("there is no caption in the message to edit")
        markup = self._validate_markup(call.params.get("reply_markup"), chat, inline_only=True)
        caption = self._check_caption(call.params.get("caption"), call.params.get("parse_mode"))
        return self._apply_edit(
            call, sent, text=caption, sent_text=call.params.get("caption"), markup=markup, text_key="caption"
        )

    async def _edit_message_reply_markup(self, call: ApiCall) -> Any:
        chat, sent = self._editable(call)
        markup = self._validate_markup(call.params.get("reply_markup"), chat, inline_only=True)
        text_key = "text" if "text" in sent.raw else "caption"
        return self._apply_edit(
            call, sent, text=sent.text, sent_text=sent.sent_text, markup=markup, text_key=text_key
        )

    async def _delete_message(self, call: ApiCall) -> Any:
        chat = self._resolve_chat(call.params.get("chat_id"), for_send=False)
        message_id = _as_int(call.params.get("message_id"), "message_id")
        if message_id not in chat.messages:
            raise _bad("message to delete not found")
        foreign = chat.messages[message_id].get("from", {}).get("id") != self.bot_id
        if (
            foreign
            and not chat.is_private
            and chat.members.get(self.bot_id) not in ("administrator", "creator")
        ):
            raise _bad("message can't be deleted")
        del chat.messages[message_id]
        for sent in chat.sent:
            if sent.message_id == message_id:
                sent.deleted = True
                sent.touched_at = call.index
        return True

    async def _answer_callback_query(self, call: ApiCall) -> Any:
        query_id = str(call.params.get("callback_query_id", ""))
        if self._callback_queries.get(query_id, True):
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        if len(str(call.params.get("text") or "")) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad("MESSAGE_TOO_LONG")
        self._callback_queries[query_id] = True
        self.callback_answers[query_id] = dict(call.params)
        return True

    async def _send_chat_action(self, call: ApiCall) -> Any:
        chat = self._resolve_chat(call.params.get("chat_id"))
        self._resolve_thread(chat, call.params.get("message_thread_id"))
        if call.params.get("action") not in CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    def _forum(self, call: ApiCall) -> _Chat:
        chat = self._resolve_chat(call.params.get("chat_id"))
        if not chat.is_forum:
            raise _bad("the chat is not a forum")
        return chat

    def _topic(self, call: ApiCall) -> tuple[_Chat, _Topic]:
        chat = self._forum(call)
        topic = chat.topics.get(_as_int(call.params.get("message_thread_id"), "message_thread_id"))
        if topic is None:
            raise _bad("message thread not found")
        return chat, topic

    async def _create_forum_topic(self, call: ApiCall) -> Any:
        chat = self._forum(call)
        name = str(call.params.get("name") or "")
        if not 1 <= len(name) <= 128:
            raise _bad("TOPIC_NAME_INVALID")
        color = _as_int(call.params.get("icon_color") or TOPIC_ICON_COLORS[0], "icon_color")
        if color not in TOPIC_ICON_COLORS:
            raise _bad("TOPIC_ICON_COLOR_INVALID")
        created = {"forum_topic_created": {"name": name, "icon_color": color}}
        service = self._compose(chat, self.bot_user, created)
        thread_id = int(service["message_id"])
        service["message_thread_id"] = thread_id
        service["is_topic_message"] = True
        topic = _Topic(thread_id, name, color, call.params.get("icon_custom_emoji_id"))
        chat.topics[thread_id] = topic
        result: dict[str, Any] = {"message_thread_id": thread_id, "name": name, "icon_color": color}
        if topic.icon_custom_emoji_id:
            result["icon_custom_emoji_id"] = topic.icon_custom_emoji_id
        return result

    async def _edit_forum_topic(self, call: ApiCall) -> Any:
        _, topic = self._topic(call)
        name = call.params.get("name")
        emoji = call.params.get("icon_custom_emoji_id")
        if name is not None and not 1 <= len(str(name)) <= 128:
            raise _bad("TOPIC_NAME_INVALID")
        if (name is None or name == topic.name) and (emoji is None or emoji == topic.icon_custom_emoji_id):
            raise _bad("TOPIC_NOT_MODIFIED")
        if name is not None:
            topic.name = str(name)
        if emoji is not None:
            topic.icon_custom_emoji_id = str(emoji)
        return True

    async def _close_forum_topic(self, call: ApiCall) -> Any:
        _, topic = self._topic(call)
        if topic.closed:
            raise _bad("TOPIC_NOT_MODIFIED")
        topic.closed = True
        return True

    async def _reopen_forum_topic(self, call: ApiCall) -> Any:
        _, topic = self._topic(call)
        if not topic.closed:
            raise _bad("TOPIC_NOT_MODIFIED")
        topic.closed = False
        return True

    async def _get_chat(self, call: ApiCall) -> Any:
        chat = self._resolve_chat(call.params.get("chat_id"), for_send=False)
        return {
            **chat.info,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _user_dict(self, user_id: int) -> dict[str, Any]:
        if user_id == self.bot_id:
            return self.bot_user
        if user_id not in self._users:
            raise _bad("user not found")
        return self._users[user_id].as_dict()

    def _member(self, chat: _Chat, user_id: int) -> dict[str, Any]:
        user = self._user_dict(user_id)
        status = chat.members.get(user_id, "left")
        if status == "creator":
            return {"status": "creator", "user": user, "is_anonymous": False}
        if status == "administrator":
            flags = [
                "can_manage_chat",
                "can_delete_messages",
                "can_manage_video_chats",
                "can_restrict_members",
                "can_change_info",
                "can_invite_users",
                "can_post_stories",
                "can_edit_stories",
                "can_delete_stories",
                "can_pin_messages",
                "can_manage_topics",
            ]
            member: dict[str, Any] = {"status": "administrator", "user": user, "is_anonymous": False}
            member.update(dict.fromkeys(flags, True))
            member.update(can_be_edited=False, can_promote_members=False, can_send_welcome_messages=False)
            return member
        if status == "kicked":
            return {"status": "kicked", "user": user, "until_date": 0}
        return {"status": status, "user": user}

    async def _get_chat_member(self, call: ApiCall) -> Any:
        chat = self._resolve_chat(call.params.get("chat_id"), for_send=False)
        return self._member(chat, _as_int(call.params.get("user_id"), "user_id"))

    async def _get_chat_administrators(self, call: ApiCall) -> Any:
        chat = self._resolve_chat(call.params.get("chat_id"), for_send=False)
        if chat.is_private:
            raise _bad("there are no administrators in the private chat")
        return [
            self._member(chat, uid) for uid, st in chat.members.items() if st in ("creator", "administrator")
        ]

    def _source_message(self, call: ApiCall, what: str) -> dict[str, Any]:
        source_chat = self._resolve_chat(call.params.get("from_chat_id"), for_send=False)
        source = source_chat.messages.get(_as_int(call.params.get("message_id"), "message_id"))
        if source is None or "forum_topic_created" in source:
            raise _bad(f"message to {what} not found")
        return source

    _CONTENT_KEYS = (
        "text",
        "caption",
        "photo",
        "document",
        "video",
        "audio",
        "voice",
        "sticker",
        "location",
        "contact",
    )

    async def _copy_message(self, call: ApiCall) -> Any:
        params = call.params
        source = self._source_message(call, "copy")
        chat = self._resolve_chat(params.get("chat_id"))
        thread_id = self._resolve_thread(chat, params.get("message_thread_id"))
        markup = self._validate_markup(params.get("reply_markup"), chat)
        content = {k: source[k] for k in self._CONTENT_KEYS if k in source}
        if "caption" in params:
            caption = self._check_caption(params.get("caption"), params.get("parse_mode"))
            content.pop("caption", None)
            if caption is not None:
                content["caption"] = caption
        text = content.get("text", content.get("caption"))
        message = self._bot_message(
            call,
            chat,
            content,
            thread_id=thread_id,
            markup=markup,
            reply_to=self._resolve_reply(chat, params),
            text=text,
            sent_text=text,
        )
        return {"message_id": message["message_id"]}

    async def _forward_message(self, call: ApiCall) -> Any:
        params = call.params
        source = self._source_message(call, "forward")
        chat = self._resolve_chat(params.get("chat_id"))
        thread_id = self._resolve_thread(chat, params.get("message_thread_id"))
        content = {k: source[k] for k in self._CONTENT_KEYS if k in source}
        content["forward_origin"] = {"type": "user", "sender_user": source["from"], "date": source["date"]}
        text = content.get("text", content.get("caption"))
        return self._bot_message(
            call, chat, content, thread_id=thread_id, markup=None, text=text, sent_text=text
        )

    async def _get_file(self, call: ApiCall) -> Any:
        stored = self._files.get(str(call.params.get("file_id", "")))
        if stored is None:
            raise _bad("invalid file_id")
        if stored.size > MAX_DOWNLOAD:
            raise _bad("file is too big")
        if stored.file_path is None:
            folder, ext = {
                "photo": ("photos", "jpg"),
                "voice": ("voice", "oga"),
                "sticker": ("stickers", "webp"),
                "video": ("videos", "mp4"),
            }.get(stored.kind, ("documents", "bin"))
            stored.file_path = f"{folder}/file_{next(self._counter)}.{ext}"
            self._paths[stored.file_path] = stored
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }


# --------------------------------------------------------------------------------------------
# Scripted people and chats
# --------------------------------------------------------------------------------------------


# The placeholder sender Telegram puts in `from` of a message an anonymous group admin sends.
GROUP_ANONYMOUS_BOT: dict[str, Any] = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}


class FakeUser:
    """A scripted citizen talking to the bot in a private chat (chat id == user id)."""

    def __init__(
        self,
        server: FakeTelegramServer,
        user_id: int,
        first_name: str,
        language_code: str,
        username: str | None = None,
    ) -> None:
        """Use :meth:`FakeTelegramServer.user` instead of calling this directly."""
        self.server = server
        self.id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self.username = username
        self.last_update_id: int | None = None
        self._photo_counter = itertools.count(1)

    @property
    def _chat(self) -> _Chat:
        return self.server._chats[self.id]

    @property
    def chat_id(self) -> int:
        """The private chat id (equals the user id)."""
        return self.id

    def as_dict(self) -> dict[str, Any]:
        """This user as a Telegram ``User`` object."""
        user: dict[str, Any] = {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }
        if self.username:
            user["username"] = self.username
        return user

    def block(self, blocked: bool = True) -> None:
        """Block (or unblock) the bot: sends to this chat fail with 403 "bot was blocked by the user"."""
        self._chat.blocked = blocked

    async def _send(self, content: dict[str, Any]) -> int:
        message = self.server._compose(self._chat, self.as_dict(), content)
        self.last_update_id = await self.server._deliver({"message": message})
        return self.last_update_id

    async def send_text(self, text: str) -> int:
        """Send a text message (a leading /command gets a bot_command entity); returns the update id."""
        content: dict[str, Any] = {"text": text}
        command = re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
        if command:
            length = len(command.group(0).encode("utf-16-le")) // 2
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return await self._send(content)

    async def send_command(self, command: str) -> int:
        """Send ``/command`` (the leading slash is optional; arguments may follow after a space)."""
        return await self.send_text(command if command.startswith("/") else f"/{command}")

    async def send_photo(
        self,
        file_id: str | None = None,
        caption: str | None = None,
        media_group_id: str | None = None,
    ) -> int:
        """Send a photo (3 PhotoSizes, the largest has ``file_id``); returns the update id."""
        file_id = file_id or f"AgACAgIAAxkBUser{self.id}Photo{next(self._photo_counter):04d}"
        content: dict[str, Any] = {"photo": self.server._photo_sizes(file_id, 154_321)}
        if caption is not None:
            content["caption"] = caption
        if media_group_id is not None:
            content["media_group_id"] = media_group_id
        return await self._send(content)

    async def send_album(self, count: int) -> list[int]:
        """Send ``count`` photos sharing one ``media_group_id``, back to back; returns their update ids."""
        group_id = str(14_000_000_000_000_000 + next(self.server._counter))
        return [await self.send_photo(media_group_id=group_id) for _ in range(count)]

    async def send_location(self, lat: float, lon: float) -> int:
        """Send a location."""
        return await self._send({"location": {"latitude": lat, "longitude": lon}})

    async def send_contact(self, phone: str, own: bool = True) -> int:
        """Send a contact; ``own`` → the user's own contact (``contact.user_id`` == user id)."""
        contact: dict[str, Any] = {"phone_number": phone, "first_name": self.first_name if own else "Пётр"}
        if own:
            contact["user_id"] = self.id
        return await self._send({"contact": contact})

    async def send_sticker(self) -> int:
        """Send a sticker."""
        file_id = f"CAACAgIAAxkBSticker{next(self._photo_counter):04d}"
        self.server._store_file(file_id, "sticker", 23_456, mime_type="image/webp")
        sticker = {
            "file_id": file_id,
            "file_unique_id": _unique_id(file_id),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
            "file_size": 23_456,
        }
        return await self._send({"sticker": sticker})

    async def send_voice(self) -> int:
        """Send a voice message."""
        file_id = f"AwACAgIAAxkBVoice{next(self._photo_counter):04d}"
        self.server._store_file(file_id, "voice", 12_345, mime_type="audio/ogg")
        voice = {
            "file_id": file_id,
            "file_unique_id": _unique_id(file_id),
            "duration": 3,
            "mime_type": "audio/ogg",
            "file_size": 12_345,
        }
        return await self._send({"voice": voice})

    async def press(self, button_text: str, *, contains: bool = False) -> int:
        """Press the inline button with this text on the newest bot message that has it."""
        sent, button = self.server._find_button(self._chat, button_text, contains)
        self.last_update_id = await self.server._push_callback(
            self._chat, self.as_dict(), sent.raw, str(button["callback_data"])
        )
        return self.last_update_id

    async def press_data(self, data: str, message_id: int | None = None) -> int:
        """Send a raw (possibly forged) callback query with ``data``.

        ``message_id`` None → the newest bot message; an unknown id → an InaccessibleMessage.
        """
        chat = self._chat
        message: dict[str, Any] | None
        if message_id is None:
            alive = [m for m in chat.sent if not m.deleted]
            message = alive[-1].raw if alive else None
        else:
            message = chat.messages.get(message_id)
        if message is None:
            message = {"chat": dict(chat.info), "message_id": message_id or 1, "date": 0}
        self.last_update_id = await self.server._push_callback(chat, self.as_dict(), message, data)
        return self.last_update_id

    async def tap_reply_button(self, text: str, **kwargs: Any) -> int:
        """Tap a button of the reply keyboard currently shown.

        Sends its text, or a location (``lat``/``lon`` kwargs) / own contact (``phone`` kwarg) for
        ``request_location`` / ``request_contact`` buttons.
        """
        buttons = _reply_keyboard_buttons(self._chat.reply_keyboard)
        for button in buttons:
            if _reply_button_text(button) != text:
                continue
            if isinstance(button, dict) and button.get("request_location"):
                return await self.send_location(
                    float(kwargs.get("lat", 55.7558)), float(kwargs.get("lon", 37.6173))
                )
            if isinstance(button, dict) and button.get("request_contact"):
                return await self.send_contact(str(kwargs.get("phone", "+79991234567")), own=True)
            return await self.send_text(text)
        raise AssertionError(f"no reply button {text!r}; shown: {self.reply_buttons()}")

    async def replies(
        self,
        since_update: int | None = None,
        timeout: float = 15.0,  # noqa: ASYNC109 - an overall deadline, not for one await
        settle: float = 0.3,
    ) -> list[SentMessage]:
        """Wait until the bot handled the update (default: this user's last one) and went quiet.

        Returns the bot messages in this chat sent or edited since the update was fetched (an
        empty list if the bot made no call within ``timeout``).
        """
        update_id = since_update if since_update is not None else self.last_update_id
        return await self.server._replies(self.id, update_id, timeout, settle)

    def messages(self) -> list[SentMessage]:
        """Bot messages in this chat that were not deleted."""
        return [m for m in self._chat.sent if not m.deleted]

    def last_text(self) -> str:
        """Text (or caption) of the newest bot message in this chat."""
        alive = self.messages()
        if not alive:
            raise AssertionError(f"the bot has not sent anything to {self.id}")
        return alive[-1].text or ""

    def inline_buttons(self) -> list[str]:
        """Inline button texts of the newest bot message (empty if it has none)."""
        alive = self.messages()
        return alive[-1].inline_buttons if alive else []

    def reply_buttons(self) -> list[str]:
        """Texts of the reply keyboard currently shown (empty if none or removed)."""
        return [_reply_button_text(b) for b in _reply_keyboard_buttons(self._chat.reply_keyboard)]


class FakeChat:
    """A scripted supergroup (e.g. the operators' forum) where FakeUsers write."""

    def __init__(self, server: FakeTelegramServer, chat_id: int, title: str, is_forum: bool) -> None:
        """Use :meth:`FakeTelegramServer.group` instead of calling this directly."""
        self.server = server
        self.id = chat_id
        self.title = title
        self.is_forum = is_forum
        self.last_update_id: int | None = None

    @property
    def _chat(self) -> _Chat:
        return self.server._chats[self.id]

    def add_member(self, user: FakeUser, status: str = "member") -> None:
        """Make ``user`` a member (status "member", "administrator", "creator", "left", "kicked")."""
        self._chat.members[user.id] = status

    def kick_bot(self) -> None:
        """Remove the bot: sends to this chat fail with 403."""
        self._chat.blocked = True

    def topics(self) -> dict[int, str]:
        """Forum topics created by the bot: thread id → name."""
        return {tid: t.name for tid, t in self._chat.topics.items()}

    def is_topic_closed(self, message_thread_id: int) -> bool:
        """Whether the topic was closed with closeForumTopic."""
        return self._chat.topics[message_thread_id].closed

    async def send_text(
        self,
        user: FakeUser,
        text: str,
        message_thread_id: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> int:
        """``user`` writes ``text`` in the group (optionally in a topic / as a reply); returns update id."""
        self._chat.members.setdefault(user.id, "member")
        content: dict[str, Any] = {"text": text}
        if reply_to_message_id is not None:
            target = self._chat.messages.get(reply_to_message_id)
            if target is None:
                raise AssertionError(f"no message {reply_to_message_id} in chat {self.id}")
            content["reply_to_message"] = {k: v for k, v in target.items() if k != "reply_to_message"}
        if message_thread_id is not None and message_thread_id not in self._chat.topics:
            raise AssertionError(f"no topic {message_thread_id} in chat {self.id}: {self.topics()}")
        message = self.server._compose(self._chat, user.as_dict(), content, message_thread_id)
        self.last_update_id = await self.server._deliver({"message": message})
        return self.last_update_id

    async def send_as_chat(self, text: str, message_thread_id: int | None = None) -> int:
        """An anonymous administrator writes ``text``: as Telegram does, the message is sent on
        behalf of the group (``sender_chat`` is the group, ``from`` the GroupAnonymousBot)."""
        content: dict[str, Any] = {"text": text, "sender_chat": dict(self._chat.info)}
        message = self.server._compose(self._chat, dict(GROUP_ANONYMOUS_BOT), content, message_thread_id)
        self.last_update_id = await self.server._deliver({"message": message})
        return self.last_update_id

    async def press(
        self,
        user: FakeUser,
        button_text: str,
        *,
        contains: bool = False,
        message_thread_id: int | None = None,
    ) -> int:
        """``user`` presses an inline button on the newest bot message in the group (or topic) having it."""
        sent, button = self.server._find_button(self._chat, button_text, contains, message_thread_id)
        self.last_update_id = await self.server._push_callback(
            self._chat, user.as_dict(), sent.raw, str(button["callback_data"])
        )
        return self.last_update_id

    async def replies(
        self,
        since_update: int | None = None,
        timeout: float = 15.0,  # noqa: ASYNC109 - an overall deadline, not for one await
        settle: float = 0.3,
    ) -> list[SentMessage]:
        """Like :meth:`FakeUser.replies`, for this group."""
        update_id = since_update if since_update is not None else self.last_update_id
        return await self.server._replies(self.id, update_id, timeout, settle)

    def messages(self, message_thread_id: int | None = None) -> list[SentMessage]:
        """Bot messages in the group (optionally one topic) that were not deleted."""
        return [
            m
            for m in self._chat.sent
            if not m.deleted and (message_thread_id is None or m.message_thread_id == message_thread_id)
        ]
