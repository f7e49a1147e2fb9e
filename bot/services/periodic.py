"""Background passes that run every few seconds beside update handling (deadlines, retention)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from storage.db import TRANSIENT_ERRORS


async def every(
    interval: float,
    stop: asyncio.Event,
    one_pass: Callable[[], Awaitable[object]],
    log: logging.Logger,
    what: str,
) -> None:
    """Run `one_pass` every `interval` seconds until `stop` is set; a database that is briefly away is
    waited out and any other failure logged, so the loop never ends the process."""
    while not stop.is_set():
        try:
            await one_pass()
        except TRANSIENT_ERRORS as error:
            log.warning("%s pass failed, retrying in %.0f s: %s", what, interval, error)
        except Exception:
            log.exception("%s pass failed", what)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
