"""A citizen's answer to one update, queued in the outbox under the update's key.

The dialog engine queues the views it produced before it stores the dialog's new state: if the
process dies in between, the update is processed again and its reply, queued under the same key,
is not queued twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.core.clock import Clock
from bot.core.messages import Inbound, View
from bot.delivery.postbox import to_citizen
from storage.db import Database


class Replies:
    """Queues replies to citizens; `on_queued` tells this process's delivery to look at once."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._listeners: list[Callable[[], None]] = []

    def on_queued(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` after every reply queued (a delivery worker's wake-up); returns its removal."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def queue(
        self, inbound: Inbound, lang: str, views: Sequence[View], *, unknown_citizen: bool = False
    ) -> bool:
        """Queue the reply to `inbound`; False when it was queued before (the update is being redone).

        To an `unknown_citizen` (not consented, or just forgotten) the row forgets them once sent.
        """
        if not views:
            return False
        async with self._db.session() as session:
            new = await to_citizen(
                session,
                platform=inbound.platform,
                user_id=inbound.user_id,
                key=f"reply:{inbound.key}",
                views=views,
                lang=lang,
                now=self._clock.now(),
                erase_when_sent=unknown_citizen,
            )
        # The delivery worker would find nothing before the reply is committed.
        self._db.after_commit(self._notify)
        return new

    def _notify(self) -> None:
        for listener in self._listeners:
            listener()
