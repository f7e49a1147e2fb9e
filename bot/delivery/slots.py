"""Send slots: how many sends run at once, conversation first, and a slow send's slot lent out.

Sends to different recipients overlap because network latency would cap a sequential sender far
below the platform's rate, but not without bound (connections, database sessions, the pacer's
queue). A send that is slow is almost always waiting for its own recipient (a group chat paced at
20 messages a minute, a flooded chat): it keeps only a spare slot, so it does not hold up others.
"""

from __future__ import annotations

import asyncio
from collections import deque


class Slots:
    """`size` sends at once; waiting conversation rows get a free slot before waiting notice rows.

    A send still running after `slow_after` seconds hands its slot on and counts as one of at most
    `spare` slow sends; once that many are slow, further slow sends keep their slots.
    """

    def __init__(self, size: int, *, spare: int, slow_after: float) -> None:
        self._free = max(size, 1)
        self._spare = max(spare, 0)
        self._slow = 0
        self._slow_after = slow_after
        # Waiters only exist while no slot is free: a slot given back goes straight to one of them.
        self._urgent: deque[asyncio.Future[bool]] = deque()
        self._bulk: deque[asyncio.Future[bool]] = deque()
        self._closed = False

    @property
    def slow(self) -> int:
        """Sends running past `slow_after` that gave their slot on."""
        return self._slow

    async def take(self, *, urgent: bool) -> Turn | None:
        """Wait for a slot; None once the slots are closed (the worker is stopping)."""
        if self._closed:
            return None
        if self._free > 0:
            self._free -= 1
            return Turn(self)
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        queue = self._urgent if urgent else self._bulk
        queue.append(waiter)
        try:
            granted = await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.result():
                self._give()  # handed a slot just as we were cancelled: pass it on
            else:
                queue.remove(waiter)
            raise
        return Turn(self) if granted else None

    def close(self) -> None:
        """No more slots for anyone; those waiting get None."""
        self._closed = True
        for queue in (self._urgent, self._bulk):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(False)

    def _give(self) -> None:
        for queue in (self._urgent, self._bulk):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(True)
                    return
        self._free += 1

    def _lend(self) -> bool:
        """A slow send asks to give its slot on; False when enough sends are slow already."""
        if self._slow >= self._spare:
            return False
        self._slow += 1
        self._give()
        return True

    def _returned(self) -> None:
        self._slow -= 1


class Turn:
    """One send's slot, from `Slots.take` until `done`."""

    def __init__(self, slots: Slots) -> None:
        self._slots = slots
        self._state = "holding"  # then "lent" (a slow send) and "done"
        self._timer = asyncio.get_running_loop().call_later(slots._slow_after, self._lend)

    def _lend(self) -> None:
        if self._state == "holding" and self._slots._lend():
            self._state = "lent"

    def answered(self) -> None:
        """The messenger has answered: what follows (the record) is the database's time, not the
        recipient's, and lends nothing; slots lent while the database is slow would only add writers."""
        self._timer.cancel()

    def done(self) -> None:
        """The send and its record are over: the slot goes to the next waiter (once)."""
        self._timer.cancel()
        if self._state == "holding":
            self._slots._give()
        elif self._state == "lent":
            self._slots._returned()
        self._state = "done"
