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


def _fill_empty_tables(connection: Any) -> dict[str, int]:
    """One row in every table that has none yet (parents first), built from the reflected columns;
    returns every table's row count."""
    from datetime import UTC, datetime

    from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, MetaData, Numeric, func, select

    meta = MetaData()
    meta.reflect(connection)
    counts: dict[str, int] = {}
    for table in meta.sorted_tables:
        if table.name == "alembic_version":
            continue
        count = connection.execute(select(func.count()).select_from(table)).scalar_one()
        if count == 0:
            row: dict[str, Any] = {}
            for column in table.columns:
                parents = list(column.foreign_keys)
                if parents:
                    parent = parents[0].column
                    row[column.name] = connection.execute(select(parent).limit(1)).scalar_one()
                elif isinstance(column.type, Boolean):
                    row[column.name] = False
                elif isinstance(column.type, Integer | Numeric | Float):
                    row[column.name] = 1
                elif isinstance(column.type, DateTime):
                    row[column.name] = datetime(2026, 11, 24, tzinfo=UTC)
                elif isinstance(column.type, JSON):
                    row[column.name] = {}
                else:
                    row[column.name] = f"{table.name[:6]}-{column.name[:10]}"[:8]
            connection.execute(table.insert().values(**row))
            count = 1
        counts[table.name] = count
    return counts


# Tables a revision replaced, and the table their rows moved to.
MOVED = {"processed_updates": "inbound_updates"}


async def test_migrating_step_by_step_keeps_every_row(database_url: str) -> None:
    """Every table gets a row as soon as its revision creates it; no later step may lose one."""
    from alembic.script import ScriptDirectory

    from storage.db import alembic_config

    db = Database(database_url)
    config: Any = alembic_config(database_url)
    revisions = [r.revision for r in reversed(list(ScriptDirectory.from_config(config).walk_revisions()))]
    lost: list[str] = []
    try:
        counts: dict[str, int] = {}
        for revision in revisions:
            await migrate(db, revision)
            async with db.engine.begin() as connection:
                now = await connection.run_sync(_fill_empty_tables)
            lost += [
                f"{revision}: {name} {before} -> {now.get(name, 0)}"
                for name, before in counts.items()
                if name in now and now[name] < before
            ]
            for name, before in counts.items():
                if name in now:
                    continue
                # A table a revision replaced: its rows must all be in the table that took its place.
                successor = MOVED.get(name)
                expected = counts.get(successor, 0) + before if successor else before
                if successor is None or now.get(successor, 0) < expected:
                    lost.append(f"{revision}: {name} dropped, {before} rows not in {successor}")
            counts = now
    finally:
        await db.dispose()
    assert lost == []
