"""Made-up secrets that no log line or stored row may show, and logging installed as the bot sets it
up, on a stream a test reads (the ``scrubbed_logs`` fixture undoes it)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from bot.core.redaction import RedactingFilter, forget_secrets, setup_logging

TG_TOKEN = "123456789:" + "A" * 35
VK_TOKEN = "vk1.a." + "Zq9" * 30
GOOD_TG_SECRET = "tsur-webhook_secret-2026"
GOOD_VK_SECRET = "tsurCallbackSecret2026"
PHONE = "+79120000001"
DB_PASSWORD = "hunter2-pass"

log = logging.getLogger("tests.secrets")


@contextmanager
def scrubbed_stream() -> Iterator[io.StringIO]:
    """The stream our logging setup writes to; the setup itself is undone afterwards."""
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    yield stream
    for handler in list(root.handlers):
        if getattr(handler, "stream", None) is stream:
            root.removeHandler(handler)
        for found in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(found)
    root.setLevel(level)
    forget_secrets()


def install(stream: io.StringIO) -> None:
    # Inside the test body: pytest's caplog handler for this phase is on the root logger by now.
    setup_logging("INFO", stream=stream, secrets=[VK_TOKEN, GOOD_TG_SECRET])
