"""Benchmark the sector classifier on labelled CSV files.

Usage: .venv/bin/python bench/classify.py [--csv FILE --text-column text --label-column label
[--label-map FILE]]

Always evaluates the frozen development set (bot/classify/data/dev/messages.csv, written apart from
the seeds, never trained on) and the held-out kzgov set (../shared/data/kzgov_ru.csv relative to the
repository, labels mapped through kzgov_label_to_sector.csv) when it exists, plus any CSV given.
Prints macro-F1, accuracy, top-3, per-sector F1, the expected calibration error (15 equal-width
bins), median and p99 ms per text, the model's load time and the process's peak RSS. Labels may be
sector ids or Russian sector names (name_ru in bot/data/sectors.yaml, case-insensitive); a label
map CSV with columns label_original,sector is applied first.
"""

from __future__ import annotations

import argparse
import csv
import resource
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    # Run as a plain script, so the repository is not on the import path by itself.
    sys.path.insert(0, str(REPO_ROOT))

from bot.classify import Classifier, Prediction  # noqa: E402
from bot.classify.corpus import DEV_SET  # noqa: E402

KZGOV_CSV = REPO_ROOT.parent / "shared" / "data" / "kzgov_ru.csv"
KZGOV_MAP = REPO_ROOT.parent / "shared" / "data" / "kzgov_label_to_sector.csv"
SECTORS_FILE = REPO_ROOT / "bot" / "data" / "sectors.yaml"


@dataclass(frozen=True)
class Scores:
    """Headline metrics of one evaluation."""

    macro_f1: float
    accuracy: float
    top3: float
    per_sector: dict[str, tuple[int, float, float, float]]  # support, precision, recall, F1


def sector_names(path: Path = SECTORS_FILE) -> dict[str, str]:
    """Lower-case sector id and Russian name -> sector id."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    names: dict[str, str] = {}
    for entry in data["sectors"]:
        names[str(entry["id"]).lower()] = str(entry["id"])
        names[str(entry["name_ru"]).strip().lower()] = str(entry["id"])
    return names


def read_label_map(path: Path) -> dict[str, str]:
    """label_original -> sector (an id or a Russian name) from a label map CSV."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"label_original", "sector"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: a label map needs columns label_original,sector")
        return {row["label_original"].strip().lower(): row["sector"].strip() for row in reader}


def resolve(label: str, label_map: Mapping[str, str], names: Mapping[str, str]) -> str | None:
    """Sector id of a raw label, or None when it names no known sector."""
    key = label.strip().lower()
    key = label_map.get(key, key).strip().lower()
    return names.get(key)


def evaluate(gold: Sequence[str], predictions: Sequence[Prediction], lenient: bool = False) -> Scores:
    """Macro-F1 over the sectors present in the gold labels, accuracy and top-3 accuracy.

    With `lenient`, a housing label predicted as waste counts as right: the source data files
    garbage complaints under ЖКХ while this project routes them to the waste sector.
    """
    predicted: list[str] = []
    top3_hits = 0
    for label, prediction in zip(gold, predictions, strict=True):
        guess = prediction.sector
        top = prediction.top(3)
        if lenient and label == "housing" and guess == "waste":
            guess = "housing"
        predicted.append(guess)
        top3_hits += label in top or (lenient and label == "housing" and "waste" in top)
    sectors = sorted(set(gold) | set(predicted))
    per_sector: dict[str, tuple[int, float, float, float]] = {}
    for sector in sectors:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == p == sector)
        n_pred = sum(1 for p in predicted if p == sector)
        n_gold = sum(1 for g in gold if g == sector)
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_gold if n_gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_sector[sector] = (n_gold, precision, recall, f1)
    gold_sectors = sorted(set(gold))
    n = max(1, len(gold))
    return Scores(
        macro_f1=sum(per_sector[s][3] for s in gold_sectors) / max(1, len(gold_sectors)),
        accuracy=sum(1 for g, p in zip(gold, predicted, strict=True) if g == p) / n,
        top3=top3_hits / n,
        per_sector=per_sector,
    )


def calibration_error(gold: Sequence[str], predictions: Sequence[Prediction], bins: int = 15) -> float:
    """Expected calibration error of the top guess: |accuracy - confidence| per bin, weighted."""
    if not gold:
        return 0.0
    total = 0.0
    for low in range(bins):
        inside = [
            (g == p.sector, p.confidence)
            for g, p in zip(gold, predictions, strict=True)
            if low / bins < p.confidence <= (low + 1) / bins or (low == 0 and p.confidence == 0)
        ]
        if inside:
            accuracy = sum(hit for hit, _ in inside) / len(inside)
            confidence = sum(c for _, c in inside) / len(inside)
            total += len(inside) / len(gold) * abs(accuracy - confidence)
    return total


