"""One source of time, so tests can move it (deadlines, expiry, scheduling)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Real aware UTC time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ShiftedClock:
    """Real time moved to start at `start`: a run (a benchmark) at a chosen hour that still ticks."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ShiftedClock needs an aware datetime")
        self._offset = start - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset


class ManualClock:
    """A clock that only moves when told to (tests, simulations)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, moment: datetime) -> None:
        self._now = moment


class ScaledClock:
    """Time from `start` that runs `speed` times as fast as real time and can jump forward (the
    training sandbox: a day of deadlines in minutes). It never runs backwards."""

    def __init__(
        self, start: datetime, speed: float = 1.0, real: Callable[[], float] = time.monotonic
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("ScaledClock needs an aware datetime")
        self._real = real
        self._base = start
        self._real_base = real()
        self._speed = _checked_speed(speed)

    @property
    def speed(self) -> float:
        """How many seconds pass on this clock per real second."""
        return self._speed

    def now(self) -> datetime:
        return self._base + timedelta(seconds=(self._real() - self._real_base) * self._speed)

    def set_speed(self, speed: float) -> None:
        """Run at `speed` from now on (between 1 and 3600)."""
        self._rebase(self.now())
        self._speed = _checked_speed(speed)

    def jump_to(self, moment: datetime) -> None:
        """Move forward to `moment`; a moment in the past changes nothing."""
        if moment > self.now():
            self._rebase(moment)

    def _rebase(self, moment: datetime) -> None:
        self._base = moment
        self._real_base = self._real()


MAX_SPEED = 3600.0


def _checked_speed(speed: float) -> float:
    if not 1.0 <= speed <= MAX_SPEED:
        raise ValueError(f"speed must be between 1 and {MAX_SPEED:.0f}, not {speed}")
    return float(speed)
