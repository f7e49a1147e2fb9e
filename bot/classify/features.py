"""Text normalisation and feature extraction, shared by the model build and the runtime classifier.

Both sides must produce exactly the same features for the same text, so everything that shapes a
feature lives here and nowhere else.
"""

from __future__ import annotations

import html
import math
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import snowballstemmer

# Feature name prefixes. Groups are weighted differently (see GROUP_WEIGHTS) because a text has
# one word feature per token but a dozen character n-grams per token.
WORD = "w:"
BIGRAM = "b:"
CHARGRAM = "c:"
LEXICON = "l:"

CHAR_NGRAM_SIZES = (3, 4)
# Stems shorter than this get no fuzzy lexicon lookup: one edit on a short stem turns it into a
# different word too often.
FUZZY_MIN_LEN = 5
FUZZY_HIT = 0.7

_TAG_RE = re.compile(r"<[^<>]{0,300}>")
# Entities often arrive half-broken ("&nbsp" without the semicolon) after copy-paste from portals.
_ENTITY_RE = re.compile(r"&(?:[a-z]{2,8}|#\d{2,5}|#x[0-9a-f]{2,4});?", re.IGNORECASE)
_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
# English contractions ("don't", "isn't") stay one word; the apostrophe is dropped in `tokenize`.
_WORD_RE = re.compile(r"[a-zа-я]+(?:['’][a-z]+)?")
_CYRILLIC_RE = re.compile(r"[а-я]")
_LATIN_RE = re.compile(r"[a-z]")
# Mixed-script tokens ("дорoга" typed with a Latin "o") are almost always Cyrillic words with
# look-alike Latin letters from a switched keyboard layout or OCR. A token with more Latin than
# Cyrillic letters ("strеet" with a Cyrillic "е") is an English word and is mapped the other way.
_LOOKALIKES = str.maketrans("aeopcxykmthb", "аеорсхукмтнв")
_LOOKALIKES_TO_LATIN = str.maketrans("аеорсхукмтнв", "aeopcxykmthb")

