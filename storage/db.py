"""Engine and sessions: one `Database` per process, one session per update."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage.unit import AfterCommit, Unit, after_commit, current_unit, enter, leave

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


@dataclass(frozen=True, slots=True)
class PoolSizing:
    """How many connections one process keeps open, and how long a session waits for one.

    PostgreSQL: sized for the work in flight (inbound workers, deliveries, webhooks); a pool
    smaller than that opens and closes an overflow connection for nearly every session, each a new
    backend process (bench/intake.py, 50 citizens: 166 connections opened in one run with 20, 43
    with 40, and 17.5 instead of 21 ms of CPU a step). Processes × (size + overflow) must stay
    under PostgreSQL's max_connections (100 by default). SQLite has one writer at a time: more
    connections only wait for each other in busy-wait sleeps, so it keeps SQLAlchemy's 5 + 10.
    None means the backend's default.
    """

    size: int | None = None
    overflow: int | None = None
    timeout_seconds: float = 10.0

    def for_backend(self, sqlite: bool) -> tuple[int, int]:
        """(pool size, overflow) for this backend."""
        size = self.size if self.size is not None else (5 if sqlite else 35)
        overflow = self.overflow if self.overflow is not None else (10 if sqlite else 5)
        return size, overflow


class Database:
    """Owns the async engine and hands out sessions."""

    def __init__(self, url: str, *, echo: bool = False, pool: PoolSizing | None = None) -> None:
        self.url = url
        sizing = pool or PoolSizing()
        # An in-memory SQLite database is one connection (StaticPool): it takes no pool sizes.
        parsed = make_url(url)
        in_memory = parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")
        size, overflow = sizing.for_backend(parsed.get_backend_name() == "sqlite")
        sized: dict[str, Any] = (
            {}
            if in_memory
            else {"pool_size": size, "max_overflow": overflow, "pool_timeout": sizing.timeout_seconds}
        )
        # Parameters are citizens' words and phone numbers: an error or echo shows the SQL only.
        self.engine: AsyncEngine = create_async_engine(
            url, echo=echo, pool_pre_ping=True, hide_parameters=True, **sized
        )
        if self.is_sqlite:
            sync_engine: Engine = self.engine.sync_engine
            event.listen(sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @asynccontextmanager
    async def session(self, *, savepoint: bool = False) -> AsyncIterator[AsyncSession]:
        """A session that commits on success and rolls back on error.

        Inside `unit()` it is the unit's session: nothing is committed here, and an error rolls
        the whole unit back. `savepoint` makes the block undoable on its own on PostgreSQL (a
        caller that catches a constraint error and goes on).
        """
        unit = current_unit(self)
        if unit is not None:
            # pysqlite opens SQLite's transaction only at the first write, so a SAVEPOINT before it
            # would start (and its RELEASE commit) a transaction of its own: on SQLite the block
            # joins the unit (its callers' races cannot happen with one process).
            if savepoint and not self.is_sqlite:
                async with unit.session.begin_nested():
                    yield unit.session
            else:
                yield unit.session
            return
        async with self.sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[Unit]:
        """One session and one commit for all this task does inside (see `storage.unit`)."""
        if current_unit(self) is not None:
            raise RuntimeError("a unit of work is already open in this task")
        async with self.sessions() as session:
            unit = Unit(self, session)
            token = enter(unit)
            try:
                yield unit
                await unit.commit()
            except BaseException:
                unit.discard()
                await session.rollback()
                raise
            finally:
                leave(token)

    def after_commit(self, callback: AfterCommit) -> Awaitable[None] | None:
        """Run `callback` once the current unit of work commits (now, when there is none)."""
        return after_commit(self, callback)

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


class StorageBusy(Exception):
    """Storage is up but has more work waiting than it takes on: come back a little later."""


def _transient_errors() -> tuple[type[BaseException], ...]:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import LockError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from sqlalchemy.exc import InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeoutError

    return (
        StorageBusy,
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
