"""VK events: what users do becomes message_new / message_event objects, delivered by Bots Long
Poll history or POSTed to the bot's Callback API endpoint (callback.py)."""

from __future__ import annotations

import secrets
import time
from typing import Any

from bot.sandbox.vk.callback import VkCallback
from bot.sandbox.vk.records import (
    _PHOTO_SIZES,
    API_VERSION,
    CLIENT_BUTTON_ACTIONS,
    VkPerson,
    _PendingAnswer,
)


class VkEvents(VkCallback):
    """What scripted users do, as events, on top of their delivery."""

    def expire_long_poll_keys(self) -> None:
        """Invalidate every long-poll key: the next a_check gets ``{"failed": 2}``."""
        self._lp_keys.clear()

    def push_event(self, type_: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Build a full event and deliver it; returns the event at once (a Callback API POST runs
        in the background; see :meth:`deliver_event` to wait for its first answer)."""
        event = self._make_event(type_, obj)
        self._route_event(event["event_id"], event)
        return event

    async def deliver_event(self, type_: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Like :meth:`push_event`, but returns once the first Callback API POST was answered
        (unless ``use_callback(..., await_first_attempt=False)``)."""
        event = self._make_event(type_, obj)
        delivery = self._route_event(event["event_id"], event)
        if delivery is not None:
            await self._first_attempt(delivery)
        return event

    def _make_event(self, type_: str, obj: dict[str, Any]) -> dict[str, Any]:
        event = {
            "group_id": self.group_id,
            "type": type_,
            "event_id": secrets.token_hex(20),
            "v": API_VERSION,
            "object": obj,
        }
        self.events.append(event)
        return event

    def _user_message(
        self,
        user: VkPerson,
        text: str,
        *,
        attachments: list[dict[str, Any]] | None = None,
        payload: str | None = None,
        geo: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A message_new object for a message ``user`` writes to the community."""
        peer = self._peer(user.user_id)
        peer.wrote = True
        message: dict[str, Any] = {
            "date": int(time.time()),
            "from_id": user.user_id,
            "id": next(self._message_ids),
            "out": 0,
            "version": next(self._versions),
            "attachments": attachments or [],
            "conversation_message_id": next(peer.cmid),
            "fwd_messages": [],
            "important": False,
            "is_hidden": False,
            "peer_id": user.user_id,
            "random_id": 0,
            "text": text,
        }
        if payload is not None:
            message["payload"] = payload
        if geo is not None:
            message["geo"] = geo
        return {
            "message": message,
            "client_info": {
                "button_actions": list(CLIENT_BUTTON_ACTIONS),
                "keyboard": True,
                "inline_keyboard": True,
                "carousel": True,
                "lang_id": user.lang_id,
            },
        }

    def _button_event(self, user: VkPerson, payload: Any, cmid: int) -> dict[str, Any]:
        """A message_event object (a callback button press), remembered until answered."""
        event_id = secrets.token_hex(6)
        self._answers[event_id] = _PendingAnswer(user.user_id, user.user_id)
        obj: dict[str, Any] = {
            "user_id": user.user_id,
            "peer_id": user.user_id,
            "event_id": event_id,
            "payload": payload,
            "conversation_message_id": cmid,
        }
        return obj

    def _user_photo(self, user: VkPerson) -> dict[str, Any]:
        photo_id = next(self._photo_ids)
        access_key = secrets.token_hex(9)
        self._photos[(user.user_id, photo_id)] = access_key
        sizes = [
            {"height": h, "width": w, "type": t, "url": self.photo_url(f"u{user.user_id}_{photo_id}_{t}")}
            for t, w, h in _PHOTO_SIZES
        ]
        return {
            "type": "photo",
            "photo": {
                "album_id": -3,
                "date": int(time.time()),
                "id": photo_id,
                "owner_id": user.user_id,
                "access_key": access_key,
                "sizes": sizes,
                "text": "",
                "has_tags": False,
            },
        }
