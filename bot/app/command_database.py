"""The database as the command-line tools use it: migrated and seeded, closed afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.core.config import Settings
from storage.db import Database


@asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[Database]:
    """The database, migrated and seeded with reference data, closed afterwards."""
    from bot.services.catalog import seed_catalog
    from bot.services.reports.block_contacts import seed_block_contacts
    from storage.db import migrate

    db = Database(settings.database_url)
    try:
        await migrate(db)
        await seed_catalog(db)
        await seed_block_contacts(db)
        yield db
    finally:
        await db.dispose()
