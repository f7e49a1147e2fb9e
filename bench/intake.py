"""Intake benchmark: scripted citizens walk the whole intake on the webhook, closed loop, against
tsur-bot and against a bare aiogram echo bot on the same harness.

Usage: .venv/bin/python bench/intake.py [--citizens 200] [--rounds 1] [--burst 400]
                                        [--setups sqlite,postgres,postgres+redis,2x]

Each citizen waits for the bot's answer before the next step: /start → consent → report → text →
no photos → the pin → sector → skip phone → confirm (9 steps, one report). The echo bot gets the
same kinds of steps (texts, presses, a location) and answers each with one message. Updates go
through the sandbox's Bot API server, which POSTs them to the webhook as Telegram does (at most
40 at once, a non-2xx redelivered). The bot runs as `python -m bot run --webhook` processes; `2x`
is two of them on one port (SO_REUSEPORT) sharing PostgreSQL and Redis. Setups and the echo bot
are interleaved, round after round.

Prints, per setup: steps/s, reports/s, step p50/p99, the slowest step, peak RSS of each process,
unanswered citizens, the bot's CPU time per step and the ratio of steps/s to the echo run just
before it. Then, per setup, a burst: `--burst` first contacts (/start) at one instant, each waiting
up to 60 s for its answer (steps/s there is answers per second). The bot's pacing is
lifted (TELEGRAM_RATE / TELEGRAM_CHAT_RATE): the local server has no limits, and the point is
what one process can do. Only 127.0.0.1; every wait is bounded. PostgreSQL/Redis: DATABASE_URL /
REDIS_URL (their data is reset).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    # Run as a plain script, so the repository is not on the import path by itself.
    sys.path.insert(0, str(REPO_ROOT))

from bot.sandbox.telegram import FakeTelegramServer, FakeUser  # noqa: E402
from tests.harness.fleet import WEBHOOK_SECRET, BotProcess, bot_env, free_port  # noqa: E402
from tests.harness.stores import reset_postgres  # noqa: E402

STEP_TIMEOUT = 60.0
EKB = (56.8389, 60.6057)
HEATING = "В доме по улице Малышева, {n} неделю нет отопления, батареи холодные, УК не отвечает на звонки."
FIRST_CITIZEN = 700_000_000

# What a citizen does and what it waits to see before the next step.
Act = Callable[[FakeUser, int], Awaitable[object]]


async def _press(user: FakeUser, label: str) -> None:
    if any(label in b for b in user.inline_buttons()):
        await user.press(label, contains=True)
    else:
        await user.tap_reply_button(next(b for b in user.reply_buttons() if label in b))


def _tsur_steps() -> list[tuple[Act, str | None]]:
    def press(label: str) -> Act:
        return lambda user, _n: _press(user, label)

    return [
        (lambda user, _n: user.send_command("/start"), "Согласен"),
        (press("Согласен"), "Сообщить о проблеме"),
        (press("Сообщить о проблеме"), None),
        (lambda user, n: user.send_text(HEATING.format(n=n % 90 + 1)), "Без фото"),
        (press("Без фото"), "Отправить геопозицию"),
        (lambda user, _n: user.send_location(*EKB), "ЖКХ"),
        (press("ЖКХ"), "Пропустить"),
        (press("Пропустить"), "✅ Отправить"),
        (press("✅ Отправить"), "Мои обращения"),
    ]


def _echo_steps() -> list[tuple[Act, str | None]]:
    def press(user: FakeUser, _n: int) -> Awaitable[object]:
        return user.press("Дальше")

    return [
        (lambda user, _n: user.send_text("/start"), "Дальше"),
        (press, "Дальше"),
        (press, "Дальше"),
        (lambda user, n: user.send_text(HEATING.format(n=n)), "Дальше"),
        (press, "Дальше"),
        (lambda user, _n: user.send_location(*EKB), "Дальше"),
        (press, "Дальше"),
        (press, "Дальше"),
        (press, "Дальше"),
    ]


@dataclass
class Run:
    """What one closed-loop run measured."""

    name: str
    citizens: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    reports: int = 0
    unanswered: int = 0
    slowest_step: tuple[int, float] = (0, 0.0)
    rss_mb: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0

    @property
    def steps_per_second(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def quantile(self, q: float) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else 0.0
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[round(q * 100) - 1]


async def _walk(
    user: FakeUser, n: int, steps: list[tuple[Act, str | None]], run: Run, per_step: list[list[float]]
) -> None:
    for index, (act, showing) in enumerate(steps):
        mark = user.mark()
        started = time.monotonic()
        await act(user, n)
        if not await user.answered_since(mark, showing, timeout=STEP_TIMEOUT):
            run.unanswered += 1
            return
        took = time.monotonic() - started
        run.latencies.append(took)
        per_step[index].append(took)
    run.reports += 1


async def closed_loop(
    server: FakeTelegramServer, name: str, citizens: int, steps: list[tuple[Act, str | None]], first_id: int
) -> Run:
    """`citizens` scripted citizens at once, each through `steps`, waiting for every answer."""
    run = Run(name, citizens)
    per_step: list[list[float]] = [[] for _ in steps]
    users = [server.user(first_id + n, first_name=f"Житель {n}") for n in range(citizens)]
    started = time.monotonic()
    await asyncio.gather(*(_walk(user, n, steps, run, per_step) for n, user in enumerate(users)))
    run.seconds = time.monotonic() - started
    medians = [statistics.median(took) if took else 0.0 for took in per_step]
    slowest = max(range(len(steps)), key=lambda i: medians[i])
    run.slowest_step = (slowest + 1, medians[slowest])
    return run


@contextlib.asynccontextmanager
async def _processes(
    processes: list[BotProcess], server: FakeTelegramServer
) -> AsyncIterator[list[BotProcess]]:
    try:
        for process in processes:
            await process.start()
        server.deliver_via_webhook(processes[0].webhook_url, WEBHOOK_SECRET)
        yield processes
    finally:
        for process in processes:
            await process.stop()


async def _storage(setup: str, workdir: Path) -> tuple[str, str | None]:
    if setup == "sqlite":
        return f"sqlite+aiosqlite:///{workdir / 'tsur.sqlite3'}", None
    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL")
    if not database_url.startswith("postgresql"):
        raise SystemExit(f"{setup} needs DATABASE_URL=postgresql+asyncpg://…")
    await reset_postgres(database_url)
    if setup == "postgres":
        return database_url, None
    if not redis_url:
        raise SystemExit(f"{setup} needs REDIS_URL")
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    await redis.aclose()
    return database_url, redis_url


LIFTED_PACING = {"TELEGRAM_RATE": "100000", "TELEGRAM_CHAT_RATE": "1000", "FLOOD_LIMIT": "1000"}


async def bench_setup(setup: str, citizens: int, first_id: int, burst_of: int = 0) -> Run:
    """One closed-loop run of tsur-bot in `setup` (sqlite, postgres, postgres+redis, 2x), or with
    `burst_of`, that many /start at one instant."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        database_url, redis_url = await _storage(setup, workdir)
        async with FakeTelegramServer() as server:
            env = bot_env(database_url, server.token, server.base_url, redis_url=redis_url, **LIFTED_PACING)
            port = free_port()
            count = 2 if setup == "2x" else 1
            processes = [
                BotProcess(env, ("--webhook",), port, workdir, workdir / f"bot{i}.log") for i in range(count)
            ]
            async with _processes(processes, server):
                cpu = sum(process.cpu_seconds() for process in processes)
                if burst_of:
                    run = await burst(server, setup, burst_of, first_id)
                else:
                    run = await closed_loop(server, setup, citizens, _tsur_steps(), first_id)
                run.cpu_seconds = sum(process.cpu_seconds() for process in processes) - cpu
                run.rss_mb = [process.peak_rss_mb() for process in processes]
    return run


