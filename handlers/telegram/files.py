"""Photo bytes for other platforms: a Telegram file id is downloaded through the Bot API, a URL fetched."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
from aiogram import Bot

# Telegram's own limit for photos a bot downloads; also a bound on what we keep in memory.
MAX_PHOTO_BYTES = 20 * 1024 * 1024


async def fetch_url(url: str) -> bytes:
    """GET a photo by URL (VK photo links, for example), refusing oversized bodies."""
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as response:
        response.raise_for_status()
        data = await response.content.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise ValueError(f"photo larger than {MAX_PHOTO_BYTES} bytes")
    return data


def photo_source(bot: Bot | None) -> Callable[[str], Awaitable[bytes]]:
    """Bytes of a photo reference: an http(s) URL, or a Telegram file id when a bot is given."""

    async def fetch(ref: str) -> bytes:
        if ref.startswith(("http://", "https://")):
            return await fetch_url(ref)
        if bot is None:
            raise ValueError("a Telegram photo, but no Telegram bot is configured")
        buffer = await bot.download(ref)
        if buffer is None:
            raise ValueError(f"Telegram returned no file for {ref!r}")
        return buffer.read()

    return fetch
