"""The local Telegram Bot API server and the people and chats a test acts as."""

from bot.sandbox.telegram.drivers import GROUP_ANONYMOUS_BOT, FakeChat, FakeUser
from bot.sandbox.telegram.errors import DEFAULT_TOKEN
from bot.sandbox.telegram.records import ApiCall, SentMessage, UploadedFile
from bot.sandbox.telegram.server import FakeTelegramServer

__all__ = [
    "DEFAULT_TOKEN",
    "GROUP_ANONYMOUS_BOT",
    "ApiCall",
    "FakeChat",
    "FakeTelegramServer",
    "FakeUser",
    "SentMessage",
    "UploadedFile",
]
