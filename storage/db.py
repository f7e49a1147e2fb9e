"""Engine and sessions: one `Database` per process, one session per update."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    # WAL lets the delivery worker read while a dialog writes; FKs are off by default in SQLite.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL loses nothing when the process dies (only on power loss), and commits are cheap.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class Database:
    """Owns the async engine and hands out sessions."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        # Parameters are citizens' words and phone numbers: an error or echo shows the SQL only.
        self.engine: AsyncEngine = create_async_engine(
            url, echo=echo, pool_pre_ping=True, hide_parameters=True
        )
        if self.is_sqlite:
            sync_engine: Engine = self.engine.sync_engine
            event.listen(sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session that commits on success and rolls back on error."""
        async with self.sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()


def alembic_config(url: str) -> object:
    """Alembic Config pointing at our migrations and the given database."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


class MigrationBrokeReferences(RuntimeError):
    """A migration left rows pointing at rows that are gone (SQLite's foreign_key_check)."""


async def migrate(db: Database, revision: str = "head") -> None:
    """Bring the schema to `revision` (the newest by default; safe to call on every start)."""
    from alembic import command

    config = alembic_config(db.url)

    def _upgrade(connection: object) -> None:
        config.attributes["connection"] = connection  # type: ignore[attr-defined]
        command.upgrade(config, revision)  # type: ignore[arg-type]

    async with db.engine.connect() as connection:
        if db.is_sqlite:
            # SQLite alters a table by copying it and dropping the old one; with foreign keys on,
            # that DROP deletes every ON DELETE CASCADE child row. The pragma only takes effect
            # outside a transaction, so it is set before the migration's transaction begins.
            await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            await connection.commit()
        try:
            async with connection.begin():
                await connection.run_sync(_upgrade)
                if db.is_sqlite:
                    broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()
                    if broken:
                        raise MigrationBrokeReferences(f"{len(broken)} rows point at missing rows")
        finally:
            if db.is_sqlite:
                # The connection goes back to the pool: every later session relies on foreign keys.
                await connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                await connection.commit()


def _transient_errors() -> tuple[type[BaseException], ...]:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import LockError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from sqlalchemy.exc import InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeoutError

    return (
        OperationalError,
        InterfaceError,
        # The pool gave no connection in time: every connection is busy, not broken.
        PoolTimeoutError,
        # Includes MaxConnectionsError: redis-py's pool is full during a burst.
        RedisConnectionError,
        RedisTimeoutError,
        # A citizen's lock not acquired in time (another process holds it): try again later.
        LockError,
        ConnectionError,
        TimeoutError,
    )


# Failures of a database or Redis that is briefly away or busy: worth a retry, not a crash.
TRANSIENT_ERRORS = _transient_errors()
