"""Benchmark delivery while one group chat is paced: do answers and notices wait behind it?

Usage: .venv/bin/python bench/lanes.py [--seconds 60] [--follow-ups 40] [--recipients 3000] [--no-wake]

One citizen's follow-ups go into a report's topic of a body's forum chat, which Telegram paces at 20
messages a minute; at the same time an emergency notice (quiet hours hold no copy back, whatever
the hour) goes out to `--recipients` citizens and, once a second, an operator's answer is queued for
another citizen. The real Telegram messenger (30 messages/s overall, 1/s per private chat, 20/min
per group) runs against the local fake Bot API server on 127.0.0.1 for `--seconds`, and the bench
prints the answers' latency (queued → sent), the notice rate as a share of 30/s, how many
follow-ups went into the topic and how long the worker took to stop. The worker is woken after each
answer is queued when it has `wake()` (one without it finds the answer on its next poll).
Database: a temporary SQLite file, or DATABASE_URL when set (the PostgreSQL database is emptied).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    # Run as a plain script, so the repository is not on the import path by itself.
    sys.path.insert(0, str(REPO_ROOT))

from bench.notices import fresh_url, seed_citizens  # noqa: E402
from bot.app.telegram import build_bot  # noqa: E402
from bot.app.wiring import App, build_app  # noqa: E402
from bot.core.config import Settings  # noqa: E402
from bot.core.messages import Text, View  # noqa: E402
from bot.delivery.outbox import Kind, enqueue, envelope  # noqa: E402
from bot.delivery.ports import Delivery, Messenger, Outcome, Sent  # noqa: E402
from bot.delivery.postbox import ChatThread  # noqa: E402
from bot.sandbox.telegram import FakeTelegramServer  # noqa: E402
from bot.services.notices.content import Audience, NoticeDraft, NoticeKind  # noqa: E402
from handlers.telegram.messenger import TelegramMessenger  # noqa: E402

GROUP_CHAT = -1_001_234_567
ANSWERED_BASE = 20_000_000
WARMUP_SECONDS = 3.0
TELEGRAM_RATE = 30.0


@dataclass
class Timed:
    """The messenger, noting when each delivery went out (bench-side: no change to the worker)."""

    inner: Messenger
    platform: str = "tg"
    sent_at: dict[str, float] = field(default_factory=dict)
    problems: list[Outcome] = field(default_factory=list)

    async def deliver(self, delivery: Delivery) -> Outcome:
        outcome = await self.inner.deliver(delivery)
        if isinstance(outcome, Sent):
            self.sent_at[delivery.key] = time.perf_counter()
        else:
            self.problems.append(outcome)
        return outcome


def settings_for(url: str, tg: FakeTelegramServer) -> Settings:
    values: dict[str, Any] = {
        "database_url": url,
        "redis_url": None,
        "telegram_bot_token": tg.token,
        "telegram_api_url": tg.base_url,
        "telegram_rate": TELEGRAM_RATE,
        "telegram_chat_rate": 1.0,
    }
    return Settings(_env_file=None, **values)


async def queue(app: App, key: str, kind: Kind, target: str, text: str) -> None:
    async with app.db.session() as session:
        await enqueue(
            session,
            key=key,
            platform="tg",
            kind=kind,
            target=target,
            payload=envelope([View((Text.raw(text),))], "ru"),
            now=app.services.clock.now(),
        )


async def plan_notice(app: App, recipients: int) -> None:
    await seed_citizens(app, recipients, vk_share=0.0)
    audience = Audience(municipalities=("ekaterinburg",))
    notice_id = await app.notices.plans.store(
        NoticeDraft(NoticeKind.EMERGENCY, "Штормовое предупреждение: ветер до 25 м/с.", audience),
        author="bench",
    )
    planned = await app.notices.plans.plan(notice_id)
    assert planned == recipients, planned


async def answer_citizens(
    app: App, worker: Any, tg: FakeTelegramServer, stop: asyncio.Event, queued: dict[str, float], wake: bool
) -> None:
    """An operator's answer to another citizen every second until `stop` (bounded by it)."""
    n = 0
    while not stop.is_set():
        user = ANSWERED_BASE + n
        tg.user(user)
        key = f"answer:{n}"
        await queue(app, key, Kind.CITIZEN, str(user), f"Ответ по обращению №{n}")
        queued[key] = time.perf_counter()
        if wake and hasattr(worker, "wake"):
            worker.wake()
        n += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1.0)


