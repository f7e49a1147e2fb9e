"""The Telegram side of the wiring: Bot, Dispatcher with one Router per audience, middlewares."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import BotCommand, TelegramObject, Update

from bot.app import App
from handlers.telegram.citizen import AlbumGatherer, citizen_router
from storage.state import UpdateLog

COMMANDS_RU = [
    BotCommand(command="report", description="Сообщить о проблеме"),
    BotCommand(command="my", description="Мои обращения"),
    BotCommand(command="language", description="Язык / Language"),
    BotCommand(command="help", description="Помощь"),
    BotCommand(command="cancel", description="Отменить"),
]
COMMANDS_EN = [
    BotCommand(command="report", description="Report a problem"),
    BotCommand(command="my", description="My reports"),
    BotCommand(command="language", description="Language"),
    BotCommand(command="help", description="Help"),
    BotCommand(command="cancel", description="Cancel"),
]


class SkipRepeatedUpdates(BaseMiddleware):
    """Telegram redelivers a webhook update it got no 2xx for; each update_id is handled once."""

    def __init__(self, update_log: UpdateLog) -> None:
        self._log = update_log

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(event, Update) and not await self._log.first_time(f"tg:{event.update_id}"):
            return None
        return await handler(event, data)


def build_bot(token: str, api_url: str | None) -> Bot:
    """A Bot talking to api.telegram.org, or to `api_url` (self-hosted or test Bot API server)."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url)) if api_url else AiohttpSession()
    return Bot(token, session=session)


def build_dispatcher(app: App, *, skip_repeats: bool) -> Dispatcher:
    """Routers per audience; services reach handlers as workflow data, not globals."""
    dispatcher = Dispatcher(
        runner=app.runner,
        translator=app.services.translator,
        albums=AlbumGatherer(app.settings.album_wait_seconds),
    )
    if skip_repeats:
        dispatcher.update.outer_middleware(SkipRepeatedUpdates(app.update_log))
    dispatcher.include_routers(citizen_router())
    return dispatcher


async def publish_commands(bot: Bot) -> None:
    """The command menu Telegram shows, per language."""
    await bot.set_my_commands(COMMANDS_RU)
    await bot.set_my_commands(COMMANDS_EN, language_code="en")