def run(
    classifier: Classifier,
    path: Path,
    text_column: str,
    label_column: str,
    label_map: Mapping[str, str],
    names: Mapping[str, str],
) -> None:
    """Evaluate one CSV and print its report."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        for column in (text_column, label_column):
            if column not in columns:
                raise ValueError(f"{path}: no column {column!r} (columns: {', '.join(columns)})")
        rows = list(reader)
    texts: list[str] = []
    gold: list[str] = []
    unknown: dict[str, int] = {}
    for row in rows:
        sector = resolve(row[label_column] or "", label_map, names)
        if sector is None:
            unknown[row[label_column]] = unknown.get(row[label_column], 0) + 1
            continue
        texts.append(row[text_column] or "")
        gold.append(sector)

    predictions: list[Prediction] = []
    timings: list[float] = []
    for text in texts:
        start = time.perf_counter()
        predictions.append(classifier.predict(text))
        timings.append((time.perf_counter() - start) * 1000.0)
    median_ms = statistics.median(timings) if timings else 0.0
    p99_ms = statistics.quantiles(timings, n=100)[98] if len(timings) > 1 else median_ms

    strict = evaluate(gold, predictions)
    lenient = evaluate(gold, predictions, lenient=True)
    print(f"== {path.name}: {len(texts)} texts, {sum(unknown.values())} skipped (unmapped labels) ==")
    if unknown:
        print("   unmapped labels: " + ", ".join(f"{k!r}x{v}" for k, v in sorted(unknown.items())))
    print(
        f"macro-F1 {strict.macro_f1:.3f}  accuracy {strict.accuracy:.3f}  "
        f"top-3 accuracy {strict.top3:.3f}  ECE {calibration_error(gold, predictions):.3f}  "
        f"median {median_ms:.3f} ms/text  p99 {p99_ms:.3f} ms"
    )
    print(
        f"lenient (housing label predicted as waste counted right): macro-F1 {lenient.macro_f1:.3f}  "
        f"accuracy {lenient.accuracy:.3f}  top-3 accuracy {lenient.top3:.3f}"
    )
    print(f"{'sector':<11}{'support':>8}{'precision':>11}{'recall':>8}{'F1':>7}")
    for sector, (support, precision, recall, f1) in strict.per_sector.items():
        print(f"{sector:<11}{support:>8}{precision:>11.3f}{recall:>8.3f}{f1:>7.3f}")
    print("confidence   texts  accuracy")
    bins = ((0.0, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.01))
    for low, high in bins:
        hits = [g == p.sector for g, p in zip(gold, predictions, strict=True) if low <= p.confidence < high]
        rate = f"{sum(hits) / len(hits):.3f}" if hits else "-"
        print(f"{low:.1f}-{min(high, 1.0):.1f}  {len(hits):>8}  {rate:>8}")
    confusions: dict[tuple[str, str], int] = {}
    for g, p in zip(gold, predictions, strict=True):
        if g != p.sector:
            confusions[(g, p.sector)] = confusions.get((g, p.sector), 0) + 1
    worst = sorted(confusions.items(), key=lambda item: (-item[1], item[0]))[:8]
    print("top confusions (label -> predicted): " + ", ".join(f"{g}->{p} {n}" for (g, p), n in worst))
    print()


def run_corrections(classifier: Classifier, names: Mapping[str, str]) -> None:
    """The operators' corrections (DATABASE_URL) measured like any labelled CSV, beside how often
    the model's first guess and the citizen's own pick at filing already agreed with the operator."""
    import asyncio
    import os
    import tempfile

    from sqlalchemy import select

    from storage.db import Database
    from storage.models import SectorExample

    async def rows() -> list[tuple[str, str, str | None, str | None]]:
        db = Database(os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///tsur.sqlite3"))
        try:
            async with db.session() as session:
                result = await session.execute(
                    select(
                        SectorExample.text,
                        SectorExample.sector_id,
                        SectorExample.guessed_sector,
                        SectorExample.citizen_sector,
                    )
                )
                return [(str(t), str(s), g, c) for t, s, g, c in result.all()]
        finally:
            await db.dispose()

    examples = asyncio.run(rows())
    if not examples:
        print("== corrections: none stored ==\n")
        return
    print(f"corrections: {len(examples)} operators' labels")
    for title, column in (("model's first guess at filing", 2), ("citizen's own pick at filing", 3)):
        known = [(row[1], row[column]) for row in examples if row[column] is not None]
        agreed = sum(1 for label, other in known if label == other)
        share = f"{agreed / len(known):.3f}" if known else "-"
        print(f"  {title:<31} agreed with the operator in {agreed} of {len(known)} ({share})")
    picks: dict[tuple[str, str], int] = {}
    for _, label, _, pick in examples:
        if pick is not None and pick != label:
            picks[(pick, label)] = picks.get((pick, label), 0) + 1
    worst = sorted(picks.items(), key=lambda item: (-item[1], item[0]))[:8]
    if worst:
        listed = ", ".join(f"{c}->{o} {n}" for (c, o), n in worst)
        print(f"  citizens' wrong picks (picked -> operator): {listed}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "corrections.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "sector"])
            writer.writerows((text, sector) for text, sector, _, _ in examples)
        run(classifier, path, "text", "sector", {}, names)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns a process exit code."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--csv", type=Path, help="another labelled CSV to evaluate")
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--label-column", default="label")
    parser.add_argument("--label-map", type=Path, help="CSV with columns label_original,sector")
    parser.add_argument("--model", type=Path, help="model file (default: bot/classify/model.json)")
    parser.add_argument(
        "--corrections", action="store_true", help="also the operators' corrections stored in DATABASE_URL"
    )
    args = parser.parse_args(argv)

    start = time.perf_counter()
    classifier = Classifier.load(args.model)
    print(f"model loaded in {(time.perf_counter() - start) * 1000.0:.0f} ms")
    names = sector_names()
    try:
        if DEV_SET.exists():
            run(classifier, DEV_SET, "text", "sector", {}, names)
        if KZGOV_CSV.exists() and KZGOV_MAP.exists():
            run(classifier, KZGOV_CSV, "text", "label_original", read_label_map(KZGOV_MAP), names)
        else:
            print(f"held-out set not found: {KZGOV_CSV}", file=sys.stderr)
        if args.corrections:
            run_corrections(classifier, names)
        if args.csv is not None:
            label_map = read_label_map(args.label_map) if args.label_map else {}
            run(classifier, args.csv, args.text_column, args.label_column, label_map, names)
    except (OSError, ValueError) as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
