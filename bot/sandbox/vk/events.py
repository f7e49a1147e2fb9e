"""VK events: what users do becomes message_new / message_event objects, delivered by Bots Long
Poll history or POSTed to the bot's Callback API endpoint."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from typing import Any

import aiohttp

from bot.sandbox.vk.records import (
    _PHOTO_SIZES,
    _UNSET,
    API_VERSION,
    CALLBACK_TIMEOUT,
    CLIENT_BUTTON_ACTIONS,
    VkPerson,
    _PendingAnswer,
)
from bot.sandbox.vk.state import VkState


class VkEvents(VkState):
    """Event delivery on top of the state."""

    def use_callback(self, url: str, secret: str | None) -> None:
        """From now on deliver events as Callback API POSTs to ``url`` (with ``secret`` when set)."""
        self._callback = (url, secret)

    def use_long_poll(self) -> None:
        """Deliver events through the long-poll queue again (the default)."""
        self._callback = None

    def expire_long_poll_keys(self) -> None:
        """Invalidate every long-poll key: the next a_check gets ``{"failed": 2}``."""
        self._lp_keys.clear()

    def push_event(self, type_: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Build a full event and deliver it; returns the event.

        With the Callback API configured the POST runs in the background (see
        :meth:`deliver_event` to await it).
        """
        event = self._make_event(type_, obj)
        if self._callback is None:
            self._enqueue(event)
        else:
            task = asyncio.get_running_loop().create_task(self.post_callback(event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return event

    async def deliver_event(self, type_: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Like :meth:`push_event`, but a callback POST is awaited before returning."""
        event = self._make_event(type_, obj)
        if self._callback is None:
            self._enqueue(event)
        else:
            await self.post_callback(event)
        return event

    async def post_callback(self, event: dict[str, Any], secret: str | None = _UNSET) -> tuple[int, str]:
        """POST one event to the callback URL like VK does; returns (HTTP status, body).

        ``secret`` defaults to the configured one; None sends the event without a secret.
        """
        if self._callback is None:
            raise RuntimeError("no callback URL configured (use_callback)")
        if self._client is None:
            raise RuntimeError("FakeVkServer is not started")
        url, configured = self._callback
        secret = configured if secret is _UNSET else secret
        body = {k: v for k, v in event.items() if k != "secret"}
        if secret is not None:
            body["secret"] = secret
        data = json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "VKCallbackAPI"}
        try:
            async with self._client.post(
                url, data=data, headers=headers, timeout=aiohttp.ClientTimeout(total=CALLBACK_TIMEOUT)
            ) as response:
                result = (response.status, await response.text())
        except (aiohttp.ClientError, TimeoutError) as error:
            result = (0, f"{type(error).__name__}: {error}")
        self.callback_responses.append(result)
        self._changed.fire()
        return result

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

    def _enqueue(self, event: dict[str, Any]) -> None:
        self._history.append(event)
        self._lp_signal.fire()

    @property
    def _current_ts(self) -> int:
        return self._ts_base + len(self._history)

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
