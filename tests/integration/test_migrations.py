"""The migrations build exactly the models' schema (on SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.db import Database, migrate
from storage.models import Base


async def test_migrations_match_models(database_url: str) -> None:
    db = Database(database_url)
    try:
        await migrate(db)
        await migrate(db)  # a second run is a no-op

        def diff(connection: Any) -> list[Any]:
            return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

        async with db.engine.connect() as connection:
            differences = await connection.run_sync(diff)
    finally:
        await db.dispose()
    assert differences == []
