"""Generated Telegram updates and VK events, valid and broken, through the real receivers and
processing: no crash, no 5xx, no handler exception, and every valid citizen's message answered.
(`bench/faults.py --fuzz N` draws thousands.)"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.harness.fuzz import Fuzzed, telegram_updates, vk_events
from tests.harness.fuzzing import FuzzRig, fuzz_rig

EXAMPLES = 150


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[asyncio.AbstractEventLoop, FuzzRig]]:
    """The rig on its own event loop: hypothesis calls the test body synchronously, many times."""
    loop = asyncio.new_event_loop()
    context = fuzz_rig(f"sqlite+aiosqlite:///{tmp_path / 'fuzz.sqlite3'}")
    built = loop.run_until_complete(context.__aenter__())
    try:
        yield loop, built
    finally:
        loop.run_until_complete(context.__aexit__(None, None, None))
        loop.close()


@pytest.mark.parametrize("platform", ["tg", "vk"])
def test_fuzzed_updates_are_stored_processed_and_answered(
    rig: tuple[asyncio.AbstractEventLoop, FuzzRig], platform: str
) -> None:
    loop, fuzz = rig
    strategy: st.SearchStrategy[Fuzzed] = telegram_updates() if platform == "tg" else vk_events()

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(strategy)
    def one(fuzzed: Fuzzed) -> None:
        loop.run_until_complete(fuzz.check(fuzzed, platform))

    one()
    assert fuzz.verdicts.problems == []
    # Both kinds of input were met: answered ones and refused or unprocessable ones.
    assert "ok" in fuzz.verdicts.seen
    assert {"refused", "unprocessable", "stored"} & set(fuzz.verdicts.seen)
