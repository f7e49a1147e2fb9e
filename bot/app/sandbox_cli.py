"""`python -m bot sandbox [--port N] [--speed X] [--scenario NAME] | --report`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot.app.sandbox import SandboxOptions, run_sandbox
from bot.core.clock import MAX_SPEED
from bot.core.redaction import setup_logging
from bot.sandbox.training.trainer import DEFAULT_TRAINEE


def print_scores(database: Path) -> int:
    """`--report`: every trainee's stored score cards (kept next to the sandbox database)."""
    from bot.core.i18n import Translator
    from bot.sandbox.training import ScoreStore
    from bot.sandbox.training.store import report_text

    print(report_text(ScoreStore.beside(database), Translator()), end="")
    return 0


def known_scenario(name: str) -> bool:
    """True when `name` is a training scenario; says which are when it is not."""
    from bot.sandbox.training.scenarios import load_scenarios

    names = list(load_scenarios())
    if name in names:
        return True
    print(f"--scenario must be one of: {', '.join(names)}", file=sys.stderr)
    return False


def run_sandbox_command(args: argparse.Namespace) -> int:
    """Run the sandbox in the foreground (Ctrl+C stops it); 2 on a bad option."""
    if args.report:
        return print_scores(Path(args.database))
    if args.scenario is not None and not known_scenario(args.scenario):
        return 2
    if not 1.0 <= args.speed <= MAX_SPEED:
        print(f"--speed must be between 1 and {MAX_SPEED:.0f}", file=sys.stderr)
        return 2
    if not 1 <= args.port <= 65535:
        print("--port must be between 1 and 65535", file=sys.stderr)
        return 2
    # Redacting like `run`: the tokens the sandbox generates are registered as it makes them.
    setup_logging("INFO")
    # Migration chatter and aiogram's per-update lines would bury the one line that matters: the URL.
    for noisy in ("alembic", "aiogram.event", "aiohttp.access", "vkbottle"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    options = SandboxOptions(
        database=Path(args.database),
        port=args.port,
        speed=args.speed,
        scenario=args.scenario,
        # The page asks for the name when a scenario starts there.
        trainee=args.trainee or DEFAULT_TRAINEE,
    )
    try:
        asyncio.run(run_sandbox(options))
    except KeyboardInterrupt:
        return 0
    except OSError as error:
        print(f"sandbox: {error}", file=sys.stderr)
        return 2
    return 0
