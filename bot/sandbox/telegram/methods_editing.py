"""Bot API methods that edit sent messages and answer button presses."""

from __future__ import annotations

import time
from typing import Any

from bot.sandbox.telegram.errors import MAX_CALLBACK_ANSWER_LENGTH, _bad
from bot.sandbox.telegram.markup import check_text, validate_markup
from bot.sandbox.telegram.records import ApiCall, SentMessage, _opt_int
from bot.sandbox.telegram.state import TelegramState, _Chat


class EditingMethods(TelegramState):
    """Bot API methods that edit sent messages and answer button presses."""

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

    async def _edit_message_text(self, call: ApiCall) -> Any:
        chat, sent = self._editable(call)
        if "text" not in sent.raw:
            raise _bad("there is no text in the message to edit")
        markup = validate_markup(call.params.get("reply_markup"), private=chat.is_private, inline_only=True)
        visible = check_text(call.params)
        return self._apply_edit(
            call, sent, text=visible, sent_text=str(call.params["text"]), markup=markup, text_key="text"
        )

    async def _edit_message_reply_markup(self, call: ApiCall) -> Any:
        chat, sent = self._editable(call)
        markup = validate_markup(call.params.get("reply_markup"), private=chat.is_private, inline_only=True)
        text_key = "text" if "text" in sent.raw else "caption"
        return self._apply_edit(
            call, sent, text=sent.text, sent_text=sent.sent_text, markup=markup, text_key=text_key
        )

    async def _answer_callback_query(self, call: ApiCall) -> Any:
        query_id = str(call.params.get("callback_query_id", ""))
        if self._callback_queries.get(query_id, True):
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        if len(str(call.params.get("text") or "")) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad("MESSAGE_TOO_LONG")
        self._callback_queries[query_id] = True
        self.callback_answers[query_id] = dict(call.params)
        return True
