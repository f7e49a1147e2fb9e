"""The sandbox's world: chats, users, messages, forum topics and files, and the helpers that
resolve and compose them (no HTTP here)."""

from __future__ import annotations

import hashlib
import itertools
import re
import time
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.loopback import LoopbackServer
from bot.sandbox.signal import Signal
from bot.sandbox.telegram.errors import (
    DEFAULT_TOKEN,
    MAX_PHOTO_UPLOAD,
    MAX_UPLOAD,
    _ApiError,
    _bad,
)
from bot.sandbox.telegram.records import ApiCall, SentMessage, UploadedFile, _as_int, _Handler, _opt_int

_FAKE_JPEG_HEADER = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"


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


class TelegramState(LoopbackServer):
    """The state every part of the Telegram sandbox works on."""

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
        # getUpdates: (update id, update) not confirmed by an offset yet, by id.
        self._queue: list[tuple[int, Any]] = []
        self._next_update_id = 1
        # Every update the server made or was handed, by the id it tracks it by (for redelivery).
        self._updates: dict[int, Any] = {}
        # Update id -> index into `calls` when the bot first fetched or was POSTed the update.
        self._delivered_at: dict[int, int] = {}
        self._poll_generation = 0
        self._failures: dict[str, list[_ApiError]] = {}
        self._files: dict[str, _StoredFile] = {}
        self._paths: dict[str, _StoredFile] = {}
        self._callback_queries: dict[str, bool] = {}
        self._counter = itertools.count(1)
        self._signal = Signal()
        self._chat_signals: dict[str, Signal] = {}
        self._last_activity = 0.0
        self._handlers: dict[str, _Handler] = {}

    def _wake_waiters(self) -> None:
        self._signal.fire()

    def _chat_for(self, info: dict[str, Any]) -> _Chat:
        chat_id = int(info["id"])
        if chat_id not in self._chats:
            instance = str(int(hashlib.sha1(f"{self.bot_id}:{chat_id}".encode()).hexdigest()[:15], 16))
            self._chats[chat_id] = _Chat(info=info, chat_instance=instance)
        return self._chats[chat_id]

    def _private_chat(self, user_id: int, first_name: str = "Иван", username: str | None = None) -> _Chat:
        info: dict[str, Any] = {"id": user_id, "type": "private", "first_name": first_name}
        if username:
            info["username"] = username
        chat = self._chat_for(info)
        chat.members[user_id] = "member"
        return chat

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
                chat = self._private_chat(chat_id)
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
