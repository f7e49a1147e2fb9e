"""Build the sector model from the repository's seeds, lexicons and sectors (``make model``).

Run as ``python -m bot.classify.build [--output PATH]``. scikit-learn does the learning: tf-idf of
lemma unigrams and bigrams and of character n-grams, a multinomial logistic regression, and
temperature scaling fitted on messier copies of held-out seeds (scipy's scalar minimiser on
scikit-learn's log loss). The result is written as JSON (no
pickle): the same inputs give a byte-identical file (fixed folds, sorted keys, rounded floats).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, log_loss
from sklearn.model_selection import StratifiedKFold

from bot.classify.corpus import (
    DATA_DIR,
    SECTORS_FILE,
    Labelled,
    inputs_digest,
    load_stopwords,
    read_sectors,
    seed_corpus,
)
from bot.classify.model import DEFAULT_MODEL_PATH, FALLBACK_SECTOR, MODEL_FORMAT, Classifier
from bot.classify.noise import messy_copies
from bot.classify.words import char_features, content_words, word_features


@dataclass(frozen=True)
class BuildConfig:
    """Hyper-parameters of the build, chosen by cross-validation on the seeds (never the dev set)."""

    c: float = 10.0
    word_weight: float = 1.0
    char_weight: float = 0.7
    min_df: int = 2
    # The most frequent features kept per group: half the file and load time, for a thousandth of F1.
    max_words: int = 12000
    max_chars: int = 25000
    folds: int = 5
    seed: int = 20261202
    lexicon_weight: float = 0.5
    # Messier copies of the seeds trained on beside them (typos, one-liners, a second topic).
    augment_weight: float = 0.5
    decimals: int = 4


@dataclass(frozen=True)
class Trained:
    """The fitted parts: vocabularies with their idf, the linear model and the inverse temperature."""

    words: TfidfVectorizer
    chars: TfidfVectorizer
    model: LogisticRegression
    beta: float
    config: BuildConfig

    def matrix(self, texts: Sequence[Sequence[str]]) -> sp.csr_matrix:
        """Feature rows of tokenised texts, as the model was trained on them."""
        return _features(self.words, self.chars, texts, self.config)

    def probabilities(self, texts: Sequence[Sequence[str]]) -> np.ndarray:
        """Calibrated class probabilities straight from scikit-learn (the runtime must agree)."""
        logits = self.beta * self.model.decision_function(self.matrix(texts))
        logits -= logits.max(axis=1, keepdims=True)
        exps = np.exp(logits)
        return np.asarray(exps / exps.sum(axis=1, keepdims=True))


def _features(
    words: TfidfVectorizer, chars: TfidfVectorizer, texts: Sequence[Sequence[str]], config: BuildConfig
) -> sp.csr_matrix:
    return sp.hstack(
        [words.transform(texts) * config.word_weight, chars.transform(texts) * config.char_weight]
    ).tocsr()


def _vectorizer(
    analyzer: Any, docs: Sequence[Sequence[str]], config: BuildConfig, limit: int
) -> TfidfVectorizer:
    """A tf-idf vectorizer fitted on `docs`, keeping the `limit` most frequent features.

    scikit-learn's own `max_features` breaks ties in frequency with numpy's unstable argsort, whose
    order differs between CPUs: here ties go by name, so every machine keeps the same features.
    """
    # Documents arrive already tokenised: the analyzer turns the word list into features.
    counts = CountVectorizer(analyzer=analyzer, min_df=config.min_df, dtype=np.int64)
    totals = np.asarray(counts.fit_transform(docs).sum(axis=0)).ravel()
    names = counts.get_feature_names_out()
    kept = np.lexsort((names, -totals))[:limit]
    vocabulary = sorted(str(name) for name in names[kept])
    tfidf = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, vocabulary=vocabulary, dtype=np.float64)
    return tfidf.fit(docs)


def fit(
    examples: Sequence[Labelled], sectors: Sequence[str], stopwords: frozenset[str], config: BuildConfig
) -> Trained:
    """Fit the vectorizers and the logistic regression on `examples` and messier copies of them,
    and the temperature on messy copies of seed reports held out of the fit that scores them."""
    seeds = [i for i, e in enumerate(examples) if e.kind != "lexicon"]
    augmented = [
        Labelled(e.text, e.sector, e.weight * config.augment_weight, "messy")
        for e in messy_copies([examples[i] for i in seeds], random.Random(config.seed))
    ]
    train = [*examples, *augmented]
    docs = [content_words(e.text, stopwords) for e in train]
    words = _vectorizer(word_features, docs, config, config.max_words)
    chars = _vectorizer(char_features, docs, config, config.max_chars)
    x = _features(words, chars, docs, config)
    labels = np.array([sectors.index(e.sector) for e in train])
    weights = np.array([e.weight for e in train])
    model = _regression(config).fit(x, labels, sample_weight=weights)
    # Row i of `augmented` is the copy of example seeds[i]: a fold leaves out both.
    copy_row = {index: len(examples) + k for k, index in enumerate(seeds)}
    held = messy_copies([examples[i] for i in seeds], random.Random(config.seed + 1))
    held_x = _features(words, chars, [content_words(e.text, stopwords) for e in held], config)
    folds = StratifiedKFold(n_splits=config.folds, shuffle=True, random_state=config.seed)
    logits = np.zeros((len(seeds), len(sectors)))
    out_of_fold = [i for i, e in enumerate(examples) if e.kind == "lexicon"]
    for train_pos, test_pos in folds.split(np.zeros(len(seeds)), [examples[i].sector for i in seeds]):
        rows = out_of_fold + [seeds[p] for p in train_pos] + [copy_row[seeds[p]] for p in train_pos]
        fold = _regression(config).fit(x[rows], labels[rows], sample_weight=weights[rows])
        logits[test_pos] = fold.decision_function(held_x[test_pos])
    beta = _temperature(logits, [sectors.index(e.sector) for e in held], len(sectors))
    return Trained(words, chars, model, beta, config)


def _regression(config: BuildConfig) -> LogisticRegression:
    return LogisticRegression(C=config.c, max_iter=3000)


def _temperature(logits: np.ndarray, gold: Sequence[int], classes: int) -> float:
    """Inverse temperature minimising the log loss of held-out logits (scipy, bounded search)."""

    def loss(log_beta: float) -> float:
        scaled = logits * math.exp(log_beta)
        scaled -= scaled.max(axis=1, keepdims=True)
        p = np.exp(scaled)
        return float(log_loss(gold, p / p.sum(axis=1, keepdims=True), labels=list(range(classes))))

    best = minimize_scalar(loss, bounds=(-4.0, 4.0), method="bounded")
    return round(math.exp(float(best.x)), 6)


def export(
    trained: Trained, sectors: Sequence[str], stopwords: frozenset[str], digest: str
) -> dict[str, Any]:
    """The model as a JSON-able dict that `bot.classify.model.Classifier` reads."""
    d = trained.config.decimals
    coef = trained.model.coef_
    features: dict[str, list[float]] = {}
    offset = 0
    for vectorizer in (trained.words, trained.chars):
        for name, index in vectorizer.vocabulary_.items():
            column = offset + index
            features[name] = [round(float(vectorizer.idf_[index]), d)] + [
                round(float(v), d) for v in coef[:, column]
            ]
        offset += len(vectorizer.vocabulary_)
    return {
        "format": MODEL_FORMAT,
        "inputs": digest,
        "sectors": list(sectors),
        "fallback": FALLBACK_SECTOR,
        "stopwords": sorted(stopwords),
        "group_weights": {"word": trained.config.word_weight, "char": trained.config.char_weight},
        "beta": round(trained.beta, 6),
        "intercept": [round(float(b), d) for b in trained.model.intercept_],
        "config": asdict(trained.config),
        "built_with": toolchain(),
        "features": features,
    }


# The libraries whose arithmetic shapes the file: another release may round a weight differently.
TOOLCHAIN = ("numpy", "scipy", "scikit-learn", "pymorphy3", "pymorphy3-dicts-ru", "snowballstemmer")


def toolchain() -> dict[str, str]:
    """Versions of the libraries the model is built with (stored in it, compared by the tests)."""
    return {name: metadata.version(name) for name in TOOLCHAIN}


def build_model(
    config: BuildConfig | None = None,
    data_dir: Path = DATA_DIR,
    sectors_file: Path = SECTORS_FILE,
    extra: Sequence[Labelled] = (),
) -> dict[str, Any]:
    """Train on the seeds (plus `extra` examples, e.g. operators' corrections) and export."""
    config = config or BuildConfig()
    sectors = read_sectors(sectors_file)
    if FALLBACK_SECTOR not in sectors:
        # Texts the model cannot read at all go to the fallback: without it they would have nowhere.
        raise ValueError(f"{sectors_file}: the fallback sector {FALLBACK_SECTOR!r} is missing")
    stopwords = load_stopwords(data_dir)
    examples = [*seed_corpus(sectors, data_dir, config.lexicon_weight), *extra]
    trained = fit(examples, sectors, stopwords, config)
    model = export(trained, sectors, stopwords, inputs_digest(data_dir, sectors_file))
    _check_agreement(trained, model, [e.text for e in examples[:: max(1, len(examples) // 300)]], stopwords)
    return model


def _check_agreement(
    trained: Trained, model: dict[str, Any], texts: list[str], stopwords: frozenset[str]
) -> None:
    """The runtime reading the exported file must give scikit-learn's probabilities (to rounding)."""
    runtime = Classifier(model)
    expected = trained.probabilities([content_words(t, stopwords) for t in texts])
    for text, row in zip(texts, expected, strict=True):
        if runtime.scores(text) is None:
            continue  # nothing known in it: the runtime's fallback, not the model, answers
        got = dict(runtime.predict(text).ranked)
        worst = max(abs(got[s] - float(p)) for s, p in zip(model["sectors"], row, strict=True))
        if worst > 0.01:
            raise RuntimeError(f"runtime and scikit-learn disagree by {worst:.3f} on {text[:80]!r}")


def dumps_model(model: dict[str, Any]) -> str:
    """Canonical JSON text of a model: sorted keys, one top-level key and one feature per line (a
    retrain's diff reads feature by feature), trailing newline."""

    def compact(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    lines = []
    for key in sorted(model):
        if key == "features":
            rows = ",\n".join(f"{compact(name)}:{compact(row)}" for name, row in sorted(model[key].items()))
            lines.append(f'"features":{{\n{rows}\n}}')
        else:
            lines.append(f"{compact(key)}:{compact(model[key])}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def write_model(path: Path, model: dict[str, Any]) -> None:
    """Write a model file atomically (a reader never sees half a file)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(dumps_model(model), encoding="utf-8")
    tmp.replace(path)


def cross_validate(config: BuildConfig, data_dir: Path = DATA_DIR) -> float:
    """Macro-F1 of `config` over folds of the seed reports (lexicon entries always train).

    This, not the development set, is what the build's hyper-parameters were chosen by.
    """
    sectors = read_sectors()
    stopwords = load_stopwords(data_dir)
    examples = seed_corpus(sectors, data_dir, config.lexicon_weight)
    seeds = [e for e in examples if e.kind == "seed"]
    lexicon = [e for e in examples if e.kind != "seed"]
    folds = StratifiedKFold(n_splits=config.folds, shuffle=True, random_state=config.seed + 1)
    gold: list[str] = []
    guessed: list[str] = []
    for train, test in folds.split(np.zeros(len(seeds)), [e.sector for e in seeds]):
        trained = fit([seeds[i] for i in train] + lexicon, sectors, stopwords, config)
        held = [seeds[i] for i in test]
        probabilities = trained.probabilities([content_words(e.text, stopwords) for e in held])
        gold += [e.sector for e in held]
        guessed += [sectors[int(k)] for k in probabilities.argmax(axis=1)]
    return float(f1_score(gold, guessed, average="macro"))


def main(argv: list[str] | None = None) -> int:
    """Build the committed model (or `--output PATH`); `--cv` prints cross-validated macro-F1."""
    parser = argparse.ArgumentParser(prog="python -m bot.classify.build", description=__doc__)
    parser.add_argument("--output", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--cv", action="store_true", help="cross-validate a small grid on the seeds")
    args = parser.parse_args(argv)
    if args.cv:
        for c in (1.0, 3.0, 10.0, 30.0):
            for char_weight in (0.5, 1.0):
                config = BuildConfig(c=c, char_weight=char_weight)
                print(f"C={c:<5} char_weight={char_weight:<4} macro-F1 {cross_validate(config):.3f}")
        return 0
    model = build_model()
    write_model(args.output, model)
    print(f"{args.output}: {len(model['features'])} features, beta {model['beta']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
