"""Build ``bot/classify/model.json`` from the repository's seed corpus, lexicons and sectors.yaml.

Run as ``python -m bot.classify.build [--output PATH]``. The build is deterministic: the same input
files give a byte-identical model (fixed seeds, sorted keys, rounded floats, no set iteration).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections.abc import Mapping, Sequence
from operator import mul
from pathlib import Path
from typing import Any

from bot.classify.examples import (
    DATA_DIR,
    SECTORS_FILE,
    BuildConfig,
    Example,
    load_lexicon,
    load_stopwords,
    make_examples,
    read_language_lines,
    read_sectors,
)
from bot.classify.features import (
    LEXICON,
    WORD,
    Lexicon,
    raw_features,
    weigh,
)
from bot.classify.model import DEFAULT_MODEL_PATH, FALLBACK_SECTOR, MODEL_FORMAT


def compute_idf(
    examples: Sequence[Example], counts: Sequence[Mapping[str, float]], sectors: Sequence[str], min_df: int
) -> dict[str, float]:
    """Smoothed idf of the features kept in the vocabulary.

    Document frequency is counted on seed texts and lexicon entries only, so noisy copies neither
    inflate frequencies nor bring their made-up typos into the vocabulary.
    """
    df: dict[str, int] = {}
    n_docs = 0
    for example, feats in zip(examples, counts, strict=True):
        if example.kind != "noisy":
            n_docs += 1
            for name in feats:
                df[name] = df.get(name, 0) + 1
    idf: dict[str, float] = {}
    for name in sorted(df):
        if name.startswith(LEXICON):
            continue
        # Word stems survive from a single document: lexicon entries are often seen just once.
        if df[name] >= min_df or name.startswith(WORD):
            idf[name] = math.log((n_docs + 1) / (df[name] + 1)) + 1.0
    for sector in sectors:
        idf[LEXICON + sector] = 1.0
    return idf


Vector = tuple[list[int], list[float]]


def vectorize(feats: Mapping[str, float], index: Mapping[str, int]) -> Vector:
    """Sparse (ids, values) form of a weighted feature dict, ids sorted for determinism."""
    pairs = sorted((index[name], value) for name, value in feats.items())
    return [i for i, _ in pairs], [v for _, v in pairs]


def softmax(scores: Sequence[float]) -> list[float]:
    """Numerically stable softmax."""
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


def train(
    data: Sequence[tuple[Vector, int, float]], n_features: int, n_classes: int, config: BuildConfig, seed: int
) -> tuple[list[list[float]], list[float]]:
    """Multinomial logistic regression by plain SGD with decaying step and lazy L2 on touched weights."""
    weights = [[0.0] * n_features for _ in range(n_classes)]
    bias = [0.0] * n_classes
    rng = random.Random(seed)
    order = list(range(len(data)))
    classes = range(n_classes)
    for epoch in range(config.epochs):
        rng.shuffle(order)
        rate = config.learning_rate / (1.0 + 0.3 * epoch)
        decay = 1.0 - rate * config.l2
        for position in order:
            (ids, values), label, sample_weight = data[position]
            scores = [bias[k] + sum(map(mul, map(weights[k].__getitem__, ids), values)) for k in classes]
            probs = softmax(scores)
            for k in classes:
                grad = (probs[k] - (1.0 if k == label else 0.0)) * sample_weight
                if -1e-4 < grad < 1e-4:
                    continue
                step = rate * grad
                row = weights[k]
                for i, value in zip(ids, values, strict=True):
                    row[i] = row[i] * decay - step * value
                bias[k] -= step * 0.1
    return weights, bias


def scores_of(vector: Vector, weights: Sequence[Sequence[float]], bias: Sequence[float]) -> list[float]:
    """Raw class scores (logits) of one vector."""
    ids, values = vector
    return [
        b + sum(map(mul, map(row.__getitem__, ids), values)) for row, b in zip(weights, bias, strict=True)
    ]


def fit_temperature(logits: Sequence[tuple[list[float], int]], grid: Sequence[float]) -> float:
    """Temperature minimising held-out negative log-likelihood (first best on ties)."""
    best_t, best_nll = grid[0], math.inf
    for t in grid:
        nll = 0.0
        for scores, label in logits:
            nll -= math.log(max(softmax([s / t for s in scores])[label], 1e-12))
        if nll < best_nll - 1e-9:
            best_t, best_nll = t, nll
    return best_t


def cross_validate(
    data: Sequence[tuple[Vector, int, float]],
    examples: Sequence[Example],
    n_features: int,
    n_classes: int,
    config: BuildConfig,
) -> tuple[list[tuple[list[float], int]], float]:
    """Held-out logits of every seed text over k folds, and the fold accuracy."""
    seed_ids = [i for i, e in enumerate(examples) if e.kind == "seed"]
    fold_of: dict[int, int] = {}
    per_label: dict[int, list[int]] = {}
    for i in seed_ids:
        per_label.setdefault(examples[i].label, []).append(i)
    rng = random.Random(config.seed + 1)
    for label in sorted(per_label):
        ids = per_label[label]
        rng.shuffle(ids)
        for rank, i in enumerate(ids):
            fold_of[i] = rank % config.cv_folds
    # A noisy copy must stay in its seed text's fold, or the fold would be tested on its own copy.
    owner = -1
    for i, example in enumerate(examples):
        if example.kind == "seed":
            owner = i
        elif example.kind == "noisy":
            fold_of[i] = fold_of[owner]
    held_out: list[tuple[list[float], int]] = []
    correct = 0
    for fold in range(config.cv_folds):
        train_data = [d for i, d in enumerate(data) if fold_of.get(i, -1) != fold]
        weights, bias = train(train_data, n_features, n_classes, config, config.seed + 10 + fold)
        for i in seed_ids:
            if fold_of[i] == fold:
                scores = scores_of(data[i][0], weights, bias)
                held_out.append((scores, examples[i].label))
                correct += max(range(n_classes), key=scores.__getitem__) == examples[i].label
    return held_out, correct / max(1, len(seed_ids))


def build_model(
    data_dir: Path = DATA_DIR,
    sectors_file: Path = SECTORS_FILE,
    config: BuildConfig | None = None,
    log: Any = None,
) -> dict[str, Any]:
    """The model as a JSON-ready dict, built from the data files."""
    config = config or BuildConfig()
    sectors = read_sectors(sectors_file)
    if FALLBACK_SECTOR not in sectors:
        raise ValueError(f"sectors.yaml must define the fallback sector {FALLBACK_SECTOR!r}")
    stopword_list = load_stopwords(data_dir)
    stopwords = frozenset(stopword_list)
    texts: dict[str, list[str]] = {}
    for sector in sectors:
        path = data_dir / "seed" / f"{sector}.txt"
        if not path.exists():
            raise FileNotFoundError(f"no seed texts for sector {sector!r}: {path}")
        texts[sector] = read_language_lines(data_dir / "seed", sector)
    phrases = load_lexicon(data_dir, sectors, stopwords)
    lexicon = Lexicon({s: [tuple(p) for p in phrases[s]] for s in sectors})

    examples = make_examples(texts, phrases, sectors, stopwords, config)
    counts = [raw_features(e.stems, lexicon) for e in examples]
    idf = compute_idf(examples, counts, sectors, config.min_df)
    names = sorted(idf)
    index = {name: i for i, name in enumerate(names)}
    data = [
        (vectorize(weigh(c, idf, config.group_weights), index), e.label, e.weight)
        for e, c in zip(examples, counts, strict=True)
    ]
    n_classes = len(sectors)

    held_out, cv_accuracy = cross_validate(data, examples, len(names), n_classes, config)
    cv_temperature = fit_temperature(held_out, config.temperatures)
    temperature = round(cv_temperature * config.domain_shift, 4)
    weights, bias = train(data, len(names), n_classes, config, config.seed)

    digits = config.decimals
    features: dict[str, list[float]] = {}
    for i, name in enumerate(names):
        column = [weights[k][i] / temperature for k in range(n_classes)]
        if name.startswith(LEXICON) or max(abs(w) for w in column) >= config.prune_below:
            features[name] = [round(idf[name], digits), *(round(w, digits) for w in column)]
    if log is not None:
        print(
            f"sectors={n_classes} examples={len(examples)} vocabulary={len(names)} kept={len(features)} "
            f"cv_accuracy={cv_accuracy:.3f} cv_temperature={cv_temperature} temperature={temperature}",
            file=log,
        )
    return {
        "format": MODEL_FORMAT,
        "sectors": sectors,
        "fallback": FALLBACK_SECTOR,
        "stopwords": stopword_list,
        "lexicon": phrases,
        "group_weights": {k: config.group_weights[k] for k in sorted(config.group_weights)},
        "bias": [round(b / temperature, digits) for b in bias],
        "temperature": temperature,
        "cv_temperature": cv_temperature,
        "cv_accuracy": round(cv_accuracy, 4),
        "features": features,
    }


def dumps_model(model: Mapping[str, Any]) -> str:
    """Canonical JSON text of a model: sorted keys, compact, one feature per line for readable diffs."""

    def compact(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    parts: list[str] = []
    for key in sorted(model):
        value = model[key]
        if key == "features":
            rows = ",\n".join(f"{compact(name)}:{compact(value[name])}" for name in sorted(value))
            parts.append(f"{compact(key)}:{{\n{rows}\n}}")
        else:
            parts.append(f"{compact(key)}:{compact(value)}")
    return "{" + ",\n".join(parts) + "}\n"


def write_model(path: Path, model: Mapping[str, Any]) -> None:
    """Write a model file atomically enough for a build step (temp file then rename)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(dumps_model(model), encoding="utf-8")
    tmp.replace(path)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: build the model and write it."""
    parser = argparse.ArgumentParser(prog="python -m bot.classify.build", description=__doc__)
    parser.add_argument("--output", type=Path, default=DEFAULT_MODEL_PATH, help="where to write model.json")
    parser.add_argument("--quiet", action="store_true", help="do not print build statistics")
    args = parser.parse_args(argv)
    model = build_model(log=None if args.quiet else sys.stderr)
    write_model(args.output, model)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
