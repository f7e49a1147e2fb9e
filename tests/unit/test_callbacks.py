"""Signed callback data: bound to a chat and its binding, expiring after 30 days, within 64 bytes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.clock import ManualClock
from bot.services.catalog import load_sector_specs
from bot.services.notices.content import NoticeKind
from handlers.telegram.callbacks import CALLBACK_DATA_LIMIT, CallbackSigner, Press

CHAT = -100_123_456_789_0
LONGEST_ID = 999_999_999_999


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 24, 5, 0, tzinfo=UTC))


@pytest.fixture
def signer(clock: ManualClock) -> CallbackSigner:
    return CallbackSigner(b"k" * 32, clock)


def test_a_press_is_valid_only_in_its_chat_and_binding(signer: CallbackSigner) -> None:
    data = signer.sign("take", 42, CHAT, nonce="a1b2c3d4")
    assert signer.verify(data, CHAT, nonce="a1b2c3d4") == ("take", 42)
    assert signer.check(data, CHAT, nonce="a1b2c3d4") == Press("take", 42, expired=False)
    assert signer.verify(data, CHAT - 1, nonce="a1b2c3d4") is None  # transplanted
    assert signer.verify(data, CHAT, nonce="ffffffff") is None  # the chat was bound anew
    assert signer.verify(data, CHAT, nonce="a1b2c3d4", prefix="cm") is None
    assert CallbackSigner(b"x" * 32).verify(data, CHAT, nonce="a1b2c3d4") is None


def test_forged_data_is_refused(signer: CallbackSigner) -> None:
    data = signer.sign("take", 42, CHAT, nonce="n")
    prefix, action, ident, expiry, tag = data.split(":")
    forged = [
        f"{prefix}:answer:{ident}:{expiry}:{tag}",
        f"{prefix}:{action}:43:{expiry}:{tag}",
        f"{prefix}:{action}:{ident}:zzzz:{tag}",  # a later expiry
        f"{prefix}:{action}:{ident}:{expiry}:{tag[:-1]}A",
        f"{prefix}:{action}:{ident}:{tag}",
        f"{prefix}:{action}:４２:{expiry}:{tag}",
        f"{prefix}:{action}:{ident}:é:{tag}",
        "op:take:42",
        "",
    ]
    for data in forged:
        assert signer.check(data, CHAT, nonce="n") is None, data


def test_buttons_expire_after_thirty_days(signer: CallbackSigner, clock: ManualClock) -> None:
    data = signer.sign("take", 42, CHAT, nonce="n")
    clock.advance(timedelta(days=30))
    assert signer.verify(data, CHAT, nonce="n") == ("take", 42)
    clock.advance(timedelta(days=1))
    # Authentic but old: told apart from a forgery, so the card can be re-posted.
    assert signer.check(data, CHAT, nonce="n") == Press("take", 42, expired=True)
    assert signer.verify(data, CHAT, nonce="n") is None
    fresh = signer.sign("take", 42, CHAT, nonce="n")
    assert signer.verify(fresh, CHAT, nonce="n") == ("take", 42)


def test_the_longest_callback_data_fits_telegrams_limit(signer: CallbackSigner) -> None:
    sectors = [sector.id for sector in load_sector_specs()]
    operator = ["take", "clarify", "answer", "reject", "transfer", "phone"]
    operator += [f"tr-{s}" for s in sectors] + ["rj-competence", "rj-duplicate"]
    comms = [f"k-{kind}" for kind in NoticeKind] + [f"s-{s}" for s in sectors]
    comms += ["n-resume", "n-pause", "n-stop", "n-kill", "n-back", "a-back", "p-tg", "pv", "x"]
    for action in operator:
        data = signer.sign(action, LONGEST_ID, CHAT, nonce="ffffffffffffffff")
        assert len(data.encode()) <= CALLBACK_DATA_LIMIT, data
        assert signer.verify(data, CHAT, nonce="ffffffffffffffff") == (action, LONGEST_ID)
    for action in comms:
        data = signer.sign(action, LONGEST_ID, CHAT, prefix="cm")
        assert len(data.encode()) <= CALLBACK_DATA_LIMIT, data
    # The longest operator action today, with room to spare for new sectors.
    assert len(signer.sign("tr-transport", LONGEST_ID, CHAT, nonce="n").encode()) <= 46
    with pytest.raises(ValueError, match="64 bytes"):
        signer.sign("x" * 40, LONGEST_ID, CHAT)
