"""Builds everything from the settings: storage, services, dialogs. Platform adapters plug in on top."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from redis.asyncio import BlockingConnectionPool, Redis
from sqlalchemy.ext.asyncio import AsyncSession

from bot.classify import Classifier
from bot.classify.model import ModelFile
from bot.core.clock import Clock, SystemClock
from bot.core.config import Settings
from bot.core.i18n import Translator
from bot.delivery.ports import Delivery, Messenger
from bot.delivery.worker import OutboxWorker
from bot.inbound.queue import InboundQueue
from bot.services.catalog import Catalog, seed_catalog
from bot.services.citizens.accounts import CitizenService
from bot.services.citizens.flood import FloodGuard, RedisFloodGuard
from bot.services.citizens.replies import Replies
from bot.services.citizens.subscriptions import SubscriptionService
from bot.services.geo import MunicipalityDirectory
from bot.services.incidents.desk import IncidentDesk
from bot.services.incidents.grouping import OFFER_LOOKUPS, OFFER_WINDOW_SECONDS
from bot.services.notices.content import NoticeDeliveryPolicy
from bot.services.notices.service import NoticeService
from bot.services.reports.block_contacts import seed_block_contacts
from bot.services.reports.casework import Casework
from bot.services.reports.deadlines import WorkCalendar
from bot.services.reports.filing import ReportFiling
from bot.services.staff.registry import StaffService
from dialogs.engine import DialogRunner, DialogServices
from dialogs.registry import build_dialogs
from storage.db import Database, PoolSizing, migrate
from storage.state import RedisStateStore, SqlStateStore, StateStore

log = logging.getLogger(__name__)


@dataclass
class App:
    """One process's worth of wiring."""

    settings: Settings
    db: Database
    redis: Redis | None
    services: DialogServices
    runner: DialogRunner
    # Every update from a messenger, stored before it is acknowledged; processed from here.
    inbound: InboundQueue
    replies: Replies
    actions: Casework
    calendar: WorkCalendar
    notices: NoticeService
    staff: StaffService
    # The classifier's file when the process loaded it (None: a test passed its own classifier).
    model_file: ModelFile | None = None

    def outbox_worker(self, messengers: Mapping[str, Messenger], **options: Any) -> OutboxWorker:
        """A delivery worker for these messengers; the operators hear when a citizen is unreachable."""

        async def on_unreachable(session: AsyncSession, delivery: Delivery, now: datetime) -> None:
            await self.actions.citizen_unreachable(session, delivery.report_id, now)

        return OutboxWorker(
            self.db,
            messengers,
            self.services.clock,
            on_unreachable=on_unreachable,
            notices=NoticeDeliveryPolicy(ZoneInfo(self.settings.timezone)),
            **options,
        )

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
        await self.db.dispose()


async def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    classifier: Classifier | None = None,
    state: StateStore | None = None,
    retry_delays: tuple[float, ...] | None = None,
) -> App:
    """Migrate and seed the database, then assemble services and the dialog runner."""
    clock = clock or SystemClock()
    db = Database(settings.database_url, pool=pool_sizing(settings))
    await migrate(db)
    # Read once: seeding and the in-memory catalog use the same directory.
    municipalities = MunicipalityDirectory.load()
    await seed_catalog(db, municipalities)
    await seed_block_contacts(db)
    catalog = await Catalog.load(db, municipalities)
    redis = (
        redis_client(settings.redis_url, settings.redis_connections, settings.redis_wait_seconds)
        if settings.redis_url
        else None
    )
    ttl = timedelta(minutes=settings.dialog_ttl_minutes)
    if state is None:
        state = RedisStateStore(redis, ttl_seconds=int(ttl.total_seconds())) if redis else SqlStateStore(db)
    flood = (
        RedisFloodGuard(redis, settings.flood_limit, settings.flood_window_seconds)
        if redis
        else FloodGuard(settings.flood_limit, settings.flood_window_seconds)
    )
    replies = Replies(db, clock)
    model_file: ModelFile | None = None
    if classifier is None:
        model_file = ModelFile(settings.model_path)
        classifier = model_file.classifier
    calendar = WorkCalendar(settings.timezone)
    staff = StaffService(db, clock, catalog.staff_scopes())
    actions = Casework(db, catalog, clock, calendar, staff)
    offer_guard = (
        RedisFloodGuard(redis, OFFER_LOOKUPS, OFFER_WINDOW_SECONDS, prefix="tsur:offers:")
        if redis
        else FloodGuard(OFFER_LOOKUPS, OFFER_WINDOW_SECONDS)
    )
    incidents = IncidentDesk(db, catalog, clock, calendar, staff, offer_guard)
    services = DialogServices(
        citizens=CitizenService(db, clock),
        reports=ReportFiling(db, catalog, calendar, clock),
        catalog=catalog,
        classifier=classifier,
        translator=Translator(),
        state=state,
        flood=flood,
        clock=clock,
        timezone=ZoneInfo(settings.timezone),
        dialog_ttl=ttl,
        privacy_policy_url=settings.privacy_policy_url,
        subscriptions=SubscriptionService(db, clock, catalog),
        actions=actions,
        replies=replies,
        incidents=incidents,
    )
    dialogs = build_dialogs()
    runner = (
        DialogRunner(services, dialogs, retry_delays)
        if retry_delays is not None
        else DialogRunner(services, dialogs)
    )
    notices = NoticeService(
        db, clock, ZoneInfo(settings.timezone), staff, approval_threshold=settings.notice_approval_threshold
    )
    # Leases and album gathering measure real time, even where the domain runs on a test's clock.
    inbound = InboundQueue(db, SystemClock(), backlog_limit=settings.inbound_backlog_limit)
    return App(
        settings, db, redis, services, runner, inbound, replies, actions, calendar, notices, staff, model_file
    )


def pool_sizing(settings: Settings) -> PoolSizing:
    """The database pool of one process, from the settings."""
    return PoolSizing(
        settings.database_pool_size, settings.database_pool_overflow, settings.database_pool_timeout
    )


def redis_client(url: str, connections: int = 64, wait_seconds: float = 10.0) -> Redis:
    """A Redis client whose pool waits for a free connection (redis-py's default pool raises)."""
    pool = BlockingConnectionPool.from_url(url, max_connections=connections, timeout=wait_seconds)
    return Redis.from_pool(pool)
