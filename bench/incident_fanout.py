"""Incident fan-out benchmark (issue #16): one confirmed answer reaches every joined reporter, on
Telegram and VK, within the platforms' rate limits as counted at the local fake servers.

Usage: .venv/bin/python bench/incident_fanout.py [--reporters 500] [--within 120]

A lead report and `--reporters - 1` followers joined through `IncidentDesk.join`, half Telegram,
half VK, on a fresh SQLite file in a temporary directory. The product's own pipeline runs against
`FakeTelegramServer` and `FakeVkServer` on 127.0.0.1: getUpdates into the inbound queue, the aiogram
dispatcher, VK Long Poll, and the two outbox workers at the production rates (`Settings()`:
Telegram overall rate with its small burst and per-chat rate, VK community rate). Only the operator
chat's group rate (20 messages a minute) is lifted, so the joins' notes in the topic do not take
half an hour; that affects posts into the operator chat only, never sends to citizens.

The operator presses «✅ Ответить», writes the answer, and confirms with «📣 Отправить всем» (above
`incident_confirm_reporters`); the bench then waits (at most `--within` seconds) until every
reporter has the answer. Prints the reporters answered per platform, the time from the
confirmation to the last answer, the busiest second of Telegram sends to citizens, VK's max_rps,
and duplicates; exits 1 if a reporter is missing, a message is doubled or a limit is broken.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    # Run as a plain script, so the repository is not on the import path by itself.
    sys.path.insert(0, str(REPO_ROOT))

from aiogram import Bot, Dispatcher  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bot.app.telegram import build_bot, build_delivery, build_dispatcher  # noqa: E402
from bot.app.vk import VkSide, build_vk, build_vk_delivery  # noqa: E402
from bot.app.wiring import App, build_app  # noqa: E402
from bot.core.config import Settings  # noqa: E402
from bot.delivery.worker import OutboxWorker  # noqa: E402
from bot.inbound.worker import InboundWorker  # noqa: E402
from bot.sandbox.telegram import ApiCall, FakeTelegramServer  # noqa: E402
from bot.sandbox.vk import FakeVkServer, VkApiCall, VkSentMessage  # noqa: E402
from bot.services.reports.filing import ReportDraft  # noqa: E402
from bot.services.staff.roles import Principal  # noqa: E402
from handlers.telegram.callbacks import callback_signer  # noqa: E402
from handlers.telegram.files import photo_source  # noqa: E402
from handlers.telegram.inbound import TelegramUpdates  # noqa: E402
from handlers.telegram.polling import TelegramPoller  # noqa: E402
from handlers.vk.polling import poll_vk  # noqa: E402
from storage.models import OutboxMessage  # noqa: E402

ANSWER = "Освещение восстановлено по всей улице"
COMPLAINT = "Не горят фонари на улице Ленина, темно"
OPS_CHAT = -100_500
AUTHOR_ID, COLLEAGUE_ID = 900, 901
LEAD_USER = 4999
FIRST_TG_FOLLOWER = 5000
# VK ids far from Telegram's, so a mix-up between the platforms would show as a missing reporter.
FIRST_VK_USER = 700_000
# Telegram's per-chat burst in TelegramMessenger (a private chat never gets more within a second).
CHAT_BURST = 3
# Settings().incident_confirm_reporters: above it the author confirms with «Отправить всем».
CONFIRM_ABOVE = 50
# Bounded waits for the set-up steps (the joins' notes, the operator's screens).
SETUP_SECONDS = 120.0
STEP_SECONDS = 20.0


@dataclass
class Figures:
    """What one run measured at the fake servers."""

    tg_expected: int
    vk_expected: int
    tg_answered: int
    vk_answered: int
    seconds_to_last: float
    tg_busiest: int
    tg_busiest_all: int
    tg_chat_busiest: int
    tg_limit: float
    vk_max_rps: int
    vk_limit: float
    vk_flood_errors: int
    tg_duplicates: int
    vk_duplicates: int
    vk_repeated_requests: int
    setup_seconds: float
    confirm_above: int

    @property
    def problems(self) -> list[str]:
        found = []
        if self.tg_answered < self.tg_expected:
            found.append(f"{self.tg_expected - self.tg_answered} Telegram reporters without the answer")
        if self.vk_answered < self.vk_expected:
            found.append(f"{self.vk_expected - self.vk_answered} VK reporters without the answer")
        if self.tg_duplicates or self.vk_duplicates:
            found.append(f"duplicates: Telegram {self.tg_duplicates}, VK {self.vk_duplicates}")
        if self.tg_busiest > self.tg_limit:
            found.append(f"Telegram: {self.tg_busiest} sends to citizens in one second (> {self.tg_limit:g})")
        if self.tg_chat_busiest > CHAT_BURST:
            found.append(f"Telegram: {self.tg_chat_busiest} sends to one chat in one second")
        if self.vk_max_rps > self.vk_limit:
            found.append(f"VK: {self.vk_max_rps} requests in one second (> {self.vk_limit:g})")
        if self.vk_flood_errors:
            found.append(f"VK answered error 6 (too many requests) {self.vk_flood_errors} times")
        return found


def busiest_second(times: list[float]) -> int:
    """The most events within any one-second window."""
    times = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def eventually(condition: Callable[[], bool], within: float, what: str) -> None:
    """Wait until `condition()` holds, checked every 50 ms, for at most `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError(f"{what}: not so within {within:g} s")
        await asyncio.sleep(0.05)


async def pending_rows(app: App) -> int:
    async with app.db.session() as session:
        count = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
        )
    return int(count or 0)


async def drained(app: App, workers: list[OutboxWorker], within: float) -> None:
    """Wait until no outbox row is pending or being sent (bounded)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while await pending_rows(app) or any(w.in_flight for w in workers):
        if loop.time() > deadline:
            raise TimeoutError(f"the outbox did not drain within {within:g} s")
        await asyncio.sleep(0.1)


async def join_crowd(app: App, lead_id: int, platform: str, users: list[int]) -> None:
    """Consenting citizens join report `lead_id` straight through the incident desk (as the
    test harness's `crowd` does), without their dialogs: the fan-out is what is measured."""
    desk = app.services.incidents
    assert desk is not None
    for user_id in users:
        citizen = await app.services.citizens.give_consent(platform, str(user_id), "ru")
        draft = ReportDraft(
            intake_key=f"crowd-{platform}-{user_id}",
            platform=platform,
            citizen_id=citizen.id,
            language="ru",
            text=COMPLAINT,
            municipality_id="ekaterinburg",
            sector_id="housing",
        )
        if await desk.join(draft, lead_id) is None:
            raise RuntimeError(f"{platform}:{user_id} could not join report {lead_id}")


@contextlib.asynccontextmanager
async def pipeline(
    app: App, dispatcher: Dispatcher, bot: Bot, vk: VkSide, workers: list[OutboxWorker], state_dir: str
) -> AsyncIterator[None]:
    """Polling (Telegram and VK) into the inbound queue, the inbound worker and both outbox
    workers, as `python -m bot run` runs them; short polls so the block ends quickly."""
    stop = asyncio.Event()
    inbound = InboundWorker(
        app.inbound,
        {"tg": TelegramUpdates(dispatcher, bot), "vk": vk.citizens.process},
        concurrency=app.settings.inbound_concurrency,
        idle_seconds=0.05,
        album_quiet=timedelta(seconds=app.settings.album_wait_seconds),
    )
    removals = [app.replies.on_queued(worker.wake) for worker in workers]
    poller = TelegramPoller(
        bot, app.inbound, dispatcher.resolve_used_update_types(), timeout=1, on_stored=inbound.wake
    )
    tasks = [
        asyncio.create_task(inbound.run(stop), name="inbound"),
        asyncio.create_task(poller.run(stop), name="polling-tg"),
        asyncio.create_task(
            poll_vk(vk.api, vk.group_id, app.inbound, state_dir, stop, wait=1, on_stored=inbound.wake),
            name="polling-vk",
        ),
        *(asyncio.create_task(worker.run(stop), name=f"outbox-{n}") for n, worker in enumerate(workers)),
    ]
    try:
        yield
    finally:
        stop.set()
        for removal in removals:
            removal()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)


async def run(reporters: int, within: float) -> Figures:
    tg_total = reporters // 2
    tg_users = [LEAD_USER, *range(FIRST_TG_FOLLOWER, FIRST_TG_FOLLOWER + tg_total - 1)]
    vk_users = list(range(FIRST_VK_USER, FIRST_VK_USER + reporters - tg_total))
    with tempfile.TemporaryDirectory() as workdir:
        settings = Settings(
            _env_file=None,
            database_url=f"sqlite+aiosqlite:///{Path(workdir) / 'fanout.sqlite3'}",
            redis_url=None,
            telegram_bot_token=None,
            # Production's 50; a smaller run lowers it so the confirmation is still exercised.
            incident_confirm_reporters=min(CONFIRM_ABOVE, reporters - 1),
        )
        app = await build_app(settings)
        try:
            return await scenario(app, tg_users, vk_users, within, workdir)
        finally:
            await app.close()


async def scenario(
    app: App, tg_users: list[int], vk_users: list[int], within: float, workdir: str
) -> Figures:
    settings = app.settings
    reporters = len(tg_users) + len(vk_users)
    async with FakeTelegramServer() as tg, FakeVkServer(rate_limit=int(settings.vk_rate)) as vk_server:
        bot = build_bot(tg.token, tg.base_url)
        signer = callback_signer(tg.token)
        dispatcher = build_dispatcher(app, signer=signer)
        # Citizens at the production rates; only the operator chat's group rate is lifted.
        tg_worker = build_delivery(app, bot, signer, group_rate=1000.0)
        vk = await build_vk(app, vk_server.token, vk_server.base_url)
        vk_worker = build_vk_delivery(app, vk, photo_source(bot))
        workers = [tg_worker, vk_worker]
        ops = tg.group(OPS_CHAT, "Операторы", is_forum=True)
        author, colleague = tg.user(AUTHOR_ID, first_name="Ольга"), tg.user(COLLEAGUE_ID, first_name="Пётр")
        for person in (author, colleague):
            ops.add_member(person, "administrator")
        await app.staff.add(Principal.shell(), str(AUTHOR_ID), "admin")
        await app.staff.add(Principal.shell(), str(COLLEAGUE_ID), "admin")
        body_id = app.services.catalog.route("housing", "ekaterinburg")
        for user_id in tg_users:
            tg.user(user_id)
        try:
            async with pipeline(app, dispatcher, bot, vk, workers, str(Path(workdir) / "vk-state")):
                await eventually(
                    lambda: any(c.method == "getUpdates" for c in tg.calls), STEP_SECONDS, "polling"
                )
                await ops.send_text(author, f"/bind {body_id}")
                await ops.replies()

                setup_start = time.monotonic()
                citizen = await app.services.citizens.give_consent("tg", str(LEAD_USER), "ru")
                lead = await app.services.reports.file(
                    ReportDraft(
                        intake_key=f"lead-{LEAD_USER}",
                        platform="tg",
                        citizen_id=citizen.id,
                        language="ru",
                        text=COMPLAINT,
                        municipality_id="ekaterinburg",
                        sector_id="housing",
                    )
                )
                await join_crowd(app, lead.id, "tg", tg_users[1:])
                await join_crowd(app, lead.id, "vk", vk_users)
                # Everything the joins queued (cards, notes in the topic, acknowledgements) goes
                # out first, so the fan-out below is measured on its own.
                await drained(app, workers, SETUP_SECONDS)
                setup_seconds = time.monotonic() - setup_start
                await eventually(lambda: bool(ops.topics()), STEP_SECONDS, "the incident's topic")
                thread = next(iter(ops.topics()))

                await ops.press(author, "✅ Ответить", message_thread_id=thread)
                await ops.replies()
                await ops.send_text(author, ANSWER, message_thread_id=thread)
                await tg.wait_for(
                    lambda c: (
                        c.method == "sendMessage"
                        and f"уйдёт {reporters} жителям" in str(c.params.get("text"))
                    ),
                    timeout=STEP_SECONDS,
                )
                if tg_answer_calls(tg) or vk_answer_messages(vk_server):
                    raise RuntimeError("the answer went out before it was confirmed")

                # Both servers keep their own clocks: Telegram's `at` is wall time, VK's monotonic.
                confirmed_wall, confirmed_mono = time.time(), time.monotonic()
                await ops.press(author, "Отправить всем", contains=True, message_thread_id=thread)
                if reporters > settings.notice_approval_threshold:
                    # Four eyes: the author's press asks for a colleague's.
                    await tg.wait_for(
                        lambda c: (
                            c.method == "answerCallbackQuery"
                            and "другой сотрудник" in str(c.params.get("text"))
                        ),
                        timeout=STEP_SECONDS,
                    )
                    await ops.press(colleague, "Отправить всем", contains=True, message_thread_id=thread)
                await tg.wait_for(
                    lambda c: (
                        c.method == "answerCallbackQuery"
                        and f"Отправлено {reporters} жителям" in str(c.params.get("text"))
                    ),
                    timeout=STEP_SECONDS,
                )

                def everyone() -> bool:
                    got_tg = {int(c.params["chat_id"]) for c in tg_answer_calls(tg)}
                    got_vk = {m.peer_id for m in vk_answer_messages(vk_server)}
                    return got_tg >= set(tg_users) and got_vk >= set(vk_users)

                with contextlib.suppress(TimeoutError):
                    await eventually(everyone, within, "every reporter answered")
                # Whatever is still queued (a retry that would double a message) is given its chance.
                with contextlib.suppress(TimeoutError):
                    await drained(app, workers, 10.0)
        finally:
            await vk.close()
            await bot.session.close()

    tg_answers = tg_answer_calls(tg)
    vk_answers = vk_answer_messages(vk_server)
    tg_counts = Counter(int(c.params["chat_id"]) for c in tg_answers)
    vk_counts = Counter(m.peer_id for m in vk_answers)
    vk_requests = Counter(
        peer for call in vk_server.requests if call.method == "messages.send" for peer in answer_peers(call)
    )
    last = [c.at - confirmed_wall for c in tg_answers] + [m.at - confirmed_mono for m in vk_answers]
    to_citizens = [
        c for c in tg.calls if c.method.startswith("send") and c.ok and int(c.params.get("chat_id", 0)) > 0
    ]
    all_sends = [c for c in tg.calls if c.method.startswith("send") and c.ok]
    per_chat: dict[int, list[float]] = {}
    for call in to_citizens:
        per_chat.setdefault(int(call.params["chat_id"]), []).append(call.at)
    rate = settings.telegram_rate
    return Figures(
        tg_expected=len(tg_users),
        vk_expected=len(vk_users),
        tg_answered=len(set(tg_counts) & set(tg_users)),
        vk_answered=len(set(vk_counts) & set(vk_users)),
        seconds_to_last=max(last, default=float("nan")),
        tg_busiest=busiest_second([c.at for c in to_citizens]),
        tg_busiest_all=busiest_second([c.at for c in all_sends]),
        tg_chat_busiest=max((busiest_second(t) for t in per_chat.values()), default=0),
        # The overall rate plus its small burst (a tenth of it, see TelegramMessenger._pace).
        tg_limit=rate + max(1.0, rate / 10),
        vk_max_rps=vk_server.max_rps,
        vk_limit=settings.vk_rate,
        vk_flood_errors=sum(1 for c in vk_server.requests if c.error == 6),
        tg_duplicates=sum(n - 1 for n in tg_counts.values()),
        vk_duplicates=sum(n - 1 for n in vk_counts.values()),
        vk_repeated_requests=sum(n - 1 for n in vk_requests.values()),
        setup_seconds=setup_seconds,
        confirm_above=settings.incident_confirm_reporters,
    )


def tg_answer_calls(tg: FakeTelegramServer) -> list[ApiCall]:
    """Successful sends of the answer to citizens' private chats."""
    return [
        c
        for c in tg.calls
        if c.method == "sendMessage"
        and c.ok
        and int(c.params["chat_id"]) > 0
        and ANSWER in str(c.params.get("text"))
    ]


def vk_answer_messages(vk_server: FakeVkServer) -> list[VkSentMessage]:
    """Messages with the answer that VK created (a repeated random_id creates none)."""
    return [m for m in vk_server.sent if ANSWER in m.text]


def answer_peers(call: VkApiCall) -> list[int]:
    """The peers a successful messages.send with the answer went to."""
    params = call.params
    if call.error is not None or ANSWER not in params.get("message", ""):
        return []
    raw = params.get("peer_ids") or params.get("user_ids") or params.get("peer_id") or params.get("user_id")
    return [int(p) for p in (raw or "").split(",") if p.strip()]


def report(figures: Figures, reporters: int) -> None:
    f = figures
    print(f"incident fan-out: {reporters} reporters (1 lead + {reporters - 1} joined), SQLite")
    print(f"  confirmation asked above {f.confirm_above} reporters")
    print(f"  joins and their notes delivered in {f.setup_seconds:.1f} s before the answer")
    print(f"  answered: Telegram {f.tg_answered}/{f.tg_expected}, VK {f.vk_answered}/{f.vk_expected}")
    print(f"  answered total: {f.tg_answered + f.vk_answered}/{f.tg_expected + f.vk_expected}")
    print(f"  confirmation to last answer: {f.seconds_to_last:.1f} s")
    print(
        f"  Telegram busiest second to citizens: {f.tg_busiest} (limit {f.tg_limit:g});"
        f" all sends incl. the operator chat: {f.tg_busiest_all}; one chat: {f.tg_chat_busiest}"
        f" (burst {CHAT_BURST})"
    )
    print(f"  VK max_rps: {f.vk_max_rps} (limit {f.vk_limit:g}); error 6 answers: {f.vk_flood_errors}")
    print(
        f"  duplicates: {f.tg_duplicates + f.vk_duplicates}"
        f" (Telegram {f.tg_duplicates}, VK {f.vk_duplicates});"
        f" VK requests repeated with the same random_id: {f.vk_repeated_requests}"
    )
    print("  note: the operator chat's group rate is lifted (posts into the operator chat only)")


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--reporters", type=int, default=500, help="lead plus followers, half on each platform"
    )
    parser.add_argument("--within", type=float, default=120.0, help="seconds to wait for every answer")
    args = parser.parse_args()
    if args.reporters < 4:
        parser.error("--reporters must be at least 4")
    try:
        figures = await run(args.reporters, args.within)
    except (TimeoutError, RuntimeError) as error:
        # A step of the scenario that never happened (no topic, no confirmation) is a failure too.
        print(f"FAIL: {error}")
        print("result: FAIL")
        return 1
    report(figures, args.reporters)
    problems = figures.problems
    for problem in problems:
        print(f"FAIL: {problem}")
    print("result: " + ("FAIL" if problems else "OK"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
