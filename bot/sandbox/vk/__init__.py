"""The local VK API server (community bot side) and the people a test acts as."""

from bot.sandbox.vk.drivers import FakeVkUser
from bot.sandbox.vk.records import (
    API_VERSION,
    DEFAULT_GROUP_ID,
    DEFAULT_TOKEN,
    VkApiCall,
    VkSentMessage,
    tiny_jpeg,
)
from bot.sandbox.vk.server import FakeVkServer

__all__ = [
    "API_VERSION",
    "DEFAULT_GROUP_ID",
    "DEFAULT_TOKEN",
    "FakeVkServer",
    "FakeVkUser",
    "VkApiCall",
    "VkSentMessage",
    "tiny_jpeg",
]
