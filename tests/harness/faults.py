"""Fault scenarios shared by tests/faults and bench/faults.py: scripted citizens file reports through
the bot running as a process, behind the sandbox's Telegram that redelivers like Telegram, while
the scenario kills the process or takes its storage away; then what was lost or doubled is counted.

"Lost": a citizen whose report is not in the database, or whose last message got no answer.
"Doubled": two Report rows for one citizen, or one answer seen twice by a citizen.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import func, select

from bot.sandbox.telegram import FakeTelegramServer, FakeUser
from storage.db import Database
from storage.models import InboundUpdate, OutboxMessage, Report
from tests.harness.fleet import WEBHOOK_SECRET, BotProcess, bot_env, fleet, free_port
from tests.harness.proxy import TcpProxy
from tests.harness.reports import EKB, HEATING

# How long a scripted citizen waits for each answer: a restart, with the classifier loaded, included.
STEP_WAIT = 60.0


@dataclass
class Outcome:
    """What one trial of a scenario left behind."""

    scenario: str
    citizens: int
    reports: int = 0
    lost: int = 0
    doubled: int = 0
    recovery_seconds: float = 0.0
    phases: list[str] = field(default_factory=list)

    def merge(self, other: Outcome) -> None:
        self.citizens += other.citizens
        self.reports += other.reports
        self.lost += other.lost
        self.doubled += other.doubled
        self.recovery_seconds = max(self.recovery_seconds, other.recovery_seconds)
        self.phases += other.phases


async def until(
    condition: Callable[[], bool], within: float = STEP_WAIT, what: Callable[[], str] = lambda: ""
) -> None:
    """Poll `condition` every 20 ms until it holds; AssertionError saying `what()` after `within` s."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {what()}")
        await asyncio.sleep(0.02)


def _texts(user: FakeUser) -> list[str]:
    return [m.text or "" for m in user.messages()]


async def _step(user: FakeUser, act: Callable[[], Awaitable[object]], expect: str) -> None:
    """Do one thing and wait until the bot's newest message says `expect` (a text or a button)."""
    before = len(user.messages())

    def answered() -> bool:
        fresh = user.messages()[before:]
        return any(
            expect in (m.text or "") or any(expect in b for b in m.inline_buttons + m.reply_buttons)
            for m in fresh
        )

    await act()

    def seen() -> str:
        return f"user {user.chat_id} waiting for {expect!r}; the bot's last: {_texts(user)[-2:]}"

    await until(answered, what=seen)


async def citizen_files_a_report(user: FakeUser, text: str = HEATING) -> None:
    """Consent, text, no photos, the pin, ЖКХ, a phone, send: each step waits for its answer."""
    await _step(user, lambda: user.send_command("/start"), "Согласен")
    await _step(user, lambda: user.press("✅ Согласен(на)"), "Сообщить о проблеме")
    await _step(user, lambda: user.press("📝 Сообщить о проблеме"), "Опишите")
    await _step(user, lambda: user.send_text(text), "Без фото")
    await _step(user, lambda: user.press("Без фото", contains=True), "геопозицию")
    await _step(user, lambda: user.tap_reply_button("📍 Отправить геопозицию", lat=EKB[0], lon=EKB[1]), "ЖКХ")
    await _step(user, lambda: user.press("ЖКХ", contains=True), "номер")
    await _step(
        user, lambda: user.tap_reply_button("📱 Поделиться номером", phone="+79120000001"), "Отправить"
    )
    await _step(user, lambda: user.press("✅ Отправить"), "принято")


async def count_outcome(db_url: str, users: list[FakeUser], outcome: Outcome) -> None:
    """Reports per citizen and answers per citizen: what was lost and what doubled."""
    db = Database(db_url)
    try:
        async with db.session() as session:
            per_citizen = dict(
                (
                    await session.execute(select(Report.citizen_id, func.count()).group_by(Report.citizen_id))
                ).all()
            )
    finally:
        await db.dispose()
    outcome.reports = sum(per_citizen.values())
    outcome.doubled += sum(n - 1 for n in per_citizen.values() if n > 1)
    outcome.lost += max(0, len(users) - len(per_citizen))
    for user in users:
        texts = _texts(user)
        accepted = [t for t in texts if "принято" in t]
        outcome.doubled += max(0, len(accepted) - 1)
        # Every answer a citizen saw, seen twice in a row, is a doubled send.
        outcome.doubled += sum(1 for a, b in itertools.pairwise(texts) if a == b and a)
        if not accepted:
            outcome.lost += 1


