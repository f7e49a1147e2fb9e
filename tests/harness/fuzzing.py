"""The fuzz rig: generated Telegram updates and VK events (tests/harness/fuzz.py) sent through the
real webhook receivers into the inbound queue, processed by aiogram / vkbottle and our dialogs,
answers delivered to the sandbox servers. What it checks for each one:

- the receiver answers 200 (stored) or 400 (not an update at all), never a 5xx or a crash;
- processing ends `done`, or `dead` as unprocessable (not valid for its platform), never with a
  handler's exception (a bug);
- a valid message or button press in a private chat is answered (a reply is queued for it).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import select

from bot.app.telegram import build_bot, build_delivery, build_dispatcher
from bot.app.vk import VkSide, build_vk, build_vk_delivery, vk_callback_handler
from bot.app.wiring import App, build_app
from bot.delivery.worker import OutboxWorker
from bot.inbound.worker import InboundWorker
from bot.sandbox.telegram import FakeTelegramServer
from bot.sandbox.vk import FakeVkServer
from handlers.telegram.callbacks import callback_signer
from handlers.telegram.inbound import TelegramUpdates
from handlers.telegram.webhook import webhook_receiver
from storage.models import InboundUpdate, OutboxMessage
from tests.harness.faults import Outcome
from tests.harness.fleet import WEBHOOK_SECRET, free_port
from tests.harness.fuzz import VK_GROUP_ID, Fuzzed
from tests.harness.settings import make_settings

VK_SECRET = "fuzzsecret0123456789"
# Kinds a citizen's bot must answer when valid (the rest — edits, membership, typing — need none).
ANSWERED_TELEGRAM = ("text", "command", "photo", "location", "contact", "sticker", "voice", "unknown_media")
ANSWERED_VK = ("message_new/",)


@dataclass
class Verdicts:
    """What the rig saw, one word per generated item: ok, refused, unprocessable, unanswered, unhandled…"""

    seen: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class FuzzRig:
    app: App
    telegram: FakeTelegramServer
    vk_server: FakeVkServer
    vk: VkSide
    inbound: InboundWorker
    deliveries: list[OutboxWorker]
    tg_url: str
    vk_url: str
    http: aiohttp.ClientSession
    verdicts: Verdicts = field(default_factory=Verdicts)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _renumbered(self, fuzzed: Fuzzed) -> tuple[Any, str | None]:
        """The payload with a fresh id (hypothesis repeats ids), and its queue key."""
        payload = fuzzed.payload
        if not isinstance(payload, dict):
            return payload, None
        payload = dict(payload)
        number = next(self._ids)
        if fuzzed.kind.startswith(("message_", "unknown_event")) or "group_id" in payload:
            if isinstance(payload.get("event_id"), str) or "event_id" not in payload:
                payload["event_id"] = f"fuzz{number}"
            payload["secret"] = VK_SECRET
            return payload, f"vk:fuzz{number}" if isinstance(payload.get("event_id"), str) else None
        if isinstance(payload.get("update_id"), int) and not isinstance(payload.get("update_id"), bool):
            payload["update_id"] = number
            return payload, f"tg:{number}"
        return payload, None

    async def check(self, fuzzed: Fuzzed, platform: str) -> str:
        """Send one item through its platform's receiver and processing; the verdict word."""
        payload, key = self._renumbered(fuzzed)
        url = self.tg_url if platform == "tg" else self.vk_url
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET} if platform == "tg" else {}
        async with self.http.post(url, data=json.dumps(payload), headers=headers) as response:
            status = response.status
        if status >= 500:
            return self._problem(fuzzed, f"the receiver answered {status}")
        if status != 200:
            return self._verdict(
                "refused" if not fuzzed.valid else self._problem(fuzzed, f"refused {status}")
            )
        row, reply = None, None
        for _ in range(3):
            await self.inbound.run_once()
            for delivery in self.deliveries:
                await delivery.run_once()
            if key is None:
                return self._verdict("stored")
            async with self.app.db.session() as session:
                row = await session.scalar(select(InboundUpdate).where(InboundUpdate.key == key))
                reply = await session.scalar(
                    select(OutboxMessage.id).where(OutboxMessage.idempotency_key == f"reply:{key}")
                )
            if row is None or row.status != "pending" or row.album is None:
                break
            # A photo of an album waits until no other photo of it came for a while.
            await asyncio.sleep(self.app.settings.album_wait_seconds + 0.05)
        if row is None:
            return self._problem(fuzzed, "stored update missing")
        if row.status == "dead" and not (row.last_error or "").startswith("unprocessable"):
            return self._problem(fuzzed, f"unhandled {row.last_error}")
        if row.status == "pending":
            return self._problem(
                fuzzed, f"still pending ({row.conversation}, album {row.album}, due {row.next_attempt_at})"
            )
        if row.status == "dead":
            return self._verdict("unprocessable")
        if fuzzed.valid and self._must_answer(fuzzed, platform) and reply is None:
            return self._problem(fuzzed, "valid but unanswered")
        return self._verdict("ok")

    @staticmethod
    def _must_answer(fuzzed: Fuzzed, platform: str) -> bool:
        if platform == "tg":
            return fuzzed.kind in ANSWERED_TELEGRAM
        return fuzzed.kind.startswith(ANSWERED_VK)

    def _verdict(self, word: str) -> str:
        self.verdicts.seen.append(word)
        return word

    def _problem(self, fuzzed: Fuzzed, what: str) -> str:
        self.verdicts.problems.append(f"{fuzzed.kind} ({fuzzed.defect or 'valid'}): {what}")
        word = "unhandled" if what.startswith("unhandled") else "problem"
        self.verdicts.seen.append(word)
        return word


