"""The people a test acts as in VK: FakeVkUser writes to the community, sends photos, locations,
stickers and voice messages, presses keyboard buttons and waits for the bot's replies."""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

from bot.sandbox.vk.events import VkEvents
from bot.sandbox.vk.records import (
    MAX_ATTACHMENTS,
    VkSentMessage,
    _actions,
    _labels,
    _nearest_city,
)


class FakeVkUser:
    """A scripted VK user writing to the community in a private conversation (peer id == user id)."""

    def __init__(
        self, server: VkEvents, user_id: int, first_name: str, lang_id: int, last_name: str = "Тестов"
    ) -> None:
        """Use :meth:`FakeVkServer.user` instead of calling this directly."""
        self.server = server
        self.user_id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.lang_id = lang_id
        self._cursor = 0
        self.last_event_id: str | None = None
        """``event_id`` of the newest event this user made (what :meth:`replies` waits on)."""

    # ---------------------------------------------------------------- writing

    async def _message(self, text: str, **fields: Any) -> dict[str, Any]:
        obj = self.server._user_message(self, text, **fields)
        return await self._deliver("message_new", obj)

    async def _deliver(self, type_: str, obj: dict[str, Any]) -> dict[str, Any]:
        event = await self.server.deliver_event(type_, obj)
        self.last_event_id = str(event["event_id"])
        return event

    async def send_text(self, text: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """Write a text (optionally with a message payload); returns the message_new event."""
        raw = None if payload is None else json.dumps(payload, ensure_ascii=False)
        return await self._message(text, payload=raw)

    async def send_command(self, cmd: str) -> dict[str, Any]:
        """Write ``/cmd`` (the leading slash is optional)."""
        return await self.send_text(cmd if cmd.startswith("/") else f"/{cmd}")

    async def send_photos(self, count: int, text: str = "") -> dict[str, Any]:
        """Send ONE message with ``count`` photos (VK puts up to 10 into a message)."""
        if not 1 <= count <= MAX_ATTACHMENTS:
            raise ValueError(f"a VK message holds 1..{MAX_ATTACHMENTS} photos")
        photos = [self.server._user_photo(self) for _ in range(count)]
        return await self._message(text, attachments=photos)

    async def send_photo_data(self, data: bytes, text: str = "") -> dict[str, Any]:
        """Send ONE photo whose every size serves ``data`` (a picture chosen or uploaded on the
        sandbox page, so the bot downloads and relays the real image)."""
        photo = self.server._user_photo(self)
        for size in photo["photo"]["sizes"]:
            self.server._photo_bytes[str(size["url"]).rsplit("/", 1)[-1].removesuffix(".jpg")] = data
        return await self._message(text, attachments=[photo])

    def _geo(self, lat: float, lon: float) -> dict[str, Any]:
        city = _nearest_city(lat, lon)
        return {
            "type": "point",
            "coordinates": {"latitude": lat, "longitude": lon},
            "place": {"title": f"{city}, Россия", "country": "Россия", "city": city},
        }

    async def send_location(self, lat: float, lon: float) -> dict[str, Any]:
        """Send a location (a message with "geo")."""
        return await self._message("", geo=self._geo(lat, lon))

    async def send_sticker(self) -> dict[str, Any]:
        """Send a sticker."""
        sticker_id = 9012
        images = [
            {"url": self.server.photo_url(f"sticker_{sticker_id}_{s}"), "width": s, "height": s}
            for s in (64, 128, 256, 352, 512)
        ]
        sticker = {
            "inner_type": "base_sticker_new",
            "product_id": 279,
            "sticker_id": sticker_id,
            "images": images,
            "images_with_background": images,
            "is_allowed": True,
        }
        return await self._message("", attachments=[{"type": "sticker", "sticker": sticker}])

    async def send_voice(self) -> dict[str, Any]:
        """Send a voice message."""
        voice_id = next(self.server._photo_ids)
        root = self.server.root_url
        voice = {
            "duration": 3,
            "id": voice_id,
            "owner_id": self.user_id,
            "access_key": secrets.token_hex(9),
            "link_mp3": f"{root}/audio/{voice_id}.mp3",
            "link_ogg": f"{root}/audio/{voice_id}.ogg",
            "waveform": [0, 3, 9, 17, 24, 17, 9, 3, 0],
        }
        return await self._message("", attachments=[{"type": "audio_message", "audio_message": voice}])

    # ---------------------------------------------------------------- buttons

    def _find_button(self, label: str, contains: bool) -> tuple[dict[str, Any], VkSentMessage | None, bool]:
        """The button with this label: (action, message carrying it, from the persistent keyboard)."""

        def matches(action: dict[str, Any]) -> bool:
            if action.get("type") not in ("text", "callback"):
                return False
            text = str(action.get("label", ""))
            return label in text if contains else text == label

        peer = self.server._peer(self.user_id)
        best: tuple[int, dict[str, Any], VkSentMessage | None, bool] | None = None
        for message in reversed(peer.messages):
            if not message.inline:
                continue
            action = next((a for a in message.buttons() if matches(a)), None)
            if action is not None:
                best = (message.id, action, message, False)
                break
        if peer.keyboard is not None:
            action = next((a for a in _actions(peer.keyboard) if matches(a)), None)
            if action is not None and (best is None or peer.keyboard_message_id > best[0]):
                owner = next((m for m in peer.messages if m.id == peer.keyboard_message_id), None)
                best = (peer.keyboard_message_id, action, owner, True)
        if best is None:
            visible = self.keyboard_labels() + [
                label for m in reversed(peer.messages) if m.inline for label in m.labels()
            ]
            raise AssertionError(
                f"no button {label!r} for VK user {self.user_id}; visible: {list(dict.fromkeys(visible))}"
            )
        return best[1], best[2], best[3]

    def _used_persistent(self) -> None:
        peer = self.server._peer(self.user_id)
        if peer.keyboard is not None and peer.keyboard.get("one_time"):
            peer.keyboard, peer.keyboard_message_id = None, 0

    async def press(self, label: str, *, contains: bool = False) -> dict[str, Any]:
        """Press the text/callback button with this label (newest inline one, or the persistent keyboard).

        A callback button sends a message_event; a text button a message_new with the label as
        text and the button's payload. Returns the event.
        """
        action, message, persistent = self._find_button(label, contains)
        if persistent:
            self._used_persistent()
        if action["type"] == "callback":
            raw = action.get("payload")
            payload = json.loads(raw) if isinstance(raw, str) else {}
            cmid = message.conversation_message_id if message else 0
            obj = self.server._button_event(self, payload, cmid)
            return await self._deliver("message_event", obj)
        return await self._message(str(action["label"]), payload=action.get("payload"))

    async def press_payload(self, payload: dict[str, Any], *, callback: bool = True) -> dict[str, Any]:
        """A forged press: a message_event with ``payload`` (or a message_new carrying it)."""
        if callback:
            messages = self.server.messages_to(self.user_id)
            cmid = messages[-1].conversation_message_id if messages else 0
            obj = self.server._button_event(self, payload, cmid)
            return await self._deliver("message_event", obj)
        return await self._message("", payload=json.dumps(payload, ensure_ascii=False))

    async def tap_location(self, lat: float, lon: float) -> dict[str, Any]:
        """Tap the "send location" button of the persistent keyboard: a geo message with its payload."""
        keyboard = self.server.keyboard_of(self.user_id)
        action = next((a for a in _actions(keyboard) if a.get("type") == "location"), None)
        if action is None:
            shown = self.keyboard_labels()
            raise AssertionError(
                f"no location button in the keyboard of VK user {self.user_id}; shown: {shown}"
            )
        self._used_persistent()
        return await self._message("", geo=self._geo(lat, lon), payload=action.get("payload"))

    # ---------------------------------------------------------------- reading

    async def replies(
        self,
        timeout: float = 15.0,  # noqa: ASYNC109 - an overall deadline, not for one await
        settle: float = 0.3,
    ) -> list[VkSentMessage]:
        """Wait for new bot messages to this user, then for ~``settle`` s of quiet.

        Once the user's newest event reached the bot (long poll or a Callback API POST), a new
        message only counts after the bot made a call since then, so a message sent before (by
        the outbox, say) does not end the wait early. Returns the messages sent (or edited) since
        the previous ``replies()`` call, by id; an empty list if none came within ``timeout``.
        """
        server = self.server
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        event_id = self.last_event_id
        while event_id is not None and event_id not in server._fetched_at and loop.time() < deadline:
            await server._changed.wait(deadline - loop.time())
        start = server._fetched_at.get(event_id) if event_id is not None else None

        def fresh() -> list[VkSentMessage]:
            return [m for m in server.messages_to(self.user_id) if m.touched > self._cursor]

        def ready() -> bool:
            return bool(fresh()) and (start is None or len(server.requests) > start)

        while not ready() and loop.time() < deadline:
            await server._changed.wait(deadline - loop.time())
        if not fresh():
            return []
        while loop.time() < deadline:
            quiet = loop.time() - server._last_activity
            if quiet >= settle and server._in_flight == 0:
                break
            await asyncio.sleep(max(settle - quiet, 0.01))
        result = sorted(fresh(), key=lambda m: m.id)
        self._cursor = max(m.touched for m in result)
        return result

    def messages(self) -> list[VkSentMessage]:
        """Every bot message to this user."""
        return self.server.messages_to(self.user_id)

    def last_text(self) -> str:
        """Text of the newest bot message to this user."""
        messages = self.messages()
        if not messages:
            raise AssertionError(f"the bot has not written to VK user {self.user_id}")
        return messages[-1].text

    def keyboard_labels(self) -> list[str]:
        """Labels of the persistent keyboard currently shown (empty if none or removed)."""
        return _labels(self.server.keyboard_of(self.user_id))
