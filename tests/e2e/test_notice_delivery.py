"""A notice to many citizens on both platforms through the real libraries and local API servers:
the delivery workers are killed mid-notice and restarted, and every citizen ends up with the notice.

VK drops a repeated (peer, random_id), so a send repeated after the kill never reaches a VK citizen
twice. Telegram has no such key: a message whose send was in flight at the moment of the kill may
be sent again (at least once, never lost); the window is the sends in flight, which the worker
records one by one as soon as each answer arrives.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select

from bot.app.telegram import build_bot, build_delivery
from bot.app.vk import build_vk, build_vk_delivery
from bot.app.wiring import App
from bot.core.clock import ManualClock
from bot.delivery.outbox import LEASE
from bot.delivery.ports import Delivery, Outcome
from bot.sandbox.telegram import FakeTelegramServer
from bot.sandbox.vk import FakeVkServer
from bot.services.notices.content import Audience, NoticeDraft, NoticeKind
from handlers.telegram.callbacks import callback_signer
from storage.models import Citizen, OutboxMessage, Subscription

TG_USERS = range(20_000, 20_060)
VK_USERS = range(30_000, 30_080)


async def seed(app: App, tg: FakeTelegramServer) -> None:
    now = app.services.clock.now()
    async with app.db.session() as session:
        rows = [
            {
                "platform": platform,
                "platform_user_id": str(uid),
                "language": "ru",
                "consent_at": now,
                "created_at": now,
                "quiet_from": None,
                "quiet_to": None,
                "link_failures": 0,
            }
            for platform, users in (("tg", TG_USERS), ("vk", VK_USERS))
            for uid in users
        ]
        await session.execute(insert(Citizen), rows)
        ids = list(await session.scalars(select(Citizen.id)))
        await session.execute(
            insert(Subscription),
            [
                {"citizen_id": cid, "scope": "municipality", "value": "ekaterinburg", "created_at": now}
                for cid in ids
            ],
        )
    for uid in TG_USERS:
        tg.user(uid)


class Killed(BaseException):
    """The process dies: nothing catches it, like SIGKILL."""


class KillAfter:
    """Wraps a messenger: after `count` deliveries went out, the process 'dies' before recording."""

    def __init__(self, inner: Any, count: int, killed: asyncio.Event) -> None:
        self.inner = inner
        self.platform = inner.platform
        self.batch_limit = getattr(inner, "batch_limit", 1)
        self._left = count
        self._killed = killed

    async def _maybe_die(self) -> None:
        self._left -= 1
        if self._left <= 0:
            self._killed.set()
            # Sent, not yet recorded: the worst moment to die.
            raise Killed

    def _dead(self) -> None:
        # A dead process sends nothing more (a sibling task may still be scheduled for a moment).
        if self._killed.is_set():
            raise Killed

    async def deliver(self, delivery: Delivery) -> Outcome:
        self._dead()
        outcome = await self.inner.deliver(delivery)
        await self._maybe_die()
        return outcome


class KillAfterBatch(KillAfter):
    """The same for a messenger that sends one notice to many recipients per call."""

    async def deliver_many(self, deliveries: list[Delivery]) -> list[Outcome]:
        self._dead()
        outcomes = await self.inner.deliver_many(deliveries)
        await self._maybe_die()
        return list(outcomes)


async def test_killed_mid_notice_skips_nobody_and_repeats_only_telegram_sends_in_flight(
    database_url: str, app_factory: Any, clock: ManualClock
) -> None:
    app: App = await app_factory(database_url)
    async with FakeTelegramServer() as tg, FakeVkServer() as vk:
        await seed(app, tg)
        audience = Audience(municipalities=("ekaterinburg",))
        notice_id = await app.notices.plans.store(
            NoticeDraft(NoticeKind.EMERGENCY, "Штормовое предупреждение: порывы ветра до 25 м/с.", audience),
            author="test",
        )
        assert await app.notices.plans.plan(notice_id) == len(TG_USERS) + len(VK_USERS)

        bot = build_bot(tg.token, tg.base_url)
        side = await build_vk(app, vk.token, vk.base_url)
        tg_worker = build_delivery(app, bot, callback_signer(tg.token), global_rate=500.0, chat_rate=500.0)
        vk_worker = build_vk_delivery(app, side, None)
        # First life: both workers die right after a send went out and before it was recorded.
        doomed = [
            app.outbox_worker(
                {"tg": KillAfter(tg_worker.messenger("tg"), 25, asyncio.Event())}, batch=20, concurrency=4
            ),
            app.outbox_worker(
                {"vk": KillAfterBatch(vk_worker.messenger("vk"), 1, asyncio.Event())},
                batch=50,
                concurrency=4,
            ),
        ]
        for worker in doomed:
            task = asyncio.create_task(worker.run(asyncio.Event()))
            for _ in range(200):
                if task.done():
                    break
                await asyncio.sleep(0.05)
            assert task.done(), "the worker did not die"
            assert isinstance(task.exception(), BaseExceptionGroup)
        async with app.db.session() as session:
            left = await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
            )
        assert left and left > 0  # it really died mid-notice

        # Second life, after the leases of the dead worker ran out.
        clock.advance(LEASE + timedelta(seconds=1))
        for _ in range(50):
            handled = await tg_worker.run_once() + await vk_worker.run_once()
            if handled == 0:
                break
        await side.close()
        await bot.session.close()

        vk_counts = Counter(m.peer_id for m in vk.sent)
        tg_counts = Counter(int(c.params["chat_id"]) for c in tg.calls if c.method == "sendMessage" and c.ok)
    assert {peer: vk_counts[peer] for peer in VK_USERS} == {peer: 1 for peer in VK_USERS}
    # Telegram: nobody skipped; at most the sends in flight when the worker died (4 at a time
    # here) went out twice, since Telegram has no key to drop a repeat by.
    assert all(tg_counts[uid] >= 1 for uid in TG_USERS)
    doubled = {u: c for u, c in tg_counts.items() if c > 1}
    assert sum(count - 1 for count in doubled.values()) <= 4, doubled
    stats = await app.notices.stats(notice_id)
    assert stats.sent == len(TG_USERS) + len(VK_USERS) and stats.waiting == 0


async def test_quiet_hours_hold_non_urgent_notices_until_morning(
    sqlite_url: str, app_factory: Any, clock: ManualClock
) -> None:
    app: App = await app_factory(sqlite_url)
    async with FakeVkServer() as vk:
        now = clock.now()
        async with app.db.session() as session:
            citizen = Citizen(
                platform="vk", platform_user_id="31000", language="ru", consent_at=now, created_at=now
            )
            session.add(citizen)
            await session.flush()
            session.add(Subscription(citizen_id=citizen.id, scope="municipality", value="ekaterinburg"))
        # 23:30 in Yekaterinburg (UTC+5).
        clock.set(now.replace(hour=18, minute=30))
        audience = Audience(municipalities=("ekaterinburg",))
        notice_id = await app.notices.plans.store(
            NoticeDraft(NoticeKind.OUTAGE, "Отключение света", audience), "t"
        )
        await app.notices.plans.plan(notice_id)
        side = await build_vk(app, vk.token, vk.base_url)
        worker = build_vk_delivery(app, side, None)
        await worker.run_once()
        assert vk.sent == []
        clock.set(now.replace(hour=3, minute=1) + timedelta(days=1))  # 08:01 local
        await worker.run_once()
        assert [m.peer_id for m in vk.sent] == [31000]
        await side.close()


async def test_a_notice_held_for_quiet_hours_does_not_hold_back_an_emergency(
    sqlite_url: str, app_factory: Any, clock: ManualClock
) -> None:
    app: App = await app_factory(sqlite_url)
    async with FakeVkServer() as vk:
        now = clock.now()
        async with app.db.session() as session:
            citizen = Citizen(
                platform="vk",
                platform_user_id="31001",
                language="ru",
                consent_at=now,
                created_at=now,
                quiet_from=22,
                quiet_to=8,
            )
            session.add(citizen)
            await session.flush()
            session.add(Subscription(citizen_id=citizen.id, scope="municipality", value="ekaterinburg"))
        clock.set(now.replace(hour=18, minute=30))  # 23:30 local
        audience = Audience(municipalities=("ekaterinburg",))
        for kind, text in ((NoticeKind.INFO, "Новости"), (NoticeKind.EMERGENCY, "Штормовое предупреждение")):
            await app.notices.plans.plan(
                await app.notices.plans.store(NoticeDraft(kind, text, audience), "t")
            )
        side = await build_vk(app, vk.token, vk.base_url)
        worker = build_vk_delivery(app, side, None)
        await worker.run_once()
        await worker.run_once()
        assert ["Штормовое предупреждение" in m.text for m in vk.sent] == [True]
        await side.close()
