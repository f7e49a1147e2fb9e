"""Secrets and logs: webhook mode refuses weak secrets at start, a forged request is a 403 whatever
it carries, and no log line or stored error shows a token, a password or an SQL parameter."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.app.runtime import check_settings
from bot.app.telegram import build_dispatcher
from bot.app.vk import build_vk, vk_callback_handler
from bot.app.wiring import App
from bot.core.config import ConfigError
from bot.core.messages import Text, View
from bot.core.redaction import RedactingFilter, forget_secrets, redact, setup_logging
from bot.delivery.outbox import Delivery, Failed, Kind, Outcome, Unreachable, enqueue, envelope
from bot.sandbox.telegram import FakeTelegramServer
from handlers.telegram.callbacks import callback_signer
from storage.models import OutboxMessage, Report
from tests.harness.settings import START, make_settings
from tests.harness.telegram import make_bot

TG_TOKEN = "123456789:" + "A" * 35
VK_TOKEN = "vk1.a." + "Zq9" * 30
GOOD_TG_SECRET = "tsur-webhook_secret-2026"
GOOD_VK_SECRET = "tsurCallbackSecret2026"
PHONE = "+79120000001"
DB_PASSWORD = "hunter2-pass"

log = logging.getLogger("tests.secrets")


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


def test_polling_needs_no_secrets(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'tsur.sqlite3'}"
    settings = make_settings(url, telegram_bot_token=TG_TOKEN, vk_bot_token=VK_TOKEN)
    assert check_settings(settings, webhook=False) == (TG_TOKEN, VK_TOKEN)
    with pytest.raises(ConfigError, match="WEBHOOK_BASE_URL"):
        check_settings(settings, webhook=True)
    good = make_settings(
        url,
        telegram_bot_token=TG_TOKEN,
        vk_bot_token=VK_TOKEN,
        webhook_base_url="https://bot.example.org",
        webhook_secret=GOOD_TG_SECRET,
        vk_callback_secret=GOOD_VK_SECRET,
        vk_confirmation_code="a1b2c3d4",
    )
    assert check_settings(good, webhook=True) == (TG_TOKEN, VK_TOKEN)


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
        dispatcher = build_dispatcher(app, skip_repeats=True, signer=callback_signer(server.token))
        runner = await serve(build_web_app(app, bot, dispatcher), unused_tcp_port)
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
    web_app.router.add_post("/vk", vk_callback_handler(side, secret=GOOD_VK_SECRET, confirmation="a1b2"))
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


@pytest.fixture
def scrubbed_logs() -> Iterator[io.StringIO]:
    """The stream our logging setup writes to; the setup itself is undone afterwards."""
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    yield stream
    for handler in list(root.handlers):
        if getattr(handler, "stream", None) is stream:
            root.removeHandler(handler)
        for found in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(found)
    root.setLevel(level)
    forget_secrets()


def install(stream: io.StringIO) -> None:
    # Inside the test body: pytest's caplog handler for this phase is on the root logger by now.
    setup_logging("INFO", stream=stream, secrets=[VK_TOKEN, GOOD_TG_SECRET])


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


async def test_sql_error_logs_no_parameters(
    database_url: str, app_factory: Any, caplog: pytest.LogCaptureFixture, scrubbed_logs: io.StringIO
) -> None:
    install(scrubbed_logs)
    app: App = await app_factory(database_url)
    body = app.services.catalog.route("housing", "ekaterinburg")

    def report() -> Report:
        return Report(
            intake_key="draft-ivan-petrov",
            platform="tg",
            text="Нет света, звоните Ивану Петрову",
            sector_id="housing",
            body_id=body,
            status="routed",
            phone=PHONE,
            language="ru",
            first_reaction_due=START,
            answer_due=START + timedelta(days=7),
        )

    async with app.db.session() as session:
        session.add(report())
    with pytest.raises(IntegrityError):
        try:
            async with app.db.session() as session:
                session.add(report())
        except IntegrityError:
            log.exception("filing failed")
            raise
    for text in (caplog.text, scrubbed_logs.getvalue()):
        assert "filing failed" in text and "IntegrityError" in text
        for value in (PHONE, "79120000001", "draft-ivan-petrov", "Ивану Петрову"):
            assert value not in text, text


class FailingMessenger:
    """Telegram answering like a broken network: the error text holds the file URL with the token."""

    platform = "tg"

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome

    async def deliver(self, delivery: Delivery) -> Outcome:
        return self.outcome


@pytest.mark.parametrize(
    "outcome",
    [
        Failed(f"ClientResponseError: 404, url='https://api.telegram.org/file/bot{TG_TOKEN}/photos/1.jpg'"),
        Unreachable(f"Forbidden at https://api.telegram.org/bot{TG_TOKEN}/sendMessage"),
    ],
)
async def test_outbox_stores_errors_without_tokens(
    sqlite_url: str, app_factory: Any, outcome: Outcome
) -> None:
    app: App = await app_factory(sqlite_url)
    async with app.db.session() as session:
        await enqueue(
            session,
            key="k1",
            platform="tg",
            kind=Kind.DIRECT,
            target="700",
            payload=envelope([View((Text("op-card"),))], "ru"),
            now=app.services.clock.now(),
        )
    await app.outbox_worker({"tg": FailingMessenger(outcome)}).run_once()
    async with app.db.session() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row is not None and row.last_error is not None
    assert TG_TOKEN not in row.last_error and "123456789:***" in row.last_error


def test_redact() -> None:
    assert (
        redact(f"https://api.telegram.org/file/bot{TG_TOKEN}/x")
        == "https://api.telegram.org/file/bot123456789:***/x"
    )
    assert redact("redis://:pa55word@cache:6379/0") == "redis://:***@cache:6379/0"
    assert (
        redact("postgresql+asyncpg://postgres@127.0.0.1:5432/test")
        == "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    )
    assert redact("DETAIL:  Key (phone)=(+79120000001) already exists.\nnext") == "DETAIL: ***\nnext"
    assert redact("http://127.0.0.1:8080/healthz at 12:30:45") == "http://127.0.0.1:8080/healthz at 12:30:45"
