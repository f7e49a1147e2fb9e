"""One update's work in one transaction: the unit of work the inbound worker opens per update.

Inside `Database.unit()`, every `Database.session()` of the same task joins the unit's session
instead of opening its own: the de-duplication record, the citizen, the dialog state, the reply
in the outbox and the report are committed together, once, or not at all. Work that must wait for
the commit (waking the delivery worker, writing dialog state to Redis) is registered with
`after_commit`; work that must be part of it but run last (marking the update done) with
`before_commit`. Other tasks (a background task copies the context) get sessions of their own.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from contextvars import ContextVar

from sqlalchemy.ext.asyncio import AsyncSession

BeforeCommit = Callable[[AsyncSession], Awaitable[None]]
AfterCommit = Callable[[], Awaitable[None] | None]


class Unit:
    """The session of one unit of work and what runs around its commit."""

    def __init__(self, owner: object, session: AsyncSession) -> None:
        self.owner = owner
        self.session = session
        self.commits = 0
        self._before: list[BeforeCommit] = []
        self._after: list[AfterCommit] = []

    def before_commit(self, work: BeforeCommit) -> None:
        """Run `work` in the unit's transaction just before it commits."""
        self._before.append(work)

    def after_commit(self, callback: AfterCommit) -> None:
        """Run `callback` once the unit's work is committed (never, if it is rolled back)."""
        self._after.append(callback)

    async def commit(self) -> None:
        """Commit what the unit did so far, then run what waited for it."""
        before, self._before = self._before, []
        for work in before:
            await work(self.session)
        await self.session.commit()
        self.commits += 1
        after, self._after = self._after, []
        for callback in after:
            result = callback()
            if inspect.isawaitable(result):
                await result

    def discard(self) -> None:
        """Rolled back: nothing registered runs."""
        self._before.clear()
        self._after.clear()


_current: ContextVar[tuple[Unit, asyncio.Task[object] | None] | None] = ContextVar(
    "tsur_unit_of_work", default=None
)


def current_unit(owner: object) -> Unit | None:
    """The unit of work of this task for the database `owner`, if one is open."""
    unit = open_unit()
    return unit if unit is not None and unit.owner is owner else None


def open_unit() -> Unit | None:
    """The unit of work of this task, whatever its database (for stores outside SQL, like Redis)."""
    entry = _current.get()
    if entry is None or entry[1] is not asyncio.current_task():
        return None
    return entry[0]


def enter(unit: Unit) -> object:
    """Make `unit` the current task's unit of work; returns the token for `leave`."""
    return _current.set((unit, asyncio.current_task()))


def leave(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


async def commit_unit() -> None:
    """Commit the current unit of work now (any database), if there is one; later work joins it
    again and is committed when the unit ends. The dialog engine calls it while it still holds the
    citizen's lock, so the next update of that citizen sees everything this one did."""
    unit = open_unit()
    if unit is not None:
        await unit.commit()


def after_commit(owner: object, callback: AfterCommit) -> Awaitable[None] | None:
    """Run `callback` after the current unit commits, or now when there is no unit."""
    unit = current_unit(owner)
    if unit is None:
        return callback()
    unit.after_commit(callback)
    return None
