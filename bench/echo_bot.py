"""The yardstick of bench/intake.py: a bare aiogram bot on the same webhook, with nothing behind it.

A message is answered with its text and one inline button; a press is answered (the spinner) and
followed by a new message with a button, as a dialog step would be. No storage, no queue, no
outbox: what aiogram and aiohttp cost on this machine for the same scripted citizens.

Usage (started by bench/intake.py): python bench/echo_bot.py PORT  (TELEGRAM_BOT_TOKEN,
TELEGRAM_API_URL, WEBHOOK_SECRET and WEBHOOK_PATH from the environment; listens on 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import os
import sys

from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

NEXT = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Дальше", callback_data="next")]])


async def main(port: int) -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"]))
    bot = Bot(os.environ["TELEGRAM_BOT_TOKEN"], session=session)
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "✓", reply_markup=NEXT)

    @dispatcher.callback_query(F.data == "next")
    async def pressed(query: CallbackQuery) -> None:
        await query.answer()
        await bot.send_message(query.from_user.id, "Дальше", reply_markup=NEXT)

    app = web.Application()
    SimpleRequestHandler(dispatcher, bot, secret_token=os.environ["WEBHOOK_SECRET"]).register(
        app, path=os.environ["WEBHOOK_PATH"]
    )
    app.router.add_get("/healthz", lambda _request: web.json_response({"status": "ok"}))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        await bot.session.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