# The Snowball stemmer objects keep per-call state, so concurrent calls must not interleave.
_stemmer_lock = threading.Lock()
_russian = snowballstemmer.stemmer("russian")
# Foreigners write to the bot in English; English and Russian stems never collide because they
# are in different scripts.
_english = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball stem of one lower-case word (cached: texts repeat the same words a lot).

    The language is chosen per word by its script: Latin-script words get the English stemmer,
    everything else the Russian one. `tokenize` has already mapped mixed-script words to the
    script of most of their letters, so a Latin "o" inside a Russian word does not make it English.
    """
    stemmer = _english if _LATIN_RE.search(word) and not _CYRILLIC_RE.search(word) else _russian
    with _stemmer_lock:
        return str(stemmer.stemWord(word))


def normalize(text: str) -> str:
    """Lower-case text with HTML remnants, URLs and the ё/е distinction removed."""
    text = html.unescape(text)
    text = _TAG_RE.sub(" ", text)
    text = _ENTITY_RE.sub(" ", text)
    text = _URL_RE.sub(" ", text)
    return text.replace("\xa0", " ").lower().replace("ё", "е")


def tokenize(text: str) -> list[str]:
    """Words of a text (letters only, at least two characters), after normalisation."""
    words: list[str] = []
    for word in _WORD_RE.findall(normalize(text)):
        if "'" in word or "’" in word:
            word = word.replace("'", "").replace("’", "")
        if _CYRILLIC_RE.search(word) and _LATIN_RE.search(word):
            latin = len(_LATIN_RE.findall(word))
            if latin > len(word) - latin:
                word = word.translate(_LOOKALIKES_TO_LATIN)
            else:
                word = word.translate(_LOOKALIKES)
        if len(word) >= 2:
            words.append(word)
    return words


def stems_of(text: str, stopwords: frozenset[str]) -> list[str]:
    """Stems of the content words of a text, in order; `stopwords` holds stems to drop."""
    out: list[str] = []
    for word in tokenize(text):
        stemmed = stem(word)
        if stemmed and stemmed not in stopwords and word not in stopwords:
            out.append(stemmed)
    return out


def fuzzy_eligible(token: str) -> bool:
    """Whether a stem takes part in one-edit fuzzy lexicon matching.

    English stems are short and dense: one edit turns most of them into another real word
    ("night" -> "light", "parent" -> "patent", "meter" -> "metro"), so only Cyrillic stems do.
    """
    return len(token) >= FUZZY_MIN_LEN and not token.isascii()


def deletions(word: str) -> list[str]:
    """All strings obtained by deleting one character (symmetric-delete fuzzy matching)."""
    return [word[:i] + word[i + 1 :] for i in range(len(word))]


@dataclass
class Lexicon:
    """Sector phrases as stem sequences, indexed for fast matching in a stem stream."""

    phrases: dict[str, list[tuple[str, ...]]]
    by_first: dict[str, list[tuple[tuple[str, ...], str]]] = field(init=False)
    # Single-stem entries reachable by one edit: deletion variant -> sectors of the entry.
    fuzzy: dict[str, list[str]] = field(init=False)

    def __post_init__(self) -> None:
        self.by_first = {}
        self.fuzzy = {}
        for sector in sorted(self.phrases):
            for phrase in self.phrases[sector]:
                if not phrase:
                    continue
                self.by_first.setdefault(phrase[0], []).append((phrase, sector))
                if len(phrase) == 1 and fuzzy_eligible(phrase[0]):
                    for variant in [phrase[0], *deletions(phrase[0])]:
                        sectors = self.fuzzy.setdefault(variant, [])
                        if sector not in sectors:
                            sectors.append(sector)

    def hits(self, stems: Sequence[str]) -> dict[str, float]:
        """Per-sector count of lexicon phrases found in `stems` (fuzzy single-word hits count less)."""
        counts: dict[str, float] = {}
        for i, current in enumerate(stems):
            entries = self.by_first.get(current)
            if entries is not None:
                for phrase, sector in entries:
                    if tuple(stems[i : i + len(phrase)]) == phrase:
                        counts[sector] = counts.get(sector, 0.0) + 1.0
            elif fuzzy_eligible(current):
                matched: set[str] = set()
                for variant in [current, *deletions(current)]:
                    matched.update(self.fuzzy.get(variant, ()))
                for sector in sorted(matched):
                    counts[sector] = counts.get(sector, 0.0) + FUZZY_HIT
        return counts


def char_ngrams(token: str) -> list[str]:
    """Character n-grams of a stem with word-boundary marks, so typos still share most grams."""
    padded = f"#{token}#"
    grams: list[str] = []
    for size in CHAR_NGRAM_SIZES:
        grams.extend(padded[i : i + size] for i in range(len(padded) - size + 1))
    return grams


def raw_features(stems: Sequence[str], lexicon: Lexicon) -> dict[str, float]:
    """Feature counts of one text: stems, stem bigrams, character n-grams and lexicon hits."""
    counts: dict[str, float] = {}
    previous: str | None = None
    for token in stems:
        key = WORD + token
        counts[key] = counts.get(key, 0.0) + 1.0
        if previous is not None:
            key = f"{BIGRAM}{previous}_{token}"
            counts[key] = counts.get(key, 0.0) + 1.0
        previous = token
        if len(token) >= 3:
            for gram in char_ngrams(token):
                key = CHARGRAM + gram
                counts[key] = counts.get(key, 0.0) + 1.0
    for sector, count in lexicon.hits(stems).items():
        counts[LEXICON + sector] = count
    return counts


def weigh(
    counts: Mapping[str, float],
    idf: Mapping[str, float],
    group_weights: Mapping[str, float],
) -> dict[str, float]:
    """Sublinear tf * idf * group weight, L2-normalised over the features the model knows.

    Unknown features are dropped before normalising so that the build (which knows all its
    features) and prediction see the same scale.
    """
    vector: dict[str, float] = {}
    for name, count in counts.items():
        weight = idf.get(name)
        if weight is None or count <= 0:
            continue
        vector[name] = (1.0 + math.log(count)) * weight * group_weights[name[:2]]
    norm = math.sqrt(sum(value * value for value in vector.values()))
    if norm == 0.0:
        return {}
    return {name: value / norm for name, value in vector.items()}


def stem_all(words: Iterable[str]) -> list[str]:
    """Stems of already tokenised words (used for lexicon phrases and stop words)."""
    return [stem(word) for word in words]
