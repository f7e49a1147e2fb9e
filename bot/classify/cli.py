"""``python -m bot classify``: classify texts from stdin (one per line) or from a CSV column."""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NoReturn, TextIO

from bot.classify.model import Classifier, Prediction, load_classifier


class _UsageError(Exception):
    """Bad command-line arguments; carries argparse's message."""


class _Parser(argparse.ArgumentParser):
    # argparse exits the process on bad arguments; the command must return 2 instead so that
    # callers (and tests) keep control.
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: error: {message}")


def _parser() -> _Parser:
    parser = _Parser(
        prog="python -m bot classify",
        description="Print sector<TAB>confidence<TAB>top-3 sectors for each text.",
        add_help=False,
    )
    parser.add_argument("--csv", type=Path, help="read texts from this CSV file instead of stdin")
    parser.add_argument("--column", default="text", help="CSV column with the texts (default: text)")
    parser.add_argument("--model", type=Path, help="model file (default: bot/classify/model.json)")
    return parser


def format_prediction(prediction: Prediction) -> str:
    """One output line (without newline): sector, confidence with 2 decimals, top-3 ids."""
    return f"{prediction.sector}\t{prediction.confidence:.2f}\t{','.join(prediction.top(3))}"


def _csv_texts(path: Path, column: str) -> Iterator[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or column not in reader.fieldnames:
            found = ", ".join(reader.fieldnames or [])
            raise _UsageError(f"{path}: no column {column!r} (columns: {found or 'none'})")
        for row in reader:
            yield row.get(column) or ""


def _stdin_texts(stdin: TextIO) -> Iterator[str]:
    for line in stdin:
        yield line.rstrip("\r\n")


def run_classify_cli(argv: list[str], stdin: TextIO, stdout: TextIO) -> int:
    """Run the classify command; returns 0 on success, 2 on bad arguments or unreadable input.

    Errors go to stderr. Every input text, blank ones included, gets exactly one output line.
    """
    if argv[:1] == ["retrain"]:
        return asyncio.run(run_retrain(argv[1:]))
    try:
        args = _parser().parse_args(argv)
        classifier = Classifier.load(args.model) if args.model else load_classifier()
        texts: Iterable[str]
        if args.csv is not None:
            if not args.csv.is_file():
                raise _UsageError(f"no such file: {args.csv}")
            # Read everything first so a missing column fails before any output is written.
            texts = list(_csv_texts(args.csv, args.column))
        else:
            texts = _stdin_texts(stdin)
        for text in texts:
            stdout.write(format_prediction(classifier.predict(text)) + "\n")
    except _UsageError as error:
        print(error, file=sys.stderr)
        return 2
    except (OSError, UnicodeDecodeError, ValueError, csv.Error) as error:
        print(f"python -m bot classify: {error}", file=sys.stderr)
        return 2
    stdout.flush()
    return 0


async def run_retrain(argv: list[str]) -> int:
    """`python -m bot classify retrain`: 0 when a better model was written to MODEL_PATH, 1 when the
    candidate was refused, 2 on a usage or configuration problem."""
    from pydantic import ValidationError

    from bot.classify.retrain import judge, load_corrections
    from bot.core.config import Settings
    from storage.db import Database

    if argv:
        print("usage: python -m bot classify retrain (reads DATABASE_URL and MODEL_PATH)", file=sys.stderr)
        return 2
    try:
        settings = Settings()
    except ValidationError as error:
        print(f"python -m bot classify retrain: {error.errors()[0]['msg']}", file=sys.stderr)
        return 2
    if settings.model_path is None:
        print("python -m bot classify retrain: MODEL_PATH is not set", file=sys.stderr)
        return 2
    db = Database(settings.database_url)
    try:
        corrections = await load_corrections(db)
    finally:
        await db.dispose()
    current = Classifier.load(settings.model_path if settings.model_path.is_file() else None)
    verdict = judge(corrections, current, settings.model_path)
    v = verdict
    print(f"corrections: {v.trained_on} trained on, {v.held_back} held back")
    print(f"held back macro-F1: current {v.current_held_f1:.3f}, candidate {v.candidate_held_f1:.3f}")
    print(f"development set macro-F1: current {v.current_dev_f1:.3f}, candidate {v.candidate_dev_f1:.3f}")
    print(v.reason + (f": written to {settings.model_path}" if v.accepted else ""))
    return 0 if verdict.accepted else 1
