"""A webhook past its backlog: more stored than the workers keep up with is answered 503 with
Retry-After, so Telegram redelivers later, and taken again once the queue drains."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp import web

from bot.app.web import build_web_app
from bot.app.wiring import App
from handlers.telegram.webhook import webhook_mount

SECRET = "backpressure-secret-0123456789"


def _update(update_id: int) -> dict[str, Any]:
    chat = {"id": 600 + update_id, "type": "private", "first_name": "Иван"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": chat,
            "from": {"id": chat["id"], "is_bot": False, "first_name": "Иван"},
            "text": "/help",
        },
    }


async def test_past_its_backlog_the_webhook_answers_503_and_takes_the_update_once_drained(
    sqlite_url: str, app_factory: Any, unused_tcp_port: int
) -> None:
    app: App = await app_factory(sqlite_url, webhook_secret=SECRET, inbound_backlog_limit=2)
    mount = webhook_mount(app.inbound, app.settings.webhook_path, SECRET, lambda: None)
    runner = web.AppRunner(build_web_app(app, mounts=[mount]))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    url = f"http://127.0.0.1:{unused_tcp_port}{app.settings.webhook_path}"
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    try:
        async with aiohttp.ClientSession() as client:

            async def post(update_id: int) -> tuple[int, str | None]:
                async with client.post(url, json=_update(update_id), headers=headers) as response:
                    return response.status, response.headers.get("Retry-After")

            # No worker runs: two updates wait, the third finds the queue full.
            assert await post(1) == (200, None)
            assert await post(2) == (200, None)
            assert await post(3) == (503, "1")
            assert await app.inbound.status_of("tg:3") is None
            # The workers catch up; within the next count of the backlog the update is taken.
            for item in await app.inbound.claim(["tg"], limit=10, album_quiet=timedelta(seconds=1)):
                await app.inbound.finish(item)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 5.0
            while (status := await post(3))[0] != 200:
                assert status == (503, "1") and loop.time() < deadline
                await asyncio.sleep(0.1)
            assert await app.inbound.status_of("tg:3") == "pending"
            assert await app.inbound.backlog() == 1
    finally:
        await runner.cleanup()