@dataclass
class WebhookBot:
    """The sandbox's Telegram, TCP proxies in front of the webhook and of the Bot API, and the bot."""

    server: FakeTelegramServer
    proxy: TcpProxy
    api_proxy: TcpProxy
    process: BotProcess


@contextlib.asynccontextmanager
async def webhook_bot(
    workdir: Path, db_url: str, name: str = "bot", redis_url: str | None = None
) -> AsyncIterator[WebhookBot]:
    """A local Bot API server pushing updates, through a proxy, to one `python -m bot run --webhook`
    whose calls to the Bot API pass through another proxy."""
    async with FakeTelegramServer() as server:
        api_port = urlsplit(server.base_url).port or 80
        async with TcpProxy("127.0.0.1", api_port) as api_proxy:
            process = BotProcess(
                env=bot_env(db_url, server.token, api_proxy.url(server.base_url), redis_url=redis_url),
                args=("--webhook",),
                port=free_port(),
                workdir=workdir,
                log_path=workdir / f"{name}.log",
            )
            async with TcpProxy("127.0.0.1", process.port) as proxy:
                try:
                    await process.start()
                    server.deliver_via_webhook(proxy.url(process.webhook_url), WEBHOOK_SECRET)
                    yield WebhookBot(server, proxy, api_proxy, process)
                finally:
                    process.kill()
                    await process.wait_dead()


async def _rows(db_url: str) -> tuple[int, int, int]:
    """Stored updates still pending, processed ones, and replies not yet sent."""
    db = Database(db_url)
    try:
        async with db.session() as session:
            pending = await session.scalar(
                select(func.count()).select_from(InboundUpdate).where(InboundUpdate.status == "pending")
            )
            done = await session.scalar(
                select(func.count()).select_from(InboundUpdate).where(InboundUpdate.status == "done")
            )
            unsent = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == "pending", OutboxMessage.idempotency_key.like("reply:%"))
            )
    finally:
        await db.dispose()
    return int(pending or 0), int(done or 0), int(unsent or 0)


PHASES = ("before-commit", "commit-to-2xx", "during-reply")


async def kill_trial(workdir: Path, db_url: str, phase: str, citizens: int = 3, seed: int = 0) -> Outcome:
    """Citizens file reports; the process is killed with SIGKILL once in `phase`, then restarted.

    - before-commit: the SQLite file is locked by another connection, so the webhook's insert is
      waiting when the kill comes (no row, no answer to Telegram);
    - commit-to-2xx: killed right after an update's row appeared and before the sandbox saw its 2xx
      (when the race is lost the phase logged is what the kill found);
    - during-reply: the bot's calls to the Bot API held in a proxy, killed once an update or its
      reply is pending (the reply on its way, not yet at Telegram);
    - random: after a random delay (the bench), nothing held: the phase logged is what the kill
      found, and a kill just after Telegram took a message, before the bot recorded it, shows as a
      doubled message (the in-flight bound of at-least-once delivery).
    """
    outcome = Outcome(f"kill -9 ({phase})", citizens)
    rng = random.Random(seed)
    async with webhook_bot(workdir, db_url) as bot:
        server, process, proxy = bot.server, bot.process, bot.proxy
        users = [server.user(7000 + i) for i in range(citizens)]
        scripts = [asyncio.create_task(citizen_files_a_report(u)) for u in users]
        await asyncio.sleep(0.5 + rng.random())
        lock: sqlite3.Connection | None = None
        if phase == "before-commit" and db_url.startswith("sqlite"):
            lock = sqlite3.connect(db_url.split("///", 1)[1], timeout=10)
            lock.execute("BEGIN EXCLUSIVE")
            await asyncio.sleep(0.5)
            found = "before-commit"
        elif phase == "commit-to-2xx":
            proxy.hold_answers()
            # Replies are held the moment the row appears: a reply Telegram took that the dead
            # process never recorded would count as doubled (the at-least-once window `random`
            # measures, not this phase's).
            found = await _stored_but_unanswered(db_url, bot.api_proxy.hold_requests)
            # A reply Telegram took just before the hold is recorded by the bot a moment later:
            # killing in between would double it (the window `random` measures, not this phase's).
            await _replies_recorded(db_url, server, users)
        elif phase == "during-reply":
            # Its sends wait in the proxy: killed with a reply on the way, not yet at Telegram.
            bot.api_proxy.hold_requests()
            found = await _kill_while_processing(db_url)
        else:
            await asyncio.sleep(rng.random() * 2)
            found = await _phase_now(db_url, server)
        process.kill()
        await process.wait_dead()
        outcome.phases.append(found)
        # The answers the dead process wrote never reach Telegram: their connections are reset.
        for side in (proxy, bot.api_proxy):
            side.cut()
            side.release_answers()
            side.release_requests()
            side.restore()
        if lock is not None:
            lock.rollback()
            lock.close()
        started = time.monotonic()
        await process.start()
        await asyncio.gather(*scripts)
        outcome.recovery_seconds = time.monotonic() - started
        await server.wait_acknowledged(timeout=30)
    await count_outcome(db_url, users, outcome)
    return outcome


