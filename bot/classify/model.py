"""Runtime sector classifier: loads model.json and predicts a sector with calibrated confidence."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.classify.features import Lexicon, raw_features, stems_of, weigh

MODEL_FORMAT = 1
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "model.json"
# Sector that takes texts the model cannot read at all (empty, emoji, digits only).
FALLBACK_SECTOR = "other"
# Reports can be pasted whole documents; the first part carries the topic and capping the length
# keeps the worst-case latency bounded.
MAX_TEXT_CHARS = 5000


@dataclass(frozen=True)
class Prediction:
    """Result of classifying one text."""

    sector: str
    confidence: float
    ranked: list[tuple[str, float]]

    def top(self, n: int) -> list[str]:
        """Ids of the `n` most probable sectors, best first."""
        return [sector for sector, _ in self.ranked[: max(0, n)]]


class Classifier:
    """Linear model over stems, stem bigrams, character n-grams and lexicon hits."""

    def __init__(self, model: Mapping[str, Any]) -> None:
        """Wrap a model dict as produced by ``bot.classify.build`` (see ``load`` for files)."""
        if model.get("format") != MODEL_FORMAT:
            raise ValueError(f"unsupported classifier model format: {model.get('format')!r}")
        self.sectors: list[str] = [str(s) for s in model["sectors"]]
        fallback = str(model.get("fallback", FALLBACK_SECTOR))
        self.fallback = fallback if fallback in self.sectors else self.sectors[-1]
        self._stopwords = frozenset(str(w) for w in model["stopwords"])
        self._lexicon = Lexicon(
            {str(s): [tuple(p) for p in phrases] for s, phrases in model["lexicon"].items()}
        )
        self._group_weights: dict[str, float] = {str(k): float(v) for k, v in model["group_weights"].items()}
        self._bias: list[float] = [float(b) for b in model["bias"]]
        rows: dict[str, list[float]] = model["features"]
        self._idf = {name: row[0] for name, row in rows.items()}
        self._rows = rows
        if len(self._bias) != len(self.sectors):
            raise ValueError("classifier model: bias and sectors differ in length")

    @classmethod
    def load(cls, path: Path | None = None) -> Classifier:
        """Load a classifier from a model file (default: bot/classify/model.json)."""
        with (path or DEFAULT_MODEL_PATH).open(encoding="utf-8") as handle:
            return cls(json.load(handle))

    def scores(self, text: str) -> list[float] | None:
        """Class logits of a text, or None when no known feature was found in it."""
        stems = stems_of(text[:MAX_TEXT_CHARS], self._stopwords)
        vector = weigh(raw_features(stems, self._lexicon), self._idf, self._group_weights)
        if not vector:
            return None
        scores = list(self._bias)
        n = len(scores)
        rows = self._rows
        for name, value in vector.items():
            row = rows[name]
            for k in range(n):
                scores[k] += row[k + 1] * value
        return scores

    def predict(self, text: str) -> Prediction:
        """Most probable sector of a citizen report, with probabilities of all sectors.

        Never raises on odd input: text without any recognisable word goes to the fallback
        sector with a confidence only slightly above uniform.
        """
        scores = self.scores(text if isinstance(text, str) else "")
        if scores is None:
            return self._unsure()
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        ranked = sorted(
            ((sector, e / total) for sector, e in zip(self.sectors, exps, strict=True)),
            key=lambda item: (-item[1], self.sectors.index(item[0])),
        )
        return Prediction(sector=ranked[0][0], confidence=ranked[0][1], ranked=ranked)

    def predict_many(self, texts: Sequence[str]) -> list[Prediction]:
        """Predictions of several texts, in order."""
        return [self.predict(text) for text in texts]

    def _unsure(self) -> Prediction:
        # Twice the weight of any other sector: enough to put the fallback first, while the
        # confidence stays low enough that no consumer treats it as a real decision.
        n = len(self.sectors)
        share = 1.0 / (n + 1)
        ranked = [(self.fallback, 2 * share)] + [(s, share) for s in self.sectors if s != self.fallback]
        return Prediction(sector=self.fallback, confidence=2 * share, ranked=ranked)


_cache_lock = threading.Lock()
_cached: Classifier | None = None


def load_classifier() -> Classifier:
    """Process-wide classifier loaded once from the default model file."""
    global _cached
    if _cached is None:
        with _cache_lock:
            if _cached is None:
                _cached = Classifier.load()
    return _cached
