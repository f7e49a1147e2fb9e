"""Secrets and logs: webhook mode refuses weak secrets at start, a forged request is a 403 whatever
it carries, and no log line or stored error shows a token, a password or an SQL parameter."""

from __future__ import annotations

import asyncio
import io
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.app.vk import build_vk, vk_callback_handler
from bot.app.wiring import App
from bot.sandbox.telegram import FakeTelegramServer
from handlers.telegram.webhook import webhook_mount
from tests.harness.secrets import (
    DB_PASSWORD,
    GOOD_TG_SECRET,
    GOOD_VK_SECRET,
    TG_TOKEN,
    VK_TOKEN,
    install,
    log,
)
from tests.harness.telegram import make_bot

# ------------------------------------------------------------------ start-up refuses weak secrets


@pytest.fixture
def silent_port() -> Iterator[socket.socket]:
    """A listening socket standing in for the Bot API / VK API: nothing may connect to it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    yield listener
    listener.close()


def run_webhook(tmp_path: Path, port: int, **env: str) -> subprocess.CompletedProcess[str]:
    api = f"http://127.0.0.1:{port}"
    values = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'tsur.sqlite3'}",
        "TELEGRAM_API_URL": api,
        "VK_API_URL": api + "/method/",
        "WEB_PORT": "0",
        **env,
    }
    # Run from an empty directory so no developer's .env fills in what the test leaves out.
    return subprocess.run(
        [sys.executable, "-m", "bot", "run", "--webhook"],
        env=values,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


TELEGRAM = {"TELEGRAM_BOT_TOKEN": TG_TOKEN, "WEBHOOK_BASE_URL": "https://bot.example.org"}
VK = {"VK_BOT_TOKEN": VK_TOKEN, "VK_GROUP_ID": "42", "VK_CONFIRMATION_CODE": "a1b2c3d4"}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({**TELEGRAM}, "WEBHOOK_SECRET is not set or too short"),
        ({**TELEGRAM, "WEBHOOK_SECRET": ""}, "WEBHOOK_SECRET is not set or too short"),
        ({**TELEGRAM, "WEBHOOK_SECRET": "s3cret"}, "WEBHOOK_SECRET is not set or too short"),
        ({**TELEGRAM, "WEBHOOK_SECRET": "секретный-ключ-бота-2026"}, "WEBHOOK_SECRET is malformed"),
        ({**TELEGRAM, "WEBHOOK_SECRET": "has spaces in the secret"}, "WEBHOOK_SECRET is malformed"),
        ({**VK, "VK_CALLBACK_SECRET": "short1"}, "VK_CALLBACK_SECRET is not set or too short"),
        ({**VK}, "VK_CALLBACK_SECRET is not set or too short"),
        ({**VK, "VK_CALLBACK_SECRET": "with-dashes-and_underscores"}, "VK_CALLBACK_SECRET is malformed"),
        ({**VK, "VK_CALLBACK_SECRET": "a" * 51}, "VK_CALLBACK_SECRET is malformed"),
        (
            {**TELEGRAM, "WEBHOOK_SECRET": GOOD_TG_SECRET, **VK, "VK_CALLBACK_SECRET": "секретныйключ2026"},
            "VK_CALLBACK_SECRET is malformed",
        ),
    ],
)
def test_webhook_start_refuses_weak_secrets(
    tmp_path: Path, silent_port: socket.socket, env: dict[str, str], expected: str
) -> None:
    result = run_webhook(tmp_path, silent_port.getsockname()[1], **env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()], result.stderr
    assert expected in result.stderr
    # The check comes before anything: no API was asked, no database file was made.
    with pytest.raises(BlockingIOError):
        silent_port.accept()
    assert not (tmp_path / "tsur.sqlite3").exists()


# ------------------------------------------------------------------ forged webhook requests: 403


async def raw_post(port: int, path: str, header: bytes, body: bytes) -> int:
    """POST with a header of arbitrary bytes (clients refuse to send what Telegram's never would)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"POST " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + header + b"\r\n"
        b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n"
        b"Connection: close\r\n\r\n" + body
    )
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return int(status_line.split()[1])


async def serve(app: web.Application, port: int) -> web.AppRunner:
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


async def test_telegram_webhook_refuses_any_wrong_secret_with_403(
    sqlite_url: str, app_factory: Any, unused_tcp_port: int
) -> None:
    from bot.app.web import build_web_app

    app: App = await app_factory(sqlite_url, webhook_secret=GOOD_TG_SECRET)
    async with FakeTelegramServer() as server:
        bot = make_bot(server)
        mount = webhook_mount(app.inbound, app.settings.webhook_path, GOOD_TG_SECRET, lambda: None)
        runner = await serve(build_web_app(app, mounts=[mount]), unused_tcp_port)
        update = json.dumps({"update_id": 1}).encode()
        name = b"X-Telegram-Bot-Api-Secret-Token: "
        path = app.settings.webhook_path
        try:
            for forged in ("секрет".encode(), b"\xff\xfe-not-utf8", b"wrong", GOOD_TG_SECRET.encode()[:-1]):
                assert await raw_post(unused_tcp_port, path, name + forged, update) == 403, forged
            assert await raw_post(unused_tcp_port, path, b"X-Other: 1", update) == 403
            assert await raw_post(unused_tcp_port, path, name + GOOD_TG_SECRET.encode(), update) == 200
        finally:
            await runner.cleanup()
            await bot.session.close()


async def test_vk_callback_refuses_any_wrong_secret_with_403(
    sqlite_url: str, app_factory: Any, unused_tcp_port: int
) -> None:
    app: App = await app_factory(sqlite_url, vk_group_id=42)
    side = await build_vk(app, VK_TOKEN, f"http://127.0.0.1:{unused_tcp_port}/method/")
    web_app = web.Application()
    web_app.router.add_post(
        "/vk", vk_callback_handler(side, app.inbound, secret=GOOD_VK_SECRET, confirmation="a1b2")
    )
    runner = await serve(web_app, unused_tcp_port)
    try:
        for forged in ("секрет", "wrong", 12345, None, ["x"]):
            event = {"type": "message_new", "group_id": 42, "event_id": "e1", "secret": forged, "object": {}}
            body = json.dumps(event, ensure_ascii=False).encode()
            assert await raw_post(unused_tcp_port, "/vk", b"X-Probe: 1", body) == 403, forged
    finally:
        await runner.cleanup()
        await side.api.http_client.close()


# ------------------------------------------------------------------ logs and stored errors


async def test_download_error_logs_no_token(
    caplog: pytest.LogCaptureFixture, scrubbed_logs: io.StringIO
) -> None:
    install(scrubbed_logs)
    async with FakeTelegramServer() as server:
        bot = make_bot(server)
        try:
            await bot.download_file("photos/file_0.jpg")
        except Exception as error:
            assert server.token in str(error)  # aiogram's error carries the file URL
            log.exception("photo download failed")
            log.error("photo download failed: %s", error)
        else:
            raise AssertionError("the download should fail")
        finally:
            await bot.session.close()
    log.warning("VK answered %s", f"error 5 for access_token={VK_TOKEN}&v=5.199")
    log.warning("connecting to postgresql+asyncpg://tsur:%s@db:5432/tsur", DB_PASSWORD)
    secret_part = server.token.split(":", 1)[1]
    for text in (caplog.text, scrubbed_logs.getvalue()):
        assert "photo download failed" in text and "Traceback" in text
        assert "123456789:***" in text  # the bot id stays: it says which bot
        for secret in (secret_part, VK_TOKEN, DB_PASSWORD):
            assert secret not in text, text