async def _phase_now(db_url: str, server: FakeTelegramServer) -> str:
    pending, _done, unsent = await _rows(db_url)
    unacknowledged = any(not d.acknowledged for d in server.webhook_deliveries())
    if unacknowledged:
        return "commit-to-2xx" if pending else "before-commit"
    return "during-reply" if pending or unsent else "idle"


async def _stored_but_unanswered(db_url: str, then: Callable[[], None]) -> str:
    """With answers held: once a new update is stored (`then` runs at once), the kill falls between
    commit and 2xx. One connection polls, so the moment is caught within milliseconds."""
    db = Database(db_url)
    try:
        count = select(func.count()).select_from(InboundUpdate)
        async with db.session() as session:
            stored = int(await session.scalar(count) or 0)
        deadline = time.monotonic() + STEP_WAIT
        while time.monotonic() < deadline:
            async with db.session() as session:
                if int(await session.scalar(count) or 0) > stored:
                    then()
                    return "commit-to-2xx"
            await asyncio.sleep(0.002)
    finally:
        await db.dispose()
    return "idle"


async def _replies_recorded(db_url: str, server: FakeTelegramServer, users: list[FakeUser]) -> None:
    """Wait (at most 5 s) until every message Telegram holds for `users` is recorded as sent."""
    db = Database(db_url)
    try:
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            async with db.session() as session:
                rows = (
                    await session.execute(
                        select(OutboxMessage.status, OutboxMessage.payload).where(
                            OutboxMessage.kind == "citizen"
                        )
                    )
                ).all()
            recorded = sum(
                len(payload.get("views", [])) if status == "sent" else int(payload.get("done_parts", 0))
                for status, payload in rows
            )
            if recorded >= sum(len(server.sent_to(u.chat_id)) for u in users):
                return
            await asyncio.sleep(0.01)
    finally:
        await db.dispose()


async def _kill_while_processing(db_url: str) -> str:
    deadline = time.monotonic() + STEP_WAIT
    while time.monotonic() < deadline:
        pending, _done, unsent = await _rows(db_url)
        if pending or unsent:
            return "during-reply"
        await asyncio.sleep(0.005)
    return "idle"


def _consent_prompts(user: FakeUser) -> int:
    return sum(1 for m in user.messages() if any("Согласен" in b for b in m.inline_buttons))


async def _answer_each_start(users: list[FakeUser], outcome: Outcome, within: float) -> None:
    """Every citizen sees the consent prompt once: missing ones are lost, extra ones doubled."""
    with contextlib.suppress(AssertionError):
        await until(lambda: all(_consent_prompts(u) for u in users), within=within)
    for user in users:
        prompts = _consent_prompts(user)
        outcome.lost += prompts == 0
        outcome.doubled += max(0, prompts - 1)
    outcome.reports = sum(1 for u in users if _consent_prompts(u))


