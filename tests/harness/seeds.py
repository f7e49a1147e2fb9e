"""Rows put straight into the database, for tests that need many of them quickly."""

from __future__ import annotations

from sqlalchemy import insert, literal, select

from storage.db import Database
from storage.models import Citizen, Subscription
from tests.harness.settings import START


async def seed_subscribers(db: Database, count: int, first: int = 900_000) -> None:
    """`count` more Telegram subscribers of Yekaterinburg: one bulk insert each for citizens and
    subscriptions, so thousands take a moment."""
    async with db.session() as session:
        await session.execute(
            insert(Citizen),
            [
                {
                    "platform": "tg",
                    "platform_user_id": str(first + i),
                    "language": "ru",
                    "consent_at": START,
                }
                for i in range(count)
            ],
        )
        await session.execute(
            insert(Subscription).from_select(
                ["citizen_id", "scope", "value"],
                select(Citizen.id, literal("municipality"), literal("ekaterinburg")).where(
                    ~select(Subscription.id).where(Subscription.citizen_id == Citizen.id).exists()
                ),
            )
        )
