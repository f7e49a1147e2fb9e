"""Runtime sector classifier: reads the model JSON and predicts a sector with calibrated confidence.

The arithmetic repeats scikit-learn's tf-idf (sublinear tf, l2 norm per feature group) and a
linear model with temperature scaling, in numpy: the build checks both agree on its own texts.
Loading scikit-learn itself in every bot process would cost a second and 100 MB for a dot product.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.classify.words import char_features, content_words, word_features

MODEL_FORMAT = 2
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
    """Calibrated linear model over lemma and character n-gram tf-idf features."""

    def __init__(self, model: Mapping[str, Any]) -> None:
        """Wrap a model dict as produced by ``bot.classify.build`` (see ``load`` for files)."""
        if model.get("format") != MODEL_FORMAT:
            raise ValueError(f"unsupported classifier model format: {model.get('format')!r}")
        self.sectors: list[str] = [str(s) for s in model["sectors"]]
        fallback = str(model.get("fallback", FALLBACK_SECTOR))
        self.fallback = fallback if fallback in self.sectors else self.sectors[-1]
        self.inputs = str(model.get("inputs", ""))
        self._stopwords = frozenset(str(w) for w in model["stopwords"])
        weights = model["group_weights"]
        self._word_weight = float(weights["word"])
        self._char_weight = float(weights["char"])
        self._beta = float(model["beta"])
        self._intercept = np.asarray(model["intercept"], dtype=np.float64)
        rows: Mapping[str, Sequence[float]] = model["features"]
        self._index = {name: i for i, name in enumerate(rows)}
        table = np.asarray(list(rows.values()), dtype=np.float64).reshape(len(rows), len(self.sectors) + 1)
        self._idf = table[:, 0].copy()
        self._coef = np.ascontiguousarray(table[:, 1:])
        if len(self._intercept) != len(self.sectors):
            raise ValueError("classifier model: intercept and sectors differ in length")

    @classmethod
    def load(cls, path: Path | None = None) -> Classifier:
        """Load a classifier from a model file (default: bot/classify/model.json)."""
        with (path or DEFAULT_MODEL_PATH).open(encoding="utf-8") as handle:
            return cls(json.load(handle))

    def _group(self, features: list[str], weight: float) -> tuple[list[int], list[float]]:
        counts = Counter(f for f in features if f in self._index)
        if not counts:
            return [], []
        columns = [self._index[f] for f in counts]
        values = [(1.0 + math.log(n)) * self._idf[c] for c, n in zip(columns, counts.values(), strict=True)]
        norm = math.sqrt(sum(v * v for v in values))
        return columns, [weight * v / norm for v in values]

    def scores(self, text: str) -> list[float] | None:
        """Calibrated class logits of a text, or None when no known feature was found in it."""
        words = content_words(text[:MAX_TEXT_CHARS], self._stopwords)
        word_cols, word_vals = self._group(word_features(words), self._word_weight)
        char_cols, char_vals = self._group(char_features(words), self._char_weight)
        columns = word_cols + char_cols
        if not columns:
            return None
        logits = np.asarray(word_vals + char_vals) @ self._coef[columns] + self._intercept
        return [float(v) for v in self._beta * logits]

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

    def swap(self, fresh: Classifier) -> None:
        """Take every field of `fresh` at once (a retrained model replacing this one in place)."""
        vars(self).update(vars(fresh))

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


class ModelFile:
    """The model file a process runs (MODEL_PATH, or the committed seed model): `refresh` swaps the
    classifier in place when the file changed, so dialogs holding it see the new model at once."""

    def __init__(self, path: Path | None) -> None:
        self.path = path if path is not None and path.is_file() else DEFAULT_MODEL_PATH
        self._configured = path
        self._stamp = self._stat()
        self.classifier = Classifier.load(self.path)

    def _stat(self) -> tuple[int, int] | None:
        try:
            info = os.stat(self.path)
        except OSError:
            return None
        return info.st_mtime_ns, info.st_size

    def refresh(self) -> bool:
        """Reload when the file changed (or MODEL_PATH appeared); True when a new model is in use."""
        if self._configured is not None and self.path != self._configured and self._configured.is_file():
            self.path = self._configured
        stamp = self._stat()
        if stamp is None or stamp == self._stamp:
            return False
        fresh = Classifier.load(self.path)
        self._stamp = stamp
        self.classifier.swap(fresh)
        return True


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
