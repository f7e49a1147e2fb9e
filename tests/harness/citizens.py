"""One citizen, two messengers: the same scripted actions against the local Telegram or VK server.

Transcript tests take a `Messenger` harness and drive a `Citizen` through it, so one definition runs
for both platforms through the real aiogram or vkbottle code over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

from aiogram import Bot, Dispatcher

from bot.app.telegram import build_bot, build_delivery, build_dispatcher
from bot.app.vk import VkSide, build_vk, build_vk_delivery
from bot.app.wiring import App
from bot.delivery.worker import OutboxWorker
from bot.sandbox.telegram import FakeTelegramServer, FakeUser
from bot.sandbox.vk import FakeVkServer, FakeVkUser
from handlers.telegram.callbacks import callback_signer
from handlers.telegram.files import photo_source
from handlers.vk.polling import poll_vk
from tests.harness.pipeline import processing
from tests.harness.telegram import running

VK_LANG_IDS = {"ru": 0, "en": 3}


class Citizen(Protocol):
    platform: str
    user_id: str

    async def command(self, command: str) -> str: ...
    async def say(self, text: str) -> str: ...
    async def press(self, label: str, *, contains: bool = False) -> str: ...
    async def photos(self, count: int) -> str: ...
    async def location(self, lat: float, lon: float) -> str: ...
    async def phone(self, number: str) -> str: ...
    async def sticker(self) -> str: ...
    def buttons(self) -> list[str]: ...


def _joined(texts: list[str]) -> str:
    return "\n---\n".join(texts)


@dataclass
class TgCitizen:
    user: FakeUser
    platform: str = "tg"

    @property
    def user_id(self) -> str:
        return str(self.user.id)

    async def _replies(self) -> str:
        return _joined([m.text or "" for m in await self.user.replies()])

    async def command(self, command: str) -> str:
        await self.user.send_command(command)
        return await self._replies()

    async def say(self, text: str) -> str:
        await self.user.send_text(text)
        return await self._replies()

    async def press(self, label: str, *, contains: bool = False) -> str:
        keyboard = self.user.reply_buttons()
        match = [b for b in keyboard if b == label or (contains and label in b)]
        if match:
            await self.user.tap_reply_button(match[0])
        else:
            await self.user.press(label, contains=contains)
        return await self._replies()

    async def photos(self, count: int) -> str:
        await self.user.send_album(count)
        return await self._replies()

    async def location(self, lat: float, lon: float) -> str:
        await self.user.tap_reply_button(await self.location_label(), lat=lat, lon=lon)
        return await self._replies()

    async def location_label(self) -> str:
        return "📍 Отправить геопозицию" if self.user.language_code == "ru" else "📍 Send location"

    async def phone(self, number: str) -> str:
        # Telegram can share the account's own number with one tap.
        await self.user.tap_reply_button("📱 Поделиться номером", phone=number)
        return await self._replies()

    async def sticker(self) -> str:
        await self.user.send_sticker()
        return await self._replies()

    def buttons(self) -> list[str]:
        return [*self.user.inline_buttons(), *self.user.reply_buttons()]


@dataclass
class VkCitizen:
    user: FakeVkUser
    platform: str = "vk"
    last: list[str] = field(default_factory=list)

    @property
    def user_id(self) -> str:
        return str(self.user.user_id)

    async def _replies(self) -> str:
        messages = await self.user.replies()
        self.last = [label for m in messages for label in m.labels()]
        return _joined([m.text for m in messages])

    async def command(self, command: str) -> str:
        await self.user.send_command(command)
        return await self._replies()

    async def say(self, text: str) -> str:
        await self.user.send_text(text)
        return await self._replies()

    async def press(self, label: str, *, contains: bool = False) -> str:
        await self.user.press(label, contains=contains)
        return await self._replies()

    async def photos(self, count: int) -> str:
        await self.user.send_photos(count)
        return await self._replies()

    async def location(self, lat: float, lon: float) -> str:
        await self.user.tap_location(lat, lon)
        return await self._replies()

    async def phone(self, number: str) -> str:
        # VK has no contact sharing: the number is typed.
        await self.user.send_text(number)
        return await self._replies()

    async def sticker(self) -> str:
        await self.user.send_sticker()
        return await self._replies()

    def buttons(self) -> list[str]:
        return [*self.last, *self.user.keyboard_labels()]


class Messenger(Protocol):
    platform: str

    def citizen(self, number: int, lang: str = "ru") -> Citizen: ...
    def worker(self) -> OutboxWorker: ...


@dataclass
class TelegramMessenger:
    server: FakeTelegramServer
    app: App
    bot: Bot
    dispatcher: Dispatcher
    platform: str = "tg"

    def citizen(self, number: int, lang: str = "ru") -> TgCitizen:
        return TgCitizen(self.server.user(500 + number, language_code=lang))

    def worker(self) -> OutboxWorker:
        signer = callback_signer(self.server.token)
        return build_delivery(
            self.app, self.bot, signer, global_rate=1000.0, chat_rate=1000.0, group_rate=1000.0
        )


@dataclass
class VkMessenger:
    server: FakeVkServer
    app: App
    vk: VkSide
    photo_bot: Bot | None = None
    platform: str = "vk"

    def citizen(self, number: int, lang: str = "ru") -> VkCitizen:
        return VkCitizen(self.server.user(7000 + number, lang_id=VK_LANG_IDS[lang]))

    def worker(self) -> OutboxWorker:
        return build_vk_delivery(self.app, self.vk, photo_source(self.photo_bot))


@contextlib.asynccontextmanager
async def telegram(app: App) -> AsyncIterator[TelegramMessenger]:
    """Our Telegram wiring against a local Bot API server, polling for the block's duration."""
    async with FakeTelegramServer() as server:
        bot = build_bot(server.token, server.base_url)
        dispatcher = build_dispatcher(app, signer=callback_signer(server.token))
        async with running(server, app, dispatcher, bot):
            yield TelegramMessenger(server, app, bot, dispatcher)


@contextlib.asynccontextmanager
async def vk_long_poll(
    app: App, server: FakeVkServer, photo_bot: Bot | None = None
) -> AsyncIterator[VkMessenger]:
    """Our VK wiring against a local VK API server, long polling for the block's duration."""
    vk = await build_vk(app, server.token, server.base_url)
    stop = asyncio.Event()
    state_dir = tempfile.TemporaryDirectory()
    delivery = build_vk_delivery(app, vk, photo_source(photo_bot))
    async with processing(app, {"vk": vk.citizens.process}, [delivery]) as inbound:
        task = asyncio.create_task(
            poll_vk(vk.api, vk.group_id, app.inbound, state_dir.name, stop, wait=1, on_stored=inbound.wake)
        )
        try:
            # Entered once the long poll asked for its server, so no event is pushed before it listens.
            for _ in range(100):
                if any(call.method == "groups.getLongPollServer" for call in server.requests):
                    break
                await asyncio.sleep(0.05)
            yield VkMessenger(server, app, vk, photo_bot)
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
    await vk.close()
    state_dir.cleanup()


@contextlib.asynccontextmanager
async def vk(app: App) -> AsyncIterator[VkMessenger]:
    async with FakeVkServer() as server, vk_long_poll(app, server) as messenger:
        yield messenger


@contextlib.asynccontextmanager
async def messenger(platform: str, app: App) -> AsyncIterator[Messenger]:
    """The harness of one platform, by name."""
    if platform == "tg":
        async with telegram(app) as tg_messenger:
            yield tg_messenger
    else:
        async with vk(app) as vk_messenger:
            yield vk_messenger
