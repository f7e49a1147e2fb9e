"""The people and chats a test acts as: FakeUser (a citizen in a private chat) and FakeChat (a
supergroup where FakeUsers write and press buttons)."""

from __future__ import annotations

import asyncio
import itertools
import re
from typing import Any

from bot.sandbox.telegram.markup import _reply_button_text, _reply_keyboard_buttons
from bot.sandbox.telegram.records import SentMessage
from bot.sandbox.telegram.state import _Chat, _unique_id
from bot.sandbox.telegram.updates import UpdateQueue

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
        server: UpdateQueue,
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

    def mark(self) -> int:
        """Where the bot's calls stand now: pass it to :meth:`answered_since`."""
        return len(self.server.calls)

    async def answered_since(
        self,
        mark: int,
        showing: str | None = None,
        timeout: float = 15.0,  # noqa: ASYNC109 - an overall deadline, not for one await
    ) -> bool:
        """Wait until a bot message in this chat was sent or edited after ``mark`` and (if given)
        ``showing`` is among the buttons shown; False after ``timeout``. Woken by this chat's calls
        only, with no settling pause: what a load test's citizen waits for between steps."""
        signal = self.server._chat_signal(self.id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout

        def done() -> bool:
            if not any(m.touched_at >= mark for m in self._chat.sent):
                return False
            return showing is None or any(showing in b for b in self.inline_buttons() + self.reply_buttons())

        while not done():
            left = deadline - loop.time()
            if left <= 0:
                return False
            await signal.wait(left)
        return True

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

    def reply_keyboard(self) -> list[list[dict[str, Any]]]:
        """The reply keyboard currently shown, row by row, each button as a ``KeyboardButton``
        object (``text``, and ``request_location`` / ``request_contact`` when it asks for one)."""
        markup = self._chat.reply_keyboard or {}
        rows = markup.get("keyboard") if isinstance(markup.get("keyboard"), list) else []
        return [
            [dict(b) if isinstance(b, dict) else {"text": str(b)} for b in row]
            for row in rows or []
            if isinstance(row, list)
        ]


class FakeChat:
    """A scripted supergroup (e.g. the operators' forum) where FakeUsers write."""

    def __init__(self, server: UpdateQueue, chat_id: int, title: str, is_forum: bool) -> None:
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

    async def press_data(self, user: FakeUser, data: str, message: dict[str, Any] | None = None) -> int:
        """``user`` sends a raw (possibly forged) callback query with ``data`` on ``message`` (a bot
        message as :attr:`SentMessage.raw`; default: the newest bot message in the group)."""
        if message is None:
            alive = self.messages()
            message = alive[-1].raw if alive else {"chat": dict(self._chat.info), "message_id": 1, "date": 0}
        self.last_update_id = await self.server._push_callback(self._chat, user.as_dict(), message, data)
        return self.last_update_id

    async def send_photo(
        self,
        user: FakeUser,
        file_id: str,
        caption: str | None = None,
        message_thread_id: int | None = None,
        *,
        size: int = 150_000,
        data: bytes | None = None,
    ) -> int:
        """``user`` posts a photo (3 PhotoSizes, the largest is ``file_id`` holding ``data``) in the
        group, optionally with a caption and in a topic; returns the update id."""
        content: dict[str, Any] = {"photo": self.server._photo_sizes(file_id, size, data)}
        if caption is not None:
            content["caption"] = caption
        message = self.server._compose(self._chat, user.as_dict(), content, message_thread_id)
        self.last_update_id = await self.server._deliver({"message": message})
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
