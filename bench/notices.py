"""Benchmark the notice delivery engine against local fake Telegram and VK API servers.

Usage: .venv/bin/python bench/notices.py [--recipients 100000] [--vk-share 0.4] [--limited-seconds 20]

Plans one notice for N subscribed citizens across both platforms, then:
1. with the real limits (Telegram 30 msg/s overall, VK 20 requests/s with up to 100 peer_ids each)
   runs the workers for a bounded time and prints the achieved rate as a ratio of the limit;
2. with the limits set very high, delivers everything and prints the engine's own ceiling.
Prints the time to plan the audience and the peak memory (RSS of this process, which also holds the
fake servers and every message they recorded). Only 127.0.0.1 is contacted; every loop is bounded.
Database: a temporary SQLite file, or DATABASE_URL when set (e.g. the PostgreSQL test database).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    # Run as a plain script, so the repository is not on the import path by itself.
    sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import insert, select, text, update  # noqa: E402

from bot.app.telegram import build_bot, build_delivery  # noqa: E402
from bot.app.vk import VkSide, build_vk, build_vk_delivery  # noqa: E402
from bot.app.wiring import App, build_app  # noqa: E402
from bot.core.clock import ShiftedClock  # noqa: E402
from bot.core.config import Settings  # noqa: E402
from bot.delivery.worker import OutboxWorker  # noqa: E402
from bot.sandbox.telegram import FakeTelegramServer  # noqa: E402
from bot.sandbox.vk import FakeVkServer  # noqa: E402
from bot.services.notices.content import Audience, NoticeDraft, NoticeKind  # noqa: E402
from handlers.telegram.callbacks import callback_signer  # noqa: E402
from storage.models import Citizen, Subscription  # noqa: E402

CHUNK = 5000


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_noon() -> datetime:
    """Today's noon in the oblast's time zone (where quiet hours are counted)."""
    local = datetime.now(ZoneInfo(Settings.model_fields["timezone"].default))
    return local.replace(hour=12, minute=0, second=0, microsecond=0)


async def seed_citizens(app: App, total: int, vk_share: float) -> None:
    """N consented citizens subscribed to Yekaterinburg; the first vk_share of them on VK."""
    now = app.services.clock.now()
    vk_count = int(total * vk_share)
    async with app.db.session() as session:
        for start in range(0, total, CHUNK):
            rows = [
                {
                    "platform": "vk" if i < vk_count else "tg",
                    # Telegram user ids of the fake are plain ints; VK peers too.
                    "platform_user_id": str(10_000_000 + i),
                    "language": "ru",
                    "consent_at": now,
                    "created_at": now,
                    "quiet_from": None,
                    "quiet_to": None,
                    "link_failures": 0,
                }
                for i in range(start, min(start + CHUNK, total))
            ]
            await session.execute(insert(Citizen), rows)
        # Said again: a bulk insert may fill a None from the column's default (22:00–08:00).
        await session.execute(update(Citizen).values(quiet_from=None, quiet_to=None))
        ids = list(await session.scalars(select(Citizen.id)))
        for start in range(0, len(ids), CHUNK):
            await session.execute(
                insert(Subscription),
                [
                    {"citizen_id": cid, "scope": "municipality", "value": "ekaterinburg", "created_at": now}
                    for cid in ids[start : start + CHUNK]
                ],
            )


async def sent_count(app: App, platform: str) -> int:
    async with app.db.session() as session:
        return int(
            await session.scalar(
                text("SELECT count(*) FROM outbox WHERE status = 'sent' AND platform = :p"), {"p": platform}
            )
            or 0
        )


async def measure_rates(
    app: App, vk: FakeVkServer, workers: list[OutboxWorker], seconds: float, warmup: float = 2.0
) -> dict[str, float]:
    """Sends per second while the workers run steadily: counted between two moments, not at stop."""
    stop = asyncio.Event()
    tasks = [asyncio.create_task(worker.run(stop)) for worker in workers]
    await asyncio.sleep(warmup)
    tg0, vk0, calls0 = await sent_count(app, "tg"), await sent_count(app, "vk"), vk_sends(vk)
    await asyncio.sleep(seconds)
    tg1, vk1, calls1 = await sent_count(app, "tg"), await sent_count(app, "vk"), vk_sends(vk)
    stop.set()
    await asyncio.gather(*tasks)
    return {
        "tg_rate": (tg1 - tg0) / seconds,
        "vk_rate": (vk1 - vk0) / seconds,
        "vk_call_rate": (calls1 - calls0) / seconds,
    }


def vk_sends(vk: FakeVkServer) -> int:
    return len([c for c in vk.requests if c.method == "messages.send" and c.error is None])


async def run_until_done(
    app: App, workers: list[OutboxWorker], counts: dict[str, int], limit_seconds: float
) -> dict[str, float]:
    """Run until every platform delivered its share; seconds each platform took."""
    stop = asyncio.Event()
    tasks = [asyncio.create_task(worker.run(stop)) for worker in workers]
    started = time.perf_counter()
    finished: dict[str, float] = {}
    try:
        while time.perf_counter() - started < limit_seconds and len(finished) < len(counts):
            await asyncio.sleep(0.25)
            for platform, total in counts.items():
                if platform not in finished and await sent_count(app, platform) >= total:
                    finished[platform] = time.perf_counter() - started
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    return finished


def settings_for(url: str, tg: FakeTelegramServer, vk: FakeVkServer, *, high: bool) -> Settings:
    values: dict[str, Any] = {
        "database_url": url,
        "redis_url": None,
        "telegram_bot_token": tg.token,
        "telegram_api_url": tg.base_url,
        "vk_bot_token": vk.token,
        "vk_api_url": vk.base_url,
        "vk_group_id": vk.group_id,
        "telegram_rate": 1_000_000.0 if high else 30.0,
        "telegram_chat_rate": 1_000_000.0 if high else 1.0,
        "vk_rate": 1_000_000.0 if high else 20.0,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def scenario(
    url: str, recipients: int, vk_share: float, *, high: bool, seconds: float
) -> dict[str, float]:
    vk_rate_limit = 1_000_000 if high else 20
    async with FakeTelegramServer() as tg, FakeVkServer(rate_limit=vk_rate_limit) as vk:
        # Noon in the oblast, whenever the bench runs: no recipient is inside their quiet hours.
        app = await build_app(settings_for(url, tg, vk, high=high), clock=ShiftedClock(bench_noon()))
        try:
            await seed_citizens(app, recipients, vk_share)
            # Telegram's fake answers only chats it knows: register the citizens as users.
            for i in range(int(recipients * vk_share), recipients):
                tg.user(10_000_000 + i)
            started = time.perf_counter()
            audience = Audience(municipalities=("ekaterinburg",))
            counted = await app.notices.count(audience)
            notice_id = await app.notices.plans.store(
                NoticeDraft(
                    NoticeKind.INFO, "Плановое отключение горячей воды 1 декабря с 9:00 до 18:00.", audience
                ),
                author="bench",
            )
            planned = await app.notices.plans.plan(notice_id)
            plan_seconds = time.perf_counter() - started
            assert counted == planned == recipients, (counted, planned)

            bot = build_bot(tg.token, tg.base_url)
            side: VkSide = await build_vk(app, vk.token)
            # One worker per platform, as the bot runs them.
            workers = [
                build_delivery(app, bot, callback_signer(tg.token)),
                build_vk_delivery(app, side, None),
            ]
            rates: dict[str, float] = {}
            vk_total = int(recipients * vk_share)
            if high:
                took = await run_until_done(
                    app, workers, {"tg": recipients - vk_total, "vk": vk_total}, limit_seconds=seconds
                )
                elapsed = max(took.values(), default=seconds)
                rates = {"tg_took": took.get("tg", seconds), "vk_took": took.get("vk", seconds)}
            else:
                rates = await measure_rates(app, vk, workers, seconds)
                elapsed = seconds
            tg_sent, vk_sent = await sent_count(app, "tg"), await sent_count(app, "vk")
            vk_calls = vk_sends(vk)
            await side.close()
            await bot.session.close()
        finally:
            await app.close()
    return {
        "plan_seconds": plan_seconds,
        "elapsed": elapsed,
        "tg_sent": tg_sent,
        "vk_sent": vk_sent,
        "vk_calls": vk_calls,
        "vk_max_rps": vk.max_rps,
        **rates,
    }


async def fresh_url(base: str | None, name: str) -> tuple[str, tempfile.TemporaryDirectory[str] | None]:
    if base:
        from tests.conftest import reset_postgres

        await reset_postgres(base)
        return base, None
    tmp = tempfile.TemporaryDirectory()
    return f"sqlite+aiosqlite:///{Path(tmp.name) / name}", tmp


async def main_async(args: argparse.Namespace) -> None:
    base = (
        os.environ.get("DATABASE_URL")
        if os.environ.get("DATABASE_URL", "").startswith("postgresql")
        else None
    )
    print(f"database: {'PostgreSQL' if base else 'SQLite (temporary file)'}; recipients: {args.recipients}")

    url, tmp = await fresh_url(base, "limited.sqlite3")
    limited = await scenario(url, args.recipients, args.vk_share, high=False, seconds=args.limited_seconds)
    if tmp:
        tmp.cleanup()
    tg_rate = limited["tg_rate"]
    vk_req_rate = limited["vk_call_rate"]
    print(f"plan audience + queue {args.recipients} deliveries: {limited['plan_seconds']:.2f} s")
    print(
        f"limited run ({limited['elapsed']:.0f} s): "
        f"Telegram {tg_rate:.1f} msg/s = {tg_rate / 30:.2f} of 30/s; "
        f"VK {vk_req_rate:.1f} requests/s = {vk_req_rate / 20:.2f} of 20/s "
        f"({limited['vk_rate']:.0f} msg/s with 100 peer_ids per call; "
        f"busiest second at the fake: {limited['vk_max_rps']:.0f} requests)"
    )

    url, tmp = await fresh_url(base, "ceiling.sqlite3")
    high = await scenario(url, args.recipients, args.vk_share, high=True, seconds=args.ceiling_seconds)
    if tmp:
        tmp.cleanup()
    total = high["tg_sent"] + high["vk_sent"]
    print(
        f"ceiling run: {total:.0f} of {args.recipients} delivered in {high['elapsed']:.1f} s = "
        f"{total / high['elapsed']:.0f} msg/s (Telegram {high['tg_sent']:.0f} in {high['tg_took']:.1f} s = "
        f"{high['tg_sent'] / high['tg_took']:.0f} msg/s; "
        f"VK {high['vk_sent']:.0f} in {high['vk_took']:.1f} s = "
        f"{high['vk_sent'] / high['vk_took']:.0f} msg/s in {high['vk_calls']:.0f} calls)"
    )
    print(f"peak memory (RSS, incl. the fake servers and their records): {peak_rss_mb():.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--vk-share", type=float, default=0.4)
    parser.add_argument("--limited-seconds", type=float, default=20.0)
    parser.add_argument("--ceiling-seconds", type=float, default=900.0, help="upper bound for the full run")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
