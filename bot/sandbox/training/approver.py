"""The sandbox's second comms member (four eyes): presses «✅ Одобрить» on every approval request the
bot posts in the comms chat, a short while after it appears, so a trainee composing a large notice
sees it approved and sent without a second person at the keyboard."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.sandbox.training.ports import TrainingWorld

log = logging.getLogger(__name__)

APPROVE_LABEL = "✅ Одобрить"
APPROVAL_DELAY = 3.0  # real seconds: long enough to read the request on the page first
POLL = 0.5


class ScriptedApprover:
    """Approves each approval request in `world.comms_chat` once, as `world.approver`."""

    def __init__(self, world: TrainingWorld, delay: float = APPROVAL_DELAY) -> None:
        self.world = world
        self.delay = delay
        self.approved: list[int] = []  # message ids pressed
        self._seen: dict[int, float] = {}  # message id → when (loop time) it was first seen

    async def step(self) -> list[int]:
        """One look at the chat: press the buttons whose delay is over; the message ids pressed."""
        loop = asyncio.get_running_loop()
        chat = self.world.comms_chat
        pressed: list[int] = []
        for message in chat.messages():
            data = message.callback_data(APPROVE_LABEL) if APPROVE_LABEL in message.inline_buttons else None
            if data is None or message.message_id in self.approved:
                continue
            first_seen = self._seen.setdefault(message.message_id, loop.time())
            if loop.time() - first_seen < self.delay:
                continue
            self.approved.append(message.message_id)
            await chat.press_data(self.world.approver, data, message.raw)
            pressed.append(message.message_id)
        return pressed

    async def run(self, stop: asyncio.Event) -> None:
        """Watch the comms chat until `stop` is set."""
        while not stop.is_set():
            try:
                await self.step()
            except Exception:
                # A refused press (the request was withdrawn meanwhile) must not end the watch.
                log.exception("the scripted approver failed to press")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), POLL)
