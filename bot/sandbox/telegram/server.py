"""The local Telegram Bot API server: the aiohttp app on 127.0.0.1, routing a method name to its
handler, and the scripting entry points (users, groups, files, webhook delivery).

The real aiogram ``Bot`` talks to it over HTTP (see ``tests/harness/telegram.py`` for ``make_bot``
and ``polling``). It records every request in :attr:`FakeTelegramServer.calls`, keeps per-chat
message history, serves scripted updates through ``getUpdates`` or the bot's webhook (redelivered
until a 2xx, see ``webhook.py``), enforces the limits the bot could trip over and answers with
Telegram's error bodies; ``fail_next`` scripts failures such as 429 with ``retry_after``. Only the
methods the bot calls are served.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.sandbox.telegram.drivers import FakeChat, FakeUser
from bot.sandbox.telegram.errors import DEFAULT_TOKEN
from bot.sandbox.telegram.methods_editing import EditingMethods
from bot.sandbox.telegram.methods_messages import MessageMethods
from bot.sandbox.telegram.methods_topics import TopicMethods
from bot.sandbox.telegram.methods_updates import UpdateMethods
from bot.sandbox.telegram.records import UploadedFile, _decode_form_value
from bot.sandbox.telegram.webhook import WebhookQueue


class FakeTelegramServer(WebhookQueue, UpdateMethods, MessageMethods, EditingMethods, TopicMethods):
    """A Bot API server on 127.0.0.1 that records every call and serves scripted updates."""

    def __init__(self, token: str = DEFAULT_TOKEN) -> None:
        """Create the server (call :meth:`start` to listen). ``token`` is the only accepted token."""
        super().__init__(token)
        self._users: dict[int, FakeUser] = {}
        self._groups: dict[int, FakeChat] = {}
        self._handlers.update(
            {
                name.lower(): handler
                for name, handler in {
                    "getMe": self._get_me,
                    "getUpdates": self._get_updates,
                    "setWebhook": self._set_webhook,
                    "deleteWebhook": self._delete_webhook,
                    "setMyCommands": self._set_my_commands,
                    "sendMessage": self._send_message,
                    "sendPhoto": self._send_photo,
                    "sendDocument": self._send_document,
                    "sendMediaGroup": self._send_media_group,
                    "sendLocation": self._send_location,
                    "editMessageText": self._edit_message_text,
                    "editMessageReplyMarkup": self._edit_message_reply_markup,
                    "answerCallbackQuery": self._answer_callback_query,
                    "createForumTopic": self._create_forum_topic,
                    "closeForumTopic": self._close_forum_topic,
                    "getFile": self._get_file,
                }.items()
            }
        )

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` — pass to ``TelegramAPIServer.from_base``."""
        return self.root_url

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)

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
        self._private_chat(user_id, first_name, username)
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

    def register_file(self, file_id: str, data: bytes = b"", kind: str = "document") -> None:
        """Make ``file_id`` known (as if Telegram stored it), e.g. a sticker id from the bot's config."""
        self._store_file(file_id, kind, len(data) or 1024, data or None)

    def history(self, chat_id: int) -> list[dict[str, Any]]:
        """Every message of the chat as its members see it, theirs and the bot's (latest version,
        deleted ones left out), oldest first: what a chat window shows (the sandbox page)."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return []
        deleted = {m.message_id for m in chat.sent if m.deleted}
        return [dict(chat.messages[key]) for key in sorted(chat.messages) if key not in deleted]

    def callback_answer(self, update_id: int) -> dict[str, Any] | None:
        """The ``answerCallbackQuery`` params the bot answered the button press ``update_id`` with
        (the toast or alert a person sees); None while unanswered or for another kind of update."""
        query = (self._updates.get(update_id) or {}).get("callback_query") or {}
        return self.callback_answers.get(str(query.get("id", "")))

    def file_data(self, file_id: str) -> bytes | None:
        """The bytes stored under ``file_id`` (None when unknown or only its size was invented)."""
        stored = self._files.get(file_id)
        return None if stored is None else stored.data

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
