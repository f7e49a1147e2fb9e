"""VK API methods the bot calls to talk: messages.send (keyboards and attachments checked like VK)
and messages.sendMessageEventAnswer."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from bot.sandbox.vk.records import (
    _ACTION_FIELDS,
    _ATTACHMENT,
    _COLORS,
    _FULL_WIDTH_ACTIONS,
    CHAT_PEER_BASE,
    INLINE_BUTTONS,
    INLINE_ROWS,
    LABEL_LIMIT,
    MAX_ATTACHMENTS,
    MAX_MESSAGE_LENGTH,
    MAX_PEER_IDS,
    PAYLOAD_LIMIT,
    REGULAR_BUTTONS,
    REGULAR_ROWS,
    ROW_WIDTH,
    SNACKBAR_LIMIT,
    VkSentMessage,
    _bad_keyboard,
    _int_list,
    _int_param,
    _invalid,
    _VkError,
)
from bot.sandbox.vk.state import VkState


class MessageMethods(VkState):
    """messages.* methods."""

    def _send_targets(self, params: dict[str, str]) -> tuple[list[int], bool]:
        for key in ("peer_ids", "user_ids"):
            if params.get(key, "").strip():
                peers = _int_list(params, key)
                if not peers:
                    raise _invalid(f"{key} is invalid")
                if len(peers) > MAX_PEER_IDS:
                    raise _invalid(f"{key} is too long, max {MAX_PEER_IDS} items")
                return list(dict.fromkeys(peers)), True
        for key in ("peer_id", "user_id"):
            value = _int_param(params, key)
            if value is not None:
                return [value], False
        chat_id = _int_param(params, "chat_id")
        if chat_id is not None:
            return [CHAT_PEER_BASE + chat_id], False
        raise _invalid("you should specify peer_id, user_id, domain, chat_id or user_ids param")

    def _parse_keyboard(self, raw: str) -> dict[str, Any]:
        try:
            keyboard = json.loads(raw)
        except ValueError:
            raise _bad_keyboard("keyboard should be a valid JSON object") from None
        if not isinstance(keyboard, dict):
            raise _bad_keyboard("keyboard should be a valid JSON object")
        rows = keyboard.get("buttons")
        if not isinstance(rows, list):
            raise _bad_keyboard("buttons field is required and should be an array")
        inline = keyboard.get("inline", False)
        one_time = keyboard.get("one_time", False)
        for name, flag in (("inline", inline), ("one_time", one_time)):
            if not isinstance(flag, bool):
                raise _bad_keyboard(f"{name} should be boolean")
        if inline and one_time:
            raise _bad_keyboard("one_time is not supported for inline keyboards")
        max_rows, max_buttons = (INLINE_ROWS, INLINE_BUTTONS) if inline else (REGULAR_ROWS, REGULAR_BUTTONS)
        if len(rows) > max_rows:
            raise _bad_keyboard(f"keyboard should contain no more than {max_rows} rows")
        total = 0
        for r, row in enumerate(rows):
            if not isinstance(row, list) or not row:
                raise _bad_keyboard(f"row {r} should be a non-empty array")
            if len(row) > ROW_WIDTH:
                raise _bad_keyboard(f"row {r} contains too much columns")
            for c, button in enumerate(row):
                self._check_button(r, c, button, inline=inline, row_size=len(row))
            total += len(row)
        if total > max_buttons:
            raise _bad_keyboard(f"keyboard should contain no more than {max_buttons} buttons")
        return keyboard

    def _check_button(self, r: int, c: int, button: Any, *, inline: bool, row_size: int) -> None:
        where = f"button [{r}][{c}]"
        if not isinstance(button, dict) or not isinstance(button.get("action"), dict):
            raise _bad_keyboard(f"{where} should contain action object")
        action: dict[str, Any] = button["action"]
        kind = action.get("type")
        if kind not in _ACTION_FIELDS:
            raise _bad_keyboard(f"{where} action type is invalid")
        required, optional = _ACTION_FIELDS[str(kind)]
        fields = set(action) - {"type"}
        if fields - required - optional:
            raise _bad_keyboard(f"{where} action contains unknown fields")
        missing = required - fields
        if missing:
            raise _bad_keyboard(f"{where} action should contain {sorted(missing)[0]} field")
        if "color" in button and button["color"] not in _COLORS:
            raise _bad_keyboard(f"{where} color is invalid")
        if "label" in action:
            label = action["label"]
            if not isinstance(label, str) or len(label) < 1:
                raise _bad_keyboard(f"{where} label should be at least 1 letters length")
            if len(label) > LABEL_LIMIT:
                raise _bad_keyboard(f"{where} label should be not more than {LABEL_LIMIT} letters length")
        if "payload" in action:
            payload = action["payload"]
            if not isinstance(payload, str):
                raise _bad_keyboard(f"{where} payload should be a string")
            if len(payload) > PAYLOAD_LIMIT:
                raise _bad_keyboard(f"{where} payload should be not more than {PAYLOAD_LIMIT} bytes length")
            try:
                json.loads(payload)
            except ValueError:
                raise _bad_keyboard(f"{where} payload should be a valid JSON") from None
        if kind == "open_link" and not re.match(r"^https?://\S+$", str(action["link"])):
            raise _bad_keyboard(f"{where} link is invalid")
        if kind == "location" and inline:
            raise _bad_keyboard(f"{where} location buttons are not supported in inline keyboards")
        if kind in _FULL_WIDTH_ACTIONS and row_size > 1:
            raise _bad_keyboard(f"{where} of type {kind} should be the only button in its row")

    def _check_attachments(self, raw: str) -> list[str]:
        items = [item.strip() for item in raw.split(",") if item.strip()]
        if len(items) > MAX_ATTACHMENTS:
            raise _invalid(f"attachment: too many attachments, max {MAX_ATTACHMENTS}")
        for item in items:
            match = _ATTACHMENT.match(item)
            if match is None or match["type"] != "photo":
                raise _invalid(f"attachment {item} is invalid")
            owner, photo_id = int(match["owner"]), int(match["id"])
            access_key = self._photos.get((owner, photo_id))
            if access_key is None:
                raise _invalid(f"attachment {item}: photo not found")
            key = match["key"]
            if (key is not None and key != access_key) or (key is None and owner != -self.group_id):
                raise _invalid(f"attachment {item}: access_key is invalid")
        return items

    def _content_check(self, text: str, attachments: list[str], params: dict[str, str]) -> None:
        if len(text) > MAX_MESSAGE_LENGTH:
            raise _VkError(914)
        has_geo = bool(params.get("lat", "").strip() and params.get("long", "").strip())
        if not text.strip() and not attachments and not params.get("sticker_id") and not has_geo:
            raise _invalid("message is empty or invalid")

    async def _messages_send(self, params: dict[str, str]) -> Any:
        peers, multi = self._send_targets(params)
        random_id = _int_param(params, "random_id", required=True)
        assert random_id is not None
        text = params.get("message", "")
        attachments = self._check_attachments(params.get("attachment", ""))
        raw_keyboard = params.get("keyboard", "")
        keyboard = self._parse_keyboard(raw_keyboard) if raw_keyboard.strip() else None
        self._content_check(text, attachments, params)
        results: list[dict[str, Any]] = []
        for peer_id in peers:
            try:
                message = self._create_message(peer_id, random_id, text, keyboard, attachments)
            except _VkError as error:
                if not multi:
                    raise
                results.append(
                    {"peer_id": peer_id, "error": {"code": error.code, "description": error.message}}
                )
            else:
                results.append(
                    {
                        "peer_id": peer_id,
                        "message_id": message.id,
                        "conversation_message_id": message.conversation_message_id,
                    }
                )
        if multi:
            return results
        return results[0]["message_id"]

    def _create_message(
        self,
        peer_id: int,
        random_id: int,
        text: str,
        keyboard: dict[str, Any] | None,
        attachments: list[str],
    ) -> VkSentMessage:
        if peer_id == 0:
            raise _invalid("peer_id is invalid")
        if random_id != 0 and (peer_id, random_id) in self._dedup:
            return self._dedup[(peer_id, random_id)]
        peer = self._peer(peer_id)
        if peer.blocked or (self.require_permission and 0 < peer_id < CHAT_PEER_BASE and not peer.wrote):
            raise _VkError(901)
        message = VkSentMessage(
            id=next(self._message_ids),
            peer_id=peer_id,
            text=text,
            random_id=random_id,
            keyboard=keyboard,
            attachments=list(attachments),
            at=time.monotonic(),
            conversation_message_id=next(peer.cmid),
        )
        if random_id != 0:
            self._dedup[(peer_id, random_id)] = message
        if keyboard is not None and not keyboard.get("inline"):
            if keyboard.get("buttons"):
                peer.keyboard, peer.keyboard_message_id = keyboard, message.id
            else:
                peer.keyboard, peer.keyboard_message_id = None, 0
        peer.messages.append(message)
        self.sent.append(message)
        self._touch(message)
        return message

    async def _messages_send_message_event_answer(self, params: dict[str, str]) -> Any:
        event_id = params.get("event_id", "")
        user_id = _int_param(params, "user_id", required=True)
        peer_id = _int_param(params, "peer_id", required=True)
        pending = self._answers.get(event_id)
        if pending is None or pending.user_id != user_id or pending.peer_id != peer_id:
            raise _invalid("event_id is invalid")
        event_data: dict[str, Any] | None = None
        if params.get("event_data", "").strip():
            try:
                event_data = json.loads(params["event_data"])
            except ValueError:
                raise _invalid("event_data should be a valid JSON") from None
            if not isinstance(event_data, dict):
                raise _invalid("event_data should be a JSON object")
            kind = event_data.get("type")
            if kind == "show_snackbar":
                text = event_data.get("text")
                if not isinstance(text, str) or not 1 <= len(text) <= SNACKBAR_LIMIT:
                    raise _invalid(f"event_data.text should be 1..{SNACKBAR_LIMIT} characters")
            elif kind == "open_link":
                if not re.match(r"^https?://\S+$", str(event_data.get("link", ""))):
                    raise _invalid("event_data.link is invalid")
            elif kind == "open_app":
                if not isinstance(event_data.get("app_id"), int):
                    raise _invalid("event_data.app_id is invalid")
            else:
                raise _invalid("event_data.type is invalid")
        pending.answered = True
        pending.event_data = event_data
        self._changed.fire()
        return 1
