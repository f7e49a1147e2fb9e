"""A broadcast wake-up shared by the fake API servers: "something changed" (a call, an update)."""

from __future__ import annotations

import asyncio


class Signal:
    """Wakes every coroutine waiting for the next change."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float) -> bool:
        """Wait for the next fire, at most ``seconds``; returns False on timeout."""
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), timeout=max(seconds, 0.0))
        except TimeoutError:
            return False
        return True
