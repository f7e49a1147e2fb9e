"""Signed Telegram callback data: "<prefix>:<action>:<id>:<expiry>:<tag>".

The tag is an HMAC over the prefix, action, id, chat, the chat's binding nonce and the expiry day,
so a button copied to another chat, kept from before the chat was bound anew, or made up, is
refused before anything is looked up. The expiry (a day number in base36) is in the data and in
the HMAC: an authentic but old button is told apart from a forged one, so its card can be re-posted
with fresh buttons instead of failing silently. The server re-checks everything else (who may act,
the report's state) on every press.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.core.clock import Clock, SystemClock

# Telegram's limit on callback_data, in bytes.
CALLBACK_DATA_LIMIT = 64
BUTTON_LIFETIME = timedelta(days=30)
TAG_BYTES = 9  # 72 bits; base64 without padding is 12 characters
MAX_IDENT_DIGITS = 12
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(number: int) -> str:
    text = ""
    while True:
        number, digit = divmod(number, 36)
        text = _DIGITS[digit] + text
        if number == 0:
            return text


def _day(moment: datetime) -> int:
    return (moment - EPOCH).days


@dataclass(frozen=True)
class Press:
    """An authentic button press: its action and id, and whether the button is past its expiry."""

    action: str
    ident: int
    expired: bool


class CallbackSigner:
    """Signs callback data bound to one chat and its binding, valid for `BUTTON_LIFETIME`."""

    def __init__(self, secret: bytes, clock: Clock | None = None) -> None:
        self._secret = secret
        self._clock = clock or SystemClock()

    def _tag(self, prefix: str, action: str, ident: int, chat_id: int, nonce: str, expiry: str) -> str:
        message = f"{prefix}:{action}:{ident}:{chat_id}:{nonce}:{expiry}".encode()
        mac = hmac.new(self._secret, message, hashlib.sha256).digest()[:TAG_BYTES]
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def sign(self, action: str, ident: int, chat_id: int, *, nonce: str = "", prefix: str = "op") -> str:
        """Callback data for a button in `chat_id` whose binding carries `nonce`."""
        expiry = _base36(_day(self._clock.now() + BUTTON_LIFETIME))
        tag = self._tag(prefix, action, ident, chat_id, nonce, expiry)
        data = f"{prefix}:{action}:{ident}:{expiry}:{tag}"
        if len(data.encode()) > CALLBACK_DATA_LIMIT or ":" in action or len(str(ident)) > MAX_IDENT_DIGITS:
            raise ValueError(f"callback data {data!r} does not fit Telegram's {CALLBACK_DATA_LIMIT} bytes")
        return data

    def check(self, data: str, chat_id: int, *, nonce: str = "", prefix: str = "op") -> Press | None:
        """The press if `data` was signed by us for this chat and binding (expired or not), else None."""
        parts = data.split(":")
        if len(parts) != 5 or parts[0] != prefix:
            return None
        _, action, ident, expiry, tag = parts
        if not ident.isascii() or not ident.isdigit() or len(ident) > MAX_IDENT_DIGITS:
            return None
        if not expiry or len(expiry) > 6 or any(c not in _DIGITS for c in expiry):
            return None
        expected = self._tag(prefix, action, int(ident), chat_id, nonce, expiry)
        if not hmac.compare_digest(expected, tag):
            return None
        expired = _day(self._clock.now()) > int(expiry, 36)
        return Press(action, int(ident), expired)

    def verify(
        self, data: str, chat_id: int, *, nonce: str = "", prefix: str = "op"
    ) -> tuple[str, int] | None:
        """(action, id) of an authentic, unexpired press; None for anything else."""
        press = self.check(data, chat_id, nonce=nonce, prefix=prefix)
        return None if press is None or press.expired else (press.action, press.ident)


def callback_signer(token: str, clock: Clock | None = None) -> CallbackSigner:
    """Operator buttons are signed with a key derived from the bot token (never sent anywhere);
    `clock` dates their expiry (the system clock unless a test moves time)."""
    return CallbackSigner(hashlib.sha256(b"tsur-operator-callbacks:" + token.encode()).digest(), clock)
