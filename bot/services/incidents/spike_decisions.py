"""What can be decided about a spike alert, and the shapes the watch is built with."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

# (action, alert id, chat id, the chat's binding nonce) → signed callback data; the Telegram adapter
# signs (handlers/telegram/callbacks.py), the service only knows it must be signed.
SignButton = Callable[[str, int, int, str], str]
OpenIncident = Callable[[list[int], str], Awaitable[int]]


class Decision(StrEnum):
    """The alert's buttons; the value is the callback action and the alert's state afterwards."""

    INCIDENT = "incident"
    NOTIFY = "notified"
    IGNORE = "ignored"


OPEN = "open"


class SpikeRefused(Exception):
    """A decision the service will not carry out; `reason` is a locale key."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Decided:
    """What a decision did: the alert's new state, and the incident it opened, if any."""

    alert_id: int
    state: str
    incident_id: int | None = None
