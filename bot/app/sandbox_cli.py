"""`python -m bot sandbox [--port N] [--speed X] [--scenario NAME] | --report`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot.app.sandbox import SandboxOptions, run_sandbox
from bot.core.clock import MAX_SPEED


def run_sandbox_command(args: argparse.Namespace) -> int:
    """Run the sandbox in the foreground (Ctrl+C stops it); 2 on a bad option."""
    if not 1.0 <= args.speed <= MAX_SPEED:
        print(f"--speed must be between 1 and {MAX_SPEED:.0f}", file=sys.stderr)
        return 2
    if not 1 <= args.port <= 65535:
        print("--port must be between 1 and 65535", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Migration chatter and aiogram's per-update lines would bury the one line that matters: the URL.
    for noisy in ("alembic", "aiogram.event", "aiohttp.access", "vkbottle"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    options = SandboxOptions(database=Path(args.database), port=args.port, speed=args.speed)
    try:
        asyncio.run(run_sandbox(options))
    except KeyboardInterrupt:
        return 0
    except OSError as error:
        print(f"sandbox: {error}", file=sys.stderr)
        return 2
    return 0
