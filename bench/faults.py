"""Fault benchmark: the bot as a process, killed and cut off from its storage, while scripted
citizens file reports through the sandbox's Telegram (which redelivers like Telegram).

Usage: .venv/bin/python bench/faults.py [--kills 50] [--outage-seconds 15] [--citizens 3]
                                        [--duplicates 5] [--fuzz 3000]

Scenarios (the same code as tests/faults, with more trials):
- kill -9: `--kills` trials, one SIGKILL each, cycling through the phases (before the commit,
  between the commit and the 2xx, during the reply) and random moments; the phase each kill
  found is counted;
- the database away for `--outage-seconds` during a burst of 20 /start (SQLite: the file locked by
  another connection; PostgreSQL through a TCP proxy that is cut, when DATABASE_URL is set);
- Redis away mid-dialog (when DATABASE_URL and REDIS_URL are set);
- every update delivered 2–5 times at once to two webhook processes (PostgreSQL + Redis);
- `--fuzz` generated updates (hypothesis) through the webhook and the processors.
Prints, per scenario: trials, reports filed, lost, doubled, max recovery time. Only 127.0.0.1;
every loop is bounded. PostgreSQL/Redis: DATABASE_URL / REDIS_URL (their data is reset).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    # Run as a plain script, so the repository is not on the import path by itself.
    sys.path.insert(0, str(REPO_ROOT))

from tests.harness.faults import (  # noqa: E402
    PHASES,
    Outcome,
    duplicate_trial,
    kill_trial,
    redis_outage_trial,
    storage_outage_trial,
)
from tests.harness.stores import reset_postgres  # noqa: E402


def _row(name: str, trials: int, outcome: Outcome) -> str:
    return (
        f"{name:<40} {trials:>6} {outcome.reports:>8} {outcome.lost:>5} {outcome.doubled:>8}"
        f" {outcome.recovery_seconds:>10.1f}"
    )


async def _kills(trials: int, citizens: int) -> tuple[Outcome, collections.Counter[str]]:
    total = Outcome("kill -9", 0)
    phases = (*PHASES, "random")
    for trial in range(trials):
        with tempfile.TemporaryDirectory() as workdir:
            url = f"sqlite+aiosqlite:///{Path(workdir) / 'tsur.sqlite3'}"
            outcome = await kill_trial(Path(workdir), url, phases[trial % len(phases)], citizens, seed=trial)
        total.merge(outcome)
        print(
            f"  kill {trial + 1}/{trials}: {outcome.phases[0]:<14} lost {outcome.lost}"
            f" doubled {outcome.doubled} recovered in {outcome.recovery_seconds:.1f} s",
            flush=True,
        )
    return total, collections.Counter(total.phases)


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--citizens", type=int, default=3)
    parser.add_argument("--outage-seconds", type=float, default=15.0)
    parser.add_argument("--duplicates", type=int, default=5, help="trials of the duplicate scenario")
    parser.add_argument("--fuzz", type=int, default=3000, help="generated updates")
    args = parser.parse_args()
    pg, redis = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if pg and not pg.startswith("postgresql"):
        pg = None
    started = time.monotonic()
    rows: list[str] = []

    kills, phases = await _kills(args.kills, args.citizens)
    rows.append(_row("kill -9 (SQLite)", args.kills, kills))

    with tempfile.TemporaryDirectory() as workdir:
        url = f"sqlite+aiosqlite:///{Path(workdir) / 'tsur.sqlite3'}"
        outage = await storage_outage_trial(Path(workdir), url, args.outage_seconds)
    rows.append(_row(f"SQLite locked {args.outage_seconds:.0f} s, 20 /start", 1, outage))
    if pg:
        await reset_postgres(pg)
        with tempfile.TemporaryDirectory() as workdir:
            outage = await storage_outage_trial(Path(workdir), pg, args.outage_seconds)
        rows.append(_row(f"PostgreSQL cut {args.outage_seconds:.0f} s, 20 /start", 1, outage))
        print(f"  {outage.phases}", flush=True)
    if pg and redis:
        await reset_postgres(pg)
        with tempfile.TemporaryDirectory() as workdir:
            gone = await redis_outage_trial(Path(workdir), pg, redis, args.outage_seconds)
        rows.append(_row(f"Redis cut {args.outage_seconds:.0f} s mid-dialog", 1, gone))
        doubles = Outcome("duplicates", 0)
        for trial in range(args.duplicates):
            await reset_postgres(pg)
            with tempfile.TemporaryDirectory() as workdir:
                doubles.merge(await duplicate_trial(Path(workdir), pg, redis, seed=trial))
        rows.append(_row("each update 2-5x to two processes", args.duplicates, doubles))
    if args.fuzz:
        from tests.harness.fuzzing import fuzz_trial

        with tempfile.TemporaryDirectory() as workdir:
            url = f"sqlite+aiosqlite:///{Path(workdir) / 'tsur.sqlite3'}"
            fuzzed = await fuzz_trial(url, args.fuzz)
        rows.append(
            _row(f"fuzzed updates (unhandled: {fuzzed.phases.count('unhandled')})", args.fuzz, fuzzed)
        )

    print()
    print(f"{'scenario':<40} {'trials':>6} {'reports':>8} {'lost':>5} {'doubled':>8} {'recovery s':>10}")
    for row in rows:
        print(row)
    print(f"kill phases: {dict(phases)}")
    print(f"whole run: {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
