"""Secrets never reach a log line or a stored error: bot tokens, access tokens, database passwords.

Tokens travel inside URLs (aiogram downloads from .../file/bot<TOKEN>/..., VK requests carry
access_token=...), so any exception text or message may hold one. `redact` scrubs a string;
`setup_logging` makes every log record scrubbed before any handler writes it.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Iterable
from typing import TextIO

MASK = "***"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# A Telegram bot token; the bot id before the colon is public (it is the bot's user id), so it
# stays and tells which bot the line is about.
_TELEGRAM_TOKEN = re.compile(r"(\d{3,20}):[A-Za-z0-9_-]{30,60}")
# scheme://user:password@host (database, Redis, AMQP URLs); the user stays.
_URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*):[^@\s/]+@")
# VK (and OAuth in general) put the token in the query string or a form field.
_ACCESS_TOKEN = re.compile(r"(access_token[\"']?\s*[=:]\s*[\"']?)[^&\s\"',}]+", re.IGNORECASE)
# PostgreSQL's DETAIL line quotes the offending values ("Key (phone)=(+7...)", "Failing row
# contains (...)"): personal data, and parameters the engine is told to hide.
_SQL_DETAIL = re.compile(r"DETAIL:[^\n]*")

# Secrets with no recognisable shape (VK community tokens, webhook secrets), registered at start.
_known: set[str] = set()
_known_lock = threading.Lock()
# Shorter strings would mask ordinary words; real secrets are much longer.
_MIN_KNOWN_LENGTH = 8


def register_secrets(values: Iterable[str | None]) -> None:
    """Remember configured secrets so `redact` masks them wherever they appear."""
    with _known_lock:
        _known.update(v for v in values if v and len(v) >= _MIN_KNOWN_LENGTH)


def forget_secrets() -> None:
    """Drop the registered secrets (tests that register their own)."""
    with _known_lock:
        _known.clear()


def redact(text: str) -> str:
    """`text` with tokens, access tokens, URL passwords, SQL detail lines and known secrets masked."""
    for secret in sorted(_known, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    text = _TELEGRAM_TOKEN.sub(rf"\1:{MASK}", text)
    text = _URL_PASSWORD.sub(rf"\1:{MASK}@", text)
    text = _ACCESS_TOKEN.sub(rf"\1{MASK}", text)
    return _SQL_DETAIL.sub(f"DETAIL: {MASK}", text)


class RedactingFilter(logging.Filter):
    """Scrubs a record in place, before its handler formats it.

    A filter sees the record, not the text a handler writes, so it renders the message (`msg %
    args`) and the traceback itself: `Formatter.format` reuses `exc_text` once set, so every
    handler sharing the record (pytest's caplog, a second stream) then prints the scrubbed one.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            # A malformed call (args not matching the format): logging reports it when the handler
            # formats the record; a filter must never raise into the code that logged.
            return True
        record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class RedactingFormatter(logging.Formatter):
    """Scrubs the finished text: the last line of defence for whatever the filter could not see
    (a traceback rendered after it ran, a secret split across message and args)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup_logging(
    level: str, *, stream: TextIO | None = None, secrets: Iterable[str | None] = ()
) -> logging.Handler:
    """Log to `stream` (stderr) in our format, every root handler scrubbing secrets; returns ours.

    Used by `python -m bot` at start. Handlers already on the root logger (a test's capture, say)
    get the filter too, so no handler writes a token.
    """
    register_secrets(secrets)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(RedactingFormatter(LOG_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level.upper())
    for existing in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in existing.filters):
            existing.addFilter(RedactingFilter())
    return handler