def spread(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered):.2f} s, p95 {p95:.2f} s, max {ordered[-1]:.2f} s"


async def scenario(url: str, args: argparse.Namespace) -> None:
    async with FakeTelegramServer() as tg:
        app = await build_app(settings_for(url, tg))
        bot = build_bot(tg.token, tg.base_url)
        try:
            await plan_notice(app, args.recipients)
            for i in range(args.recipients):
                tg.user(10_000_000 + i)
            tg.group(GROUP_CHAT, "Администрация")
            topic = await bot.create_forum_topic(GROUP_CHAT, "Обращение №1")
            where = str(ChatThread(GROUP_CHAT, topic.message_thread_id))
            for n in range(args.follow_ups):
                await queue(app, f"follow-up:{n}", Kind.TOPIC, where, f"Дополнение {n} от заявителя")
            messenger = Timed(TelegramMessenger(bot, app.services.translator, global_rate=TELEGRAM_RATE))
            worker = app.outbox_worker({"tg": messenger})
            stop = asyncio.Event()
            queued: dict[str, float] = {}
            started = time.perf_counter()
            running = asyncio.create_task(worker.run(stop))
            answering = asyncio.create_task(answer_citizens(app, worker, tg, stop, queued, not args.no_wake))
            await asyncio.sleep(args.seconds)
            ended = time.perf_counter()
            stop.set()
            await asyncio.wait_for(answering, timeout=10)
            # Bounded: a worker that waits for its slowest chain takes up to a lease (60 s) to stop.
            await asyncio.wait_for(running, timeout=120)
            stopped = time.perf_counter() - ended
        finally:
            await bot.session.close()
            await app.close()
    sent = messenger.sent_at
    in_window = [t for k, t in sent.items() if k.startswith("notice:") and t >= started + WARMUP_SECONDS]
    notice_rate = len([t for t in in_window if t <= ended]) / (ended - started - WARMUP_SECONDS)
    latencies = [sent[key] - at for key, at in queued.items() if key in sent and sent[key] <= ended]
    waiting = [ended - at for key, at in queued.items() if key not in sent or sent[key] > ended]
    topic_sent = len([k for k, t in sent.items() if k.startswith("follow-up:") and t <= ended])
    print(
        f"worker: {'lanes (has wake())' if hasattr(worker, 'wake') else 'passes (no wake())'}; "
        f"wake after queueing: {'yes' if not args.no_wake and hasattr(worker, 'wake') else 'no'}"
    )
    print(
        f"group topic: {args.follow_ups} follow-ups queued, {topic_sent} delivered in {args.seconds:.0f} s "
        f"(20/min per group chat)"
    )
    print(
        f"answers to other citizens: {len(queued)} queued (1/s), {len(latencies)} delivered; "
        f"latency {spread(latencies)}; not delivered at the end: {len(waiting)}"
        + (f" (waiting up to {max(waiting):.1f} s)" if waiting else "")
    )
    if messenger.problems:
        print(f"not sent: {len(messenger.problems)} outcomes, first: {messenger.problems[0]}")
    print(f"stop: the worker returned {stopped:.1f} s after stop was set")
    print(
        f"notice: {notice_rate:.1f} msg/s = {notice_rate / TELEGRAM_RATE:.2f} of {TELEGRAM_RATE:.0f}/s "
        f"(after {WARMUP_SECONDS:.0f} s warm-up; answers and follow-ups share the same budget)"
    )


async def main_async(args: argparse.Namespace) -> None:
    env = os.environ.get("DATABASE_URL", "")
    base = env if env.startswith("postgresql") else None
    print(f"database: {'PostgreSQL' if base else 'SQLite (temporary file)'}; run: {args.seconds:.0f} s")
    url, tmp = await fresh_url(base, "lanes.sqlite3")
    try:
        await scenario(url, args)
    finally:
        if tmp:
            tmp.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--follow-ups", type=int, default=40)
    parser.add_argument("--recipients", type=int, default=3000)
    parser.add_argument("--no-wake", action="store_true", help="do not call wake() after queueing an answer")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
