"""How alike two reports' texts are, for suggesting that a new report repeats an open one.

The classifier's features (bot.classify.words) are reused so a report is read the same way
everywhere: lemmas of content words carry the problem ("яма", "фонарь", "отопление"), character
n-grams carry typos and word forms the lemmatiser misses. Both blocks are weighted by tf-idf with the
idf taken from the classifier's seed reports, so words every report has ("жители", "просим") weigh
little. A third block maps words to problem concepts (problems.txt: "яма", "выбоина" and "pothole"
are one pothole), because two citizens seldom use the same words for one problem.

Concepts are filed by sector, and they also keep problems apart: when two reports at one place both
name concepts of their sector and share none (a pothole and a broken traffic light at one
crossroads; no heating and no hot water in one house), they are two problems however many words
they share (`concept_conflict`, a veto before the similarity is compared with the threshold).

Address words are dropped first: two reports at one address share them whatever the problem, and
the place is compared separately (bot.services.incidents.places).
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from bot.classify.corpus import load_stopwords, read_sectors, seed_corpus
from bot.classify.words import char_features, content_words, lemma, word_features
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

# Chosen on the development half of bench/data/incident_pairs.csv by bench/incidents.py (the highest
# recall at precision >= 0.92 among positive scores). It is low because the sector and place gates
# and the conflicting-concepts veto do most of the work: what is left is two reports at one place
# that name no different problems, and they are one problem as soon as they share some evidence.
DEFAULT_THRESHOLD = 0.01
# Weights of the lemma, concept and character blocks: an agreed problem concept is the strongest
# evidence (it survives synonyms and languages), shared words come next, spelling only rescues typos.
WORD_WEIGHT = 0.3
CONCEPT_WEIGHT = 0.5
CHAR_WEIGHT = 0.2
CONCEPTS_PATH = Path(__file__).with_name("problems.txt")
MAX_TEXT = 2000
_ADDRESS_WORDS = frozenset(
    {*STREET_TYPES, *STREET_ABBREVIATIONS, *HOUSE_WORDS, *FLAT_WORDS, *SETTLEMENT_MARKERS, "город"}
)


@dataclass(frozen=True)
class Profile:
    """A text's weighted features: lemma, concept and character n-gram vectors, each of unit length,
    and the problem concepts it names per sector (for the conflicting-concepts veto)."""

    words: Mapping[str, float]
    concepts: Mapping[str, float]
    chars: Mapping[str, float]
    named: Mapping[str, frozenset[str]] = field(default_factory=dict)


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


@dataclass(frozen=True)
class ConceptTable:
    """problems.txt read: lemma sequences (one word or a phrase) → the `sector/concept` keys they name."""

    entries: Mapping[tuple[str, ...], frozenset[str]]
    longest: int  # words in the longest phrase, so matching tries no longer spans

    def find(self, lemmas: Sequence[str]) -> list[str]:
        """Concept keys a lemma sequence names. The longest phrase at a position wins and uses up its
        words, so "горячий вода" is hot water only and not the cold water that "вода" alone names."""
        found: list[str] = []
        start = 0
        while start < len(lemmas):
            for size in range(min(self.longest, len(lemmas) - start), 0, -1):
                keys = self.entries.get(tuple(lemmas[start : start + size]))
                if keys is not None:
                    found.extend(sorted(keys))
                    start += size
                    break
            else:
                start += 1
        return found


@lru_cache(maxsize=4)
def concepts(path: Path = CONCEPTS_PATH) -> ConceptTable:
    """The problem concepts of problems.txt (`[sector]` headers, then `concept: entry, entry`)."""
    stopwords = load_stopwords()
    found: dict[tuple[str, ...], set[str]] = {}
    sector: str | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            sector = line[1:-1].strip()
            continue
        name, colon, entries = line.partition(":")
        if sector is None or not colon or not name.strip() or not entries.strip():
            raise ValueError(f"{path} line {number}: expected `concept: entry, entry` after a [sector]")
        for entry in entries.split(","):
            # Entries go through the reports' own pipeline, so a stop word inside a phrase
            # ("очередь на жилье") is skipped on both sides.
            lemmas = tuple(lemma(w) for w in content_words(entry, stopwords))
            if not lemmas:
                raise ValueError(f"{path} line {number}: entry {entry.strip()!r} has no content word")
            found.setdefault(lemmas, set()).add(f"{sector}/{name.strip()}")
    if not found:
        raise ValueError(f"{path}: no concepts")
    return ConceptTable({k: frozenset(v) for k, v in found.items()}, max(len(k) for k in found))


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
    words = [w for w in content_words(text[:MAX_TEXT], _IDF.stopwords) if w not in ignore]
    # Concepts are looked up before the generic address words go, so a phrase keeps its words
    # ("аварийный дом"); street names are gone already, so "ул. Садовая" names no garden.
    keys = concepts().find([lemma(w) for w in words if lemma(w) not in ignore])
    skip = _ADDRESS_WORDS | ignore
    words = [w for w in words if w not in skip and lemma(w) not in skip]
    named: dict[str, set[str]] = {}
    for key in keys:
        sector, _, name = key.partition("/")
        named.setdefault(sector, set()).add(name)
    return Profile(
        _unit(_unigrams(words), idf, default),
        _unit([f"k:{k}" for k in keys], {}, 1.0),
        _unit(char_features(words), idf, default),
        {sector: frozenset(names) for sector, names in named.items()},
    )


def concept_conflict(a: Profile, b: Profile, sector: str) -> tuple[frozenset[str], frozenset[str]] | None:
    """The two texts' concepts of `sector` when both name some and none is shared, else None.

    Two reports at one place that name different problems of their sector ("яма" and "светофор",
    "отопление" and "горячая вода") are two problems however many other words they share. A text
    naming no concept of the sector gives no evidence either way, so it is left to the similarity.
    """
    mine, theirs = a.named.get(sector, frozenset()), b.named.get(sector, frozenset())
    if mine and theirs and not mine & theirs:
        return mine, theirs
    return None


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


def similarity(
    text_a: str, text_b: str, ignore: frozenset[str] = frozenset(), *, sector: str | None = None
) -> float:
    """How alike two report texts are, in [0, 1], leaving out address words and `ignore`; with a
    `sector`, 0 when the texts name conflicting problems of it (`concept_conflict`)."""
    a, b = profile(text_a, ignore), profile(text_b, ignore)
    if sector is not None and concept_conflict(a, b, sector) is not None:
        return 0.0
    return profile_similarity(a, b)


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
    """One problem: the same sector, the same place under the sector's rule, no conflicting problem
    concepts of the sector, and alike texts."""
    if sector_a is None or sector_a != sector_b or sector_a not in rules:
        return False
    if not same_place(rules[sector_a], place_a, place_b):
        return False
    # Each text drops its own address words, so an open report's profile is built once and cached
    # whichever new report it is compared with.
    profile_a = profile(text_a, address_words(place_a.address))
    profile_b = profile(text_b, address_words(place_b.address))
    if concept_conflict(profile_a, profile_b, sector_a) is not None:
        return False
    return profile_similarity(profile_a, profile_b) >= threshold
