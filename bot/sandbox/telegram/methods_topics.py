"""Bot API methods for forum topics."""

from __future__ import annotations

from typing import Any

from bot.sandbox.telegram.errors import TOPIC_ICON_COLORS, _bad
from bot.sandbox.telegram.records import ApiCall, _as_int
from bot.sandbox.telegram.state import TelegramState, _Chat, _Topic


class TopicMethods(TelegramState):
    """Bot API methods for forum topics."""

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

    async def _close_forum_topic(self, call: ApiCall) -> Any:
        _, topic = self._topic(call)
        if topic.closed:
            raise _bad("TOPIC_NOT_MODIFIED")
        topic.closed = True
        return True
