"""The database or Redis away for seconds while citizens write, and the same update sent many times
to two processes: nothing lost, nothing doubled, the process never exits. (`bench/faults.py`
runs the long outages: 15 s and more.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness.faults import duplicate_trial, redis_outage_trial, storage_outage_trial
from tests.harness.stores import postgres_url, redis_url, reset_postgres

AWAY_SECONDS = 4.0


async def servers(need_redis: bool = False) -> tuple[str, str | None]:
    url = postgres_url()
    if url is None:
        pytest.skip("PostgreSQL not configured (DATABASE_URL)")
    if need_redis and redis_url() is None:
        pytest.skip("Redis not configured (REDIS_URL)")
    await reset_postgres(url)
    return url, redis_url()


async def test_a_locked_sqlite_file_during_a_burst_loses_nothing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'tsur.sqlite3'}"
    outcome = await storage_outage_trial(tmp_path, url, AWAY_SECONDS, citizens=20)
    assert (outcome.reports, outcome.lost, outcome.doubled) == (20, 0, 0), outcome
    assert not any("exited" in phase for phase in outcome.phases)


async def test_postgresql_cut_off_during_a_burst_loses_nothing(tmp_path: Path) -> None:
    url, _ = await servers()
    outcome = await storage_outage_trial(tmp_path, url, AWAY_SECONDS, citizens=20)
    assert (outcome.reports, outcome.lost, outcome.doubled) == (20, 0, 0), outcome
    assert outcome.phases == ["healthz degraded while away"]


async def test_redis_gone_mid_dialog_holds_the_updates_and_answers_them_after(tmp_path: Path) -> None:
    url, redis = await servers(need_redis=True)
    assert redis is not None
    outcome = await redis_outage_trial(tmp_path, url, redis, AWAY_SECONDS, citizens=4)
    assert (outcome.lost, outcome.doubled) == (0, 0), outcome
    assert outcome.phases == ["healthz degraded while away"]


async def test_the_same_update_sent_to_two_processes_is_handled_once(tmp_path: Path) -> None:
    url, redis = await servers(need_redis=True)
    assert redis is not None
    outcome = await duplicate_trial(tmp_path, url, redis, citizens=8)
    assert (outcome.reports, outcome.lost, outcome.doubled) == (8, 0, 0), outcome