async def storage_outage_trial(
    workdir: Path, db_url: str, seconds: float, citizens: int = 20, redis_url: str | None = None
) -> Outcome:
    """A burst of /start while the database is away for `seconds` (SQLite: the file locked by another
    connection; PostgreSQL: its connections cut by a proxy). Nothing may be lost, nothing doubled,
    and the process must not exit; recovery is the time from storage's return to the last answer."""
    outcome = Outcome(f"database away {seconds:.0f} s", citizens)
    sqlite = db_url.startswith("sqlite")
    target = urlsplit(db_url)
    async with contextlib.AsyncExitStack() as stack:
        proxy: TcpProxy | None = None
        url = db_url
        if not sqlite:
            proxy = await stack.enter_async_context(TcpProxy("127.0.0.1", target.port or 5432))
            url = proxy.url(db_url)
        bot = await stack.enter_async_context(webhook_bot(workdir, url, redis_url=redis_url))
        lock: sqlite3.Connection | None = None
        if sqlite:
            lock = sqlite3.connect(db_url.split("///", 1)[1], timeout=10)
            lock.execute("BEGIN EXCLUSIVE")
        else:
            assert proxy is not None
            proxy.cut()
        users = [bot.server.user(8000 + i) for i in range(citizens)]
        for user in users:
            await user.send_command("/start")
        await asyncio.sleep(seconds / 2)
        if not sqlite:
            health = await bot.process.health()
            outcome.phases.append(f"healthz {health} while away")
        await asyncio.sleep(seconds / 2)
        if lock is not None:
            lock.rollback()
            lock.close()
        if proxy is not None:
            proxy.restore()
        started = time.monotonic()
        await _answer_each_start(users, outcome, within=STEP_WAIT)
        outcome.recovery_seconds = time.monotonic() - started
        assert bot.process.process is not None
        if bot.process.process.returncode is not None:
            outcome.phases.append(f"the bot exited with {bot.process.process.returncode}")
    return outcome


async def redis_outage_trial(
    workdir: Path, db_url: str, redis_url: str, seconds: float, citizens: int = 5
) -> Outcome:
    """Citizens mid-dialog while Redis (dialog state, locks) is cut for `seconds`: updates that need
    state wait in the SQL queue (fail closed) and are answered once Redis is back; nothing lost."""
    outcome = Outcome(f"Redis away {seconds:.0f} s", citizens)
    target = urlsplit(redis_url)
    async with (
        TcpProxy("127.0.0.1", target.port or 6379) as proxy,
        webhook_bot(workdir, db_url, redis_url=proxy.url(redis_url)) as bot,
    ):
        # Ids no earlier run used: Redis keeps dialog state between runs (it is not reset).
        base = random.randrange(10_000_000, 1_000_000_000)
        users = [bot.server.user(base + i) for i in range(citizens)]
        for user in users:
            await _step(user, lambda u=user: u.send_command("/start"), "Согласен")
            await _step(user, lambda u=user: u.press("✅ Согласен(на)"), "Сообщить о проблеме")
            await _step(user, lambda u=user: u.press("📝 Сообщить о проблеме"), "Опишите")
        proxy.cut()
        for user in users:
            await user.send_text(HEATING)
        await asyncio.sleep(seconds / 2)
        outcome.phases.append(f"healthz {await bot.process.health()} while away")
        await asyncio.sleep(seconds / 2)
        proxy.restore()
        started = time.monotonic()
        for user in users:
            try:
                await until(
                    lambda u=user: any("Без фото" in b for m in u.messages() for b in m.inline_buttons)
                )
            except AssertionError:
                outcome.lost += 1
        outcome.recovery_seconds = time.monotonic() - started
        for user in users:
            asks = sum(1 for m in user.messages() if any("Без фото" in b for b in m.inline_buttons))
            outcome.doubled += max(0, asks - 1)
    return outcome


async def duplicate_trial(
    workdir: Path, db_url: str, redis_url: str, citizens: int = 10, seed: int = 0
) -> Outcome:
    """Two webhook processes and a worker (PostgreSQL + Redis); every update is delivered 2–5 times
    at once to both: each must be handled once."""
    outcome = Outcome("same update 2-5x to two processes", citizens)
    rng = random.Random(seed)
    async with FakeTelegramServer() as server:
        env = bot_env(db_url, server.token, server.base_url, redis_url=redis_url)
        webs = [
            BotProcess(env, ("--webhook", "--role", "web"), free_port(), workdir, workdir / f"web{n}.log")
            for n in (1, 2)
        ]
        worker = BotProcess(
            env, ("--webhook", "--role", "worker"), free_port(), workdir, workdir / "worker.log"
        )
        async with fleet(*webs, worker):
            server.deliver_via_webhook(webs[0].webhook_url, WEBHOOK_SECRET)
            users = [server.user(9000 + i) for i in range(citizens)]
            ids = [await user.send_command("/start") for user in users]
            urls = [web.webhook_url for web in webs]
            await asyncio.gather(*(server.redeliver(i, times=rng.randint(2, 5), urls=urls) for i in ids))
            started = time.monotonic()
            await _answer_each_start(users, outcome, within=30)
            outcome.recovery_seconds = time.monotonic() - started
            # Late duplicates would show as second prompts: give them time to appear.
            await asyncio.sleep(1.0)
            outcome.doubled = sum(max(0, _consent_prompts(u) - 1) for u in users)
    return outcome
