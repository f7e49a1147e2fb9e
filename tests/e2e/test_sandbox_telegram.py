"""Self-tests of the Telegram sandbox, driven by the real aiogram Bot and Dispatcher."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.methods import SendMessage
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.sandbox.telegram import FakeTelegramServer
from tests.harness.telegram import aiogram_polling, make_bot

USER_ID = 1001


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    """A started fake server."""
    async with FakeTelegramServer() as srv:
        yield srv


@pytest.fixture
async def bot(server: FakeTelegramServer) -> AsyncIterator[Bot]:
    """A real aiogram Bot pointed at the fake server."""
    bot = make_bot(server)
    yield bot
    await bot.session.close()


def _demo_router() -> Router:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(text="Да", callback_data="vote:yes"),
                    InlineKeyboardButton(text="Нет", callback_data="vote:no"),
                ]
            ]
        )
        await message.answer("Голосуем?", reply_markup=keyboard)

    @router.callback_query(F.data.startswith("vote:"))
    async def vote(callback: CallbackQuery) -> None:
        assert isinstance(callback.message, Message)
        await callback.message.edit_text(f"Вы выбрали: {callback.data}")
        await callback.answer("Принято")

    @router.message(F.photo)
    async def photo(message: Message) -> None:
        await message.answer(f"Фото {message.media_group_id}")

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"Эхо: {message.text}")

    return router


async def test_get_me(server: FakeTelegramServer, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (server.bot_id, server.bot_username, True)
    assert [c.method for c in server.calls] == ["getMe"]


async def test_polling_echo_and_inline_button_round_trip(server: FakeTelegramServer, bot: Bot) -> None:
    dp = Dispatcher()
    dp.include_router(_demo_router())
    user = server.user(USER_ID)
    async with aiogram_polling(server, dp, bot):
        await user.send_text("привет")
        replies = await user.replies(settle=0.05)
        assert [r.text for r in replies] == ["Эхо: привет"]
        call = await server.wait_for(lambda c: c.method == "sendMessage")
        assert call.params["chat_id"] == USER_ID  # decoded back to int
        assert call.params["text"] == "Эхо: привет"

        await user.send_command("/start")
        (menu,) = await user.replies(settle=0.05)
        assert user.inline_buttons() == ["Да", "Нет"]
        assert menu.reply_markup is not None
        assert menu.reply_markup["inline_keyboard"][0][0]["callback_data"] == "vote:yes"

        await user.press("Да")
        (edited,) = await user.replies(settle=0.05)
    assert edited.message_id == menu.message_id
    assert edited.text == "Вы выбрали: vote:yes"
    assert edited.edits == ["Голосуем?"]
    assert edited.reply_markup is None  # editMessageText without reply_markup drops the keyboard
    assert server.calls_of("answerCallbackQuery")[0].params["text"] == "Принято"
    assert server.unanswered_callbacks() == []
    assert [m.text for m in server.sent_to(USER_ID)] == ["Эхо: привет", "Вы выбрали: vote:yes"]


async def test_album_arrives_as_updates_sharing_media_group_id(server: FakeTelegramServer, bot: Bot) -> None:
    dp = Dispatcher()
    seen: list[Message] = []

    @dp.message(F.photo)
    async def collect(message: Message) -> None:
        seen.append(message)

    user = server.user(USER_ID)
    async with aiogram_polling(server, dp, bot):
        update_ids = await user.send_album(3)
        await server.wait_for(lambda c: c.method == "getUpdates" and len(c.result or []) > 0)
        for _ in range(100):
            if len(seen) == 3:
                break
            await asyncio.sleep(0.01)
    assert update_ids == sorted(update_ids) and len(set(update_ids)) == 3
    assert len(seen) == 3
    assert len({m.media_group_id for m in seen}) == 1 and seen[0].media_group_id is not None
    assert all(m.photo and len(m.photo) == 3 for m in seen)


async def test_limits_are_enforced(server: FakeTelegramServer, bot: Bot) -> None:
    user = server.user(USER_ID)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(user.id, "я" * 4097)
    assert (await bot.send_message(user.id, "я" * 4096)).message_id == 1
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(user.id, "   ")
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        button = InlineKeyboardButton(text="x", callback_data="x" * 65)
        await bot.send_message(user.id, "hi", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]]))
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(42, "hi")
    photo = BufferedInputFile(b"\xff\xd8" + b"0" * 2000, filename="p.jpg")
    with pytest.raises(TelegramBadRequest, match="caption is too long"):
        await bot.send_photo(user.id, photo, caption="c" * 1025)
    with pytest.raises(TelegramBadRequest):
        await bot.send_media_group(user.id, media=[InputMediaPhoto(media=photo)])
    sent = await bot.send_photo(user.id, photo, caption="жирный")
    upload = next(iter(server.calls[-1].files.values()))
    assert (upload.size, sent.caption) == (2002, "жирный")
    assert sent.photo is not None and server.sent_to(user.id)[-1].photos == [sent.photo[-1].file_id]
    file = await bot.get_file(sent.photo[-1].file_id)
    assert file.file_path is not None
    assert (await bot.download_file(file.file_path)) is not None
    album = await bot.send_media_group(user.id, media=[InputMediaPhoto(media=photo) for _ in range(2)])
    assert [m.message_id for m in album] == [3, 4] and album[0].media_group_id == album[1].media_group_id
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(chat_id=user.id, message_id=1, text="я" * 4096)
    user.block()
    with pytest.raises(TelegramForbiddenError, match="blocked"):
        await bot.send_message(user.id, "hi")


async def test_fail_next_429_surfaces_as_retry_after(server: FakeTelegramServer, bot: Bot) -> None:
    user = server.user(USER_ID)
    server.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    with pytest.raises(TelegramRetryAfter) as excinfo:
        await bot.send_message(user.id, "hi")
    assert excinfo.value.retry_after == 1
    assert (await bot.send_message(user.id, "hi")).text == "hi"
    assert [c.ok for c in server.calls] == [False, True]


async def test_wrong_token_is_unauthorized(server: FakeTelegramServer) -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
    intruder = Bot("987654321:AAWrongTokenWrongTokenWrongToken_xyz", session=session)
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await intruder.get_me()
    finally:
        await session.close()
    assert server.calls == []


async def test_forum_topics_and_reply_keyboard(server: FakeTelegramServer, bot: Bot) -> None:
    operators = server.group(-1001234567890, "Операторы")
    topic = await bot.create_forum_topic(operators.id, "Обращение №1")
    await bot.send_message(operators.id, "Новое обращение", message_thread_id=topic.message_thread_id)
    assert operators.topics() == {topic.message_thread_id: "Обращение №1"}
    assert server.sent_to(operators.id)[-1].message_thread_id == topic.message_thread_id
    await bot.close_forum_topic(operators.id, topic.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="TOPIC_CLOSED"):
        await bot.send_message(operators.id, "ещё", message_thread_id=topic.message_thread_id)

    user = server.user(USER_ID)
    keyboard = ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text="📍 Геопозиция", request_location=True), KeyboardButton(text="Отмена")]
        ]
    )
    await bot.send_message(user.id, "Где проблема?", reply_markup=keyboard)
    assert user.reply_buttons() == ["📍 Геопозиция", "Отмена"]
    await user.tap_reply_button("📍 Геопозиция", lat=55.0, lon=37.0)
    assert server.pending_updates() == 1


async def test_webhook_delivery_and_reply_in_webhook_response(server: FakeTelegramServer, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message()
    async def answer(message: Message) -> SendMessage:
        return message.answer(f"webhook: {message.text}")

    app = web.Application()
    SimpleRequestHandler(dp, bot, handle_in_background=False, secret_token="s3cret").register(app, "/wh")
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/wh"
    try:
        user = server.user(USER_ID)
        server.deliver_via_webhook(url, "s3cret")
        await user.send_text("ping")
        (reply,) = await user.replies(settle=0.05)
        assert reply.text == "webhook: ping"
        assert server.calls[-1].via_webhook_reply
        assert await server.post_webhook(url, {"message": {}}, secret="wrong") == 401
    finally:
        await runner.cleanup()