async def burst(server: FakeTelegramServer, name: str, citizens: int, first_id: int) -> Run:
    """`citizens` first contacts at the same instant (/start), each waiting for the consent button."""
    run = Run(f"{name} burst", citizens)
    users = [server.user(first_id + n, first_name=f"Житель {n}") for n in range(citizens)]
    started = time.monotonic()

    async def first_contact(user: FakeUser) -> None:
        mark = user.mark()
        sent = time.monotonic()
        await user.send_command("/start")
        if await user.answered_since(mark, "Согласен", timeout=STEP_TIMEOUT):
            run.latencies.append(time.monotonic() - sent)
        else:
            run.unanswered += 1

    await asyncio.gather(*(first_contact(user) for user in users))
    run.seconds = time.monotonic() - started
    return run


async def bench_echo(citizens: int, first_id: int) -> Run:
    """The same closed loop against the bare aiogram echo bot."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        async with FakeTelegramServer() as server:
            env = bot_env("sqlite://", server.token, server.base_url)
            port = free_port()
            echo = BotProcess(
                env,
                (str(port),),
                port,
                workdir,
                workdir / "echo.log",
                command=(str(Path(__file__).parent / "echo_bot.py"),),
            )
            async with _processes([echo], server):
                cpu = echo.cpu_seconds()
                run = await closed_loop(server, "echo", citizens, _echo_steps(), first_id)
                run.cpu_seconds = echo.cpu_seconds() - cpu
                run.rss_mb = [echo.peak_rss_mb()]
    return run


def _row(run: Run, echo: Run | None) -> str:
    ratio = f"{run.steps_per_second / echo.steps_per_second:.3f}" if echo and echo is not run else "-"
    rss = "+".join(f"{mb:.0f}" for mb in run.rss_mb)
    return (
        f"{run.name:<16} {run.steps_per_second:>8.1f} {run.reports / run.seconds:>9.1f} {ratio:>7}"
        f" {run.quantile(0.5):>7.2f} {run.quantile(0.99):>7.2f}"
        f"   #{run.slowest_step[0]} {run.slowest_step[1]:.2f} s"
        f" {rss:>9} {run.unanswered:>10} {1000 * run.cpu_seconds / max(len(run.latencies), 1):>8.1f}"
    )


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--citizens", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--setups", default="sqlite,postgres,postgres+redis,2x")
    parser.add_argument("--burst", type=int, default=400, help="then this many /start at once (0: none)")
    args = parser.parse_args()
    setups = [s for s in args.setups.split(",") if s]
    rows: list[str] = []
    first_id = FIRST_CITIZEN
    for round_no in range(args.rounds):
        for setup in setups:
            echo = await bench_echo(args.citizens, first_id)
            run = await bench_setup(setup, args.citizens, first_id)
            first_id += args.citizens
            for measured in (echo, run):
                rows.append(_row(measured, echo))
                print(f"round {round_no + 1}: {rows[-1]}", flush=True)
    for setup in setups if args.burst else ():
        run = await bench_setup(setup, args.citizens, first_id, burst_of=args.burst)
        first_id += args.burst
        rows.append(_row(run, None))
        print(f"burst: {rows[-1]}", flush=True)
    print()
    print(
        f"{'setup':<16} {'steps/s':>8} {'reports/s':>9} {'÷ echo':>7} {'p50 s':>7} {'p99 s':>7}"
        f"   slowest   {'RSS MB':>9} {'unanswered':>10} {'CPU ms/step':>8}"
    )
    for row in rows:
        print(row)
    print(f"{args.citizens} citizens at once, closed loop, 9 steps each; machine: {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
