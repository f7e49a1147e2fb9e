"""The delivery ports: what the worker hands a messenger, what a messenger answers, and the
policies the worker is given instead of knowing any domain."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.outbox import Kind
from storage.models import OutboxMessage


@dataclass(frozen=True)
class Delivery:
    """One claimed outbox row, as a messenger sees it."""

    id: int
    platform: str
    kind: Kind
    target: str
    report_id: int | None
    payload: dict[str, Any]
    attempts: int
    key: str
    # Set for a notice's delivery: the payload is then the notice's, rendered in the citizen's language.
    notice_id: int | None = None


@dataclass(frozen=True)
class Sent:
    """Delivered."""


@dataclass(frozen=True)
class RetryAfter:
    """The platform asked to wait (flood control); not the message's fault, so no attempt is counted.

    `done_parts`: how many parts of a multi-part message already went out (resume after them)."""

    seconds: float
    done_parts: int = 0


@dataclass(frozen=True)
class Unreachable:
    """The recipient cannot be reached (blocked the bot, left, chat gone): give up for good."""

    reason: str


@dataclass(frozen=True)
class Failed:
    """Something went wrong; try again later with backoff, up to the worker's max attempts."""

    error: str
    done_parts: int = 0


Outcome = Sent | RetryAfter | Unreachable | Failed


class Messenger(Protocol):
    """Sends deliveries of one platform and reports the outcome; never raises for API errors."""

    platform: str

    async def deliver(self, delivery: Delivery) -> Outcome: ...


class BatchMessenger(Messenger, Protocol):
    """A messenger that can send one message to many recipients in one call (VK: 100 peer_ids)."""

    batch_limit: int

    async def deliver_many(self, deliveries: Sequence[Delivery]) -> list[Outcome]:
        """Outcomes in the order of `deliveries`, which all carry the same payload."""
        ...


OnUnreachable = Callable[[AsyncSession, Delivery, datetime], Awaitable[None]]


class NoticePolicy(Protocol):
    """What the worker needs to know of notices, injected so delivery knows no domain: when a
    notice row must wait (the recipient's quiet hours), and what a notice row says."""

    def held_until(self, delivery: Delivery, now: datetime) -> datetime | None: ...

    async def payload(self, session: AsyncSession, row: OutboxMessage) -> dict[str, Any]: ...


class NoNotices:
    """No notices to deliver: nothing is held, a row says what its payload says."""

    def held_until(self, delivery: Delivery, now: datetime) -> datetime | None:
        return None

    async def payload(self, session: AsyncSession, row: OutboxMessage) -> dict[str, Any]:
        return dict(row.payload)
