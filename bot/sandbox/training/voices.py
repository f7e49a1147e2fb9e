"""One way for a scripted citizen to talk, whichever messenger it is on: the public drivers of the
local Telegram and VK servers behind the same few verbs."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.sandbox.telegram import FakeUser
from bot.sandbox.vk import FakeVkUser

# How long a scripted citizen waits for a button that the outbox has not delivered yet.
BUTTON_WAIT = 20.0
# Real seconds before each action: people read before they tap, and the bot's flood control
# (6 messages in 3 s by default) answers a faster sender with "slow down" instead of the dialog.
PACE = 0.7


async def shown(check: Callable[[], bool], what: str, timeout: float = BUTTON_WAIT) -> None:  # noqa: ASYNC109
    """Wait until `check()` holds: the bot's screens arrive a moment after the press that asks for
    them (and messages from the outbox later still), and a person presses only what they see."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise LookupError(f"the bot did not show {what}")
        await asyncio.sleep(0.05)


def _matches(label: str, shown: list[str], contains: bool) -> bool:
    return any(b == label or (contains and label in b) for b in shown)


class Voice(Protocol):
    """What a scripted citizen can do in its chat with the bot."""

    async def command(self, command: str) -> str: ...
    async def say(self, text: str) -> str: ...
    async def press(self, label: str, *, contains: bool = False) -> str: ...
    async def photos(self, count: int) -> str: ...
    async def location(self, lat: float, lon: float) -> str: ...
    def buttons(self) -> list[str]: ...


class _Sender(Protocol):
    async def send_command(self, command: str) -> object: ...
    async def send_text(self, text: str) -> object: ...


class _Paced(ABC):
    """Each action after a reader's pause, answered by what the bot says back."""

    @abstractmethod
    def _sender(self) -> _Sender:
        """The messenger driver that sends this citizen's texts and commands."""

    @abstractmethod
    async def _replies(self) -> str:
        """What the bot said back, joined."""

    async def command(self, command: str) -> str:
        return await self._after_pause(self._sender().send_command(command))

    async def say(self, text: str) -> str:
        return await self._after_pause(self._sender().send_text(text))

    async def _after_pause(self, action: Awaitable[object]) -> str:
        await asyncio.sleep(PACE)
        await action
        return await self._replies()


class TelegramVoice(_Paced):
    """A citizen on the local Telegram server."""

    def __init__(self, user: FakeUser, location_label: str) -> None:
        self.user = user
        self._location_label = location_label

    def _sender(self) -> _Sender:
        return self.user

    async def _replies(self) -> str:
        return "\n".join(m.text or "" for m in await self.user.replies())

    async def press(self, label: str, *, contains: bool = False) -> str:
        await asyncio.sleep(PACE)
        await shown(lambda: _matches(label, self.buttons(), contains), repr(label))
        keyboard = [b for b in self.user.reply_buttons() if b == label or (contains and label in b)]
        if keyboard:
            await self.user.tap_reply_button(keyboard[0])
        else:
            await self.user.press(label, contains=contains)
        return await self._replies()

    async def photos(self, count: int) -> str:
        return await self._after_pause(self.user.send_album(count))

    async def location(self, lat: float, lon: float) -> str:
        await asyncio.sleep(PACE)
        await shown(lambda: self._location_label in self.user.reply_buttons(), "the location button")
        await self.user.tap_reply_button(self._location_label, lat=lat, lon=lon)
        return await self._replies()

    def buttons(self) -> list[str]:
        recent = [label for m in self.user.messages()[-3:] for label in m.inline_buttons]
        return [*recent, *self.user.reply_buttons()]


class VkVoice(_Paced):
    """A citizen on the local VK server."""

    def __init__(self, user: FakeVkUser) -> None:
        self.user = user

    def _sender(self) -> _Sender:
        return self.user

    async def _replies(self) -> str:
        return "\n".join(m.text for m in await self.user.replies())

    async def press(self, label: str, *, contains: bool = False) -> str:
        await asyncio.sleep(PACE)
        await shown(lambda: _matches(label, self.buttons(), contains), repr(label))
        await self.user.press(label, contains=contains)
        return await self._replies()

    async def photos(self, count: int) -> str:
        return await self._after_pause(self.user.send_photos(count))

    async def location(self, lat: float, lon: float) -> str:
        await asyncio.sleep(PACE)

        def offered() -> bool:
            keyboard = self.user.server.keyboard_of(self.user.user_id) or {}
            rows = keyboard.get("buttons") or []
            return any(b.get("action", {}).get("type") == "location" for row in rows for b in row)

        await shown(offered, "the location button")
        await self.user.tap_location(lat, lon)
        return await self._replies()

    def buttons(self) -> list[str]:
        # The bot's "solved?" question may be followed by a status line: look a little further back.
        recent = [label for m in self.user.messages()[-3:] for label in m.labels()]
        return [*recent, *self.user.keyboard_labels()]
