"""Score cards kept per trainee: one JSON line per finished scenario in `sandbox-scores.jsonl` next to
the sandbox database (the database itself is fresh on every start, the scores are not)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.core.i18n import Translator
from bot.sandbox.training.scorecard import ScoreCard

SCORES_FILE = "sandbox-scores.jsonl"


@dataclass(frozen=True)
class StoredScore:
    """One finished scenario of one trainee, as read back from the file."""

    trainee: str
    scenario: str
    finished_at: str  # real UTC time
    card: dict[str, Any]


class ScoreStore:
    """Appends score cards to a JSON-lines file and reads them back."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def beside(cls, database: Path) -> ScoreStore:
        """The store next to the sandbox database file."""
        return cls(database.with_name(SCORES_FILE))

    def add(self, card: ScoreCard, finished_at: datetime | None = None) -> StoredScore:
        """Keep `card` (one line, appended: an interrupted write spoils at most that line)."""
        entry = StoredScore(
            trainee=card.trainee,
            scenario=card.scenario,
            finished_at=(finished_at or datetime.now(UTC)).isoformat(timespec="seconds"),
            card=card.to_dict(),
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as file:
            file.write(json.dumps(entry.__dict__, ensure_ascii=False) + "\n")
        return entry

    def all(self) -> list[StoredScore]:
        """Every stored card, oldest first; lines that do not parse are skipped."""
        if not self.path.exists():
            return []
        found: list[StoredScore] = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                raw = json.loads(line)
                found.append(StoredScore(raw["trainee"], raw["scenario"], raw["finished_at"], raw["card"]))
            except (ValueError, KeyError, TypeError):
                continue
        return found

    def by_trainee(self) -> dict[str, list[StoredScore]]:
        """The stored cards grouped by trainee name (names in first-seen order)."""
        grouped: dict[str, list[StoredScore]] = {}
        for entry in self.all():
            grouped.setdefault(entry.trainee, []).append(entry)
        return grouped


def card_lines(card: dict[str, Any], translator: Translator, lang: str = "ru") -> list[str]:
    """The card's totals as labelled lines in `lang` (the page and `--report` show the same)."""

    def t(key: str, **args: str | int | float) -> str:
        return translator.text(lang, key, args)

    rating = card.get("average_rating")
    lines = [
        t("training-card-score", score=card["score"]),
        t("training-card-reports", count=len(card["reports"]), waiting=card.get("waiting", 0)),
        t("training-card-first", on_time=card["first_on_time"], late=card["first_late"]),
        t("training-card-answer", on_time=card["answers_on_time"], late=card["answers_late"]),
        t("training-card-wrong-transfers", count=card["wrong_transfers"]),
        t("training-card-unanswered", count=card["unanswered_clarifications"]),
        t("training-card-vague", count=card["vague_answers"]),
        t("training-card-ratings", count=card["ratings"], average="—" if rating is None else f"{rating:.1f}"),
        t("training-card-solved", solved=card["solved"], not_solved=card["not_solved"]),
        t("training-card-escalations", count=card["escalations"]),
    ]
    return lines


def report_text(store: ScoreStore, translator: Translator, lang: str = "ru") -> str:
    """What `python -m bot sandbox --report` prints: every trainee's cards, newest last."""
    grouped = store.by_trainee()
    if not grouped:
        return translator.text(lang, "training-report-empty", {"path": str(store.path)})
    out: list[str] = []
    for trainee, entries in grouped.items():
        out.append(translator.text(lang, "training-report-trainee", {"name": trainee, "count": len(entries)}))
        for entry in entries:
            out.append(
                "  "
                + translator.text(
                    lang, "training-report-entry", {"when": entry.finished_at, "scenario": entry.scenario}
                )
            )
            out.extend("    " + line for line in card_lines(entry.card, translator, lang))
        out.append("")
    return "\n".join(out).rstrip() + "\n"
