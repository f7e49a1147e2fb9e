"""Retraining from operators' corrections: a candidate built from the seeds plus the stored examples
replaces the running model only if it is better on corrections it did not see and no worse (within
0.01 macro-F1) on the frozen development set. Models are JSON files; each process picks a new one
up without restart (`bot.classify.model.ModelFile`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sklearn.metrics import f1_score
from sqlalchemy import select

from bot.classify.build import BuildConfig, build_model, write_model
from bot.classify.corpus import DEV_SET, Labelled, read_labelled_csv
from bot.classify.model import Classifier
from storage.db import Database
from storage.models import SectorExample

# Every fifth correction (by id) is held back to judge the candidate; at least this many are needed.
HOLD_BACK_EVERY = 5
MIN_HELD_BACK = 50
DEV_TOLERANCE = 0.01


@dataclass(frozen=True)
class Verdict:
    """What retraining found: the figures of both models and whether the candidate was taken."""

    held_back: int
    trained_on: int
    current_held_f1: float
    candidate_held_f1: float
    current_dev_f1: float
    candidate_dev_f1: float
    accepted: bool
    reason: str


def macro_f1(classifier: Classifier, examples: Sequence[Labelled]) -> float:
    """Macro-F1 over the sectors of `examples` (`other` counted as a class)."""
    gold = [e.sector for e in examples]
    guessed = [classifier.predict(e.text).sector for e in examples]
    return float(f1_score(gold, guessed, labels=sorted(set(gold)), average="macro", zero_division=0))


async def load_corrections(db: Database) -> list[tuple[int, Labelled]]:
    """Stored operator examples, oldest first, with their ids."""
    async with db.session() as session:
        rows = await session.scalars(select(SectorExample).order_by(SectorExample.id))
        return [(row.id, Labelled(row.text, row.sector_id, 1.0, "correction")) for row in rows]


def judge(
    corrections: Sequence[tuple[int, Labelled]],
    current: Classifier,
    output: Path,
    config: BuildConfig | None = None,
) -> Verdict:
    """Build a candidate from the seeds plus the corrections not held back; write it to `output`
    (atomically) only when it beats `current` on the held-back ones and keeps the dev set."""
    held = [e for i, e in corrections if i % HOLD_BACK_EVERY == 0]
    train = [e for i, e in corrections if i % HOLD_BACK_EVERY != 0]
    if len(held) < MIN_HELD_BACK:
        reason = f"{len(held)} corrections held back, {MIN_HELD_BACK} needed"
        return Verdict(len(held), len(train), 0.0, 0.0, 0.0, 0.0, False, reason)
    model = build_model(config, extra=train)
    model["corrections"] = len(train)
    candidate = Classifier(model)
    dev = read_labelled_csv(DEV_SET)
    figures = (
        macro_f1(current, held),
        macro_f1(candidate, held),
        macro_f1(current, dev),
        macro_f1(candidate, dev),
    )
    better = figures[1] > figures[0]
    keeps_dev = figures[3] >= figures[2] - DEV_TOLERANCE
    accepted = better and keeps_dev
    if accepted:
        write_model(output, model)
    reason = (
        "accepted"
        if accepted
        else ("not better on held-back corrections" if not better else "worse on the dev set")
    )
    return Verdict(len(held), len(train), *figures, accepted, reason)
