"""kill -9 of the bot while citizens file reports through its webhook: nothing lost, nothing doubled.

The sandbox's Telegram redelivers every update it got no 2xx for (non-2xx, timeouts, resets), as
Telegram does. One kill per phase; `bench/faults.py` runs many more, placed at random.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness.faults import PHASES, kill_trial


@pytest.mark.parametrize("phase", PHASES)
async def test_a_killed_bot_restarts_and_nothing_is_lost_or_doubled(tmp_path: Path, phase: str) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'tsur.sqlite3'}"
    outcome = await kill_trial(tmp_path, url, phase, citizens=3)
    assert outcome.phases == [phase], f"the kill came {outcome.phases}, not {phase}"
    assert (outcome.reports, outcome.lost, outcome.doubled) == (3, 0, 0)
