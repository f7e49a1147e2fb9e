"""How alike two reports' texts are, for suggesting that a new report repeats an open one.

The classifier's features (bot.classify.words) are reused so a report is read the same way
everywhere: lemmas of content words carry the problem ("яма", "фонарь", "отопление"), character
n-grams carry typos and word forms the lemmatiser misses. Both blocks are weighted by tf-idf with the
idf taken from the classifier's seed reports, so words every report has ("жители", "просим") weigh
little. A third block maps words to problem concepts (problems.txt: "яма", "выбоина" and "pothole"
are one pothole), because two citizens seldom use the same words for one problem.

Address words are dropped first: two reports at one address share them whatever the problem, and
the place is compared separately (bot.services.incidents.places).
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.classify.corpus import load_stopwords, read_sectors, seed_corpus
from bot.classify.words import char_features, content_words, lemma, tokenize, word_features
from bot.services.geo.addresses import (
    FLAT_WORDS,
    HOUSE_WORDS,
    SETTLEMENT_MARKERS,
    STREET_ABBREVIATIONS,
    STREET_TYPES,
    Address,
    street_name,
)
from bot.services.incidents.places import Place, PlaceRule, same_place

# Chosen on the development half of bench/data/incident_pairs.csv by bench/incidents.py (0.018
# there, rounded). It is low because the sector and place gates do most of the work: at one place, a
# report sharing no word or concept with another is about something else.
DEFAULT_THRESHOLD = 0.02
# Weights of the lemma, concept and character blocks: words and concepts carry the problem, spelling
# only rescues typos.
WORD_WEIGHT = 0.4
CONCEPT_WEIGHT = 0.4
CHAR_WEIGHT = 0.2
CONCEPTS_PATH = Path(__file__).with_name("problems.txt")
MAX_TEXT = 2000
_ADDRESS_WORDS = frozenset(
    {*STREET_TYPES, *STREET_ABBREVIATIONS, *HOUSE_WORDS, *FLAT_WORDS, *SETTLEMENT_MARKERS, "город"}
)


@dataclass(frozen=True)
class Profile:
    """A text's weighted features: lemma and character n-gram vectors, each of unit length."""

    words: Mapping[str, float]
    concepts: Mapping[str, float]
    chars: Mapping[str, float]


class _Idf:
    """Inverse document frequencies over the seed reports, built once on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idf: dict[str, float] | None = None
        self._default = 0.0
        self.stopwords: frozenset[str] = frozenset()

    def table(self) -> tuple[dict[str, float], float]:
        with self._lock:
            if self._idf is None:
                self.stopwords = load_stopwords()
                texts = [example.text for example in seed_corpus(read_sectors()) if example.kind == "seed"]
                counts: Counter[str] = Counter()
                for text in texts:
                    words = content_words(text, self.stopwords)
                    counts.update(set(_unigrams(words)) | set(char_features(words)))
                total = len(texts)
                self._idf = {f: math.log((1 + total) / (1 + n)) + 1.0 for f, n in counts.items()}
                # A feature the seeds never show is rare: it gets the highest weight.
                self._default = math.log(1 + total) + 1.0
            return self._idf, self._default


_IDF = _Idf()


@lru_cache(maxsize=1)
def concepts(path: Path = CONCEPTS_PATH) -> dict[str, frozenset[str]]:
    """Lemma → the problem concepts it names, read from problems.txt."""
    found: dict[str, set[str]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, colon, words = line.partition(":")
        if not colon or not name.strip() or not words.strip():
            raise ValueError(f"{path} line {number}: expected `concept: word word ...`")
        for word in tokenize(words):
            found.setdefault(lemma(word), set()).add(name.strip())
    return {word: frozenset(names) for word, names in found.items()}


def _unigrams(words: Iterable[str]) -> list[str]:
    # Bigrams are left out: two citizens rarely phrase one problem in the same word order.
    return [f for f in word_features(words) if f.startswith("w:")]


def _unit(features: Iterable[str], idf: Mapping[str, float], default: float) -> dict[str, float]:
    counts = Counter(features)
    vector = {f: (1.0 + math.log(n)) * idf.get(f, default) for f, n in counts.items()}
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {f: v / norm for f, v in vector.items()} if norm else {}


@lru_cache(maxsize=8192)
def profile(text: str, ignore: frozenset[str] = frozenset()) -> Profile:
    """The features of one text with address words and the `ignore` words (street names) removed."""
    idf, default = _IDF.table()
    skip = _ADDRESS_WORDS | ignore
    words = [
        w for w in content_words(text[:MAX_TEXT], _IDF.stopwords) if w not in skip and lemma(w) not in skip
    ]
    table = concepts()
    named = [f"k:{c}" for w in words for c in table.get(lemma(w), ())]
    return Profile(
        _unit(_unigrams(words), idf, default),
        _unit(named, {}, 1.0),
        _unit(char_features(words), idf, default),
    )


def _cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(f, 0.0) for f, v in a.items())


def profile_similarity(a: Profile, b: Profile) -> float:
    """Similarity in [0, 1] of two profiles: a weighted mean of the lemma, concept and n-gram cosines."""
    return (
        WORD_WEIGHT * _cosine(a.words, b.words)
        + CONCEPT_WEIGHT * _cosine(a.concepts, b.concepts)
        + CHAR_WEIGHT * _cosine(a.chars, b.chars)
    )


def address_words(*addresses: Address) -> frozenset[str]:
    """Street and settlement name words of addresses, to leave out of the text comparison."""
    words: set[str] = set()
    for address in addresses:
        if address.street_key is not None:
            words.update(street_name(address.street_key).split())
        if address.settlement_key is not None:
            words.add(address.settlement_key)
    return frozenset(words | {lemma(w) for w in words})


def similarity(text_a: str, text_b: str, ignore: frozenset[str] = frozenset()) -> float:
    """How alike two report texts are, in [0, 1], leaving out address words and `ignore`."""
    return profile_similarity(profile(text_a, ignore), profile(text_b, ignore))


def is_duplicate(
    sector_a: str | None,
    place_a: Place,
    text_a: str,
    sector_b: str | None,
    place_b: Place,
    text_b: str,
    rules: Mapping[str, PlaceRule],
    threshold: float = DEFAULT_THRESHOLD,
) -> bool:
    """One problem: the same sector, the same place under the sector's rule, and alike texts."""
    if sector_a is None or sector_a != sector_b or sector_a not in rules:
        return False
    if not same_place(rules[sector_a], place_a, place_b):
        return False
    # Each text drops its own address words, so an open report's profile is built once and cached
    # whichever new report it is compared with.
    profile_a = profile(text_a, address_words(place_a.address))
    profile_b = profile(text_b, address_words(place_b.address))
    return profile_similarity(profile_a, profile_b) >= threshold