@contextlib.asynccontextmanager
async def fuzz_rig(database_url: str) -> AsyncIterator[FuzzRig]:
    """An App, the two sandbox servers, both receivers on 127.0.0.1 and the processing, in-process."""
    settings = make_settings(
        database_url, webhook_secret=WEBHOOK_SECRET, vk_group_id=VK_GROUP_ID, vk_callback_secret=VK_SECRET
    )
    app = await build_app(settings, retry_delays=(0.0,))
    async with FakeTelegramServer() as telegram, FakeVkServer() as vk_server, aiohttp.ClientSession() as http:
        bot = build_bot(telegram.token, telegram.base_url)
        signer = callback_signer(telegram.token)
        dispatcher = build_dispatcher(app, signer=signer)
        vk = await build_vk(app, vk_server.token, vk_server.base_url)
        inbound = InboundWorker(
            app.inbound,
            {"tg": TelegramUpdates(dispatcher, bot), "vk": vk.citizens.process},
            album_quiet=timedelta(seconds=settings.album_wait_seconds),
        )
        deliveries = [
            build_delivery(app, bot, signer, global_rate=1000.0, chat_rate=1000.0, group_rate=1000.0),
            build_vk_delivery(app, vk, None),
        ]
        web_app = web.Application()
        web_app.router.add_post("/tg", webhook_receiver(app.inbound, WEBHOOK_SECRET))  # type: ignore[arg-type]
        web_app.router.add_post(
            "/vk", vk_callback_handler(vk, app.inbound, secret=VK_SECRET, confirmation="c0de")
        )
        runner = web.AppRunner(web_app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            yield FuzzRig(
                app, telegram, vk_server, vk, inbound, deliveries,
                f"http://127.0.0.1:{port}/tg", f"http://127.0.0.1:{port}/vk", http,
            )  # fmt: skip
        finally:
            await runner.cleanup()
            await vk.close()
            await bot.session.close()
            await app.close()


async def fuzz_trial(database_url: str, examples: int) -> Outcome:
    """`examples` generated items, half Telegram and half VK (the bench's way: `.example()` draws)."""
    import warnings

    from hypothesis.errors import NonInteractiveExampleWarning

    from tests.harness.fuzz import telegram_updates, vk_events

    outcome = Outcome("fuzzed updates", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonInteractiveExampleWarning)
        async with fuzz_rig(database_url) as rig:
            for number in range(examples):
                platform = "tg" if number % 2 == 0 else "vk"
                fuzzed = (telegram_updates() if platform == "tg" else vk_events()).example()
                await rig.check(fuzzed, platform)
            outcome.citizens = examples
            outcome.reports = rig.verdicts.seen.count("ok")
            outcome.lost = sum(1 for p in rig.verdicts.problems if "unanswered" in p or "missing" in p)
            outcome.phases = list(rig.verdicts.seen)
            for problem in rig.verdicts.problems[:20]:
                print("  fuzz:", problem)
    return outcome
