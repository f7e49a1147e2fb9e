"""What the classifier reads in a text: normalised words, their lemmas and the features built from
them, shared by the model build and the runtime classifier so both see exactly the same features.

Russian words are lemmatised with pymorphy3 (its bundled dictionary, offline), English ones stemmed
with Snowball; character n-grams of the surface words carry typos and unknown words.
"""

from __future__ import annotations

import html
import itertools
import re
import threading
from collections.abc import Iterable
from functools import lru_cache

import pymorphy3
import snowballstemmer

# Feature prefixes: lemma unigrams, lemma bigrams and character n-grams of the surface words.
WORD = "w:"
BIGRAM = "b:"
CHARGRAM = "c:"
CHAR_NGRAM_SIZES = (3, 4, 5)

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

# Snowball stemmer objects keep per-call state and pymorphy3's analyser is not documented as
# thread-safe, so calls from several threads take turns.
_lock = threading.Lock()
_english = snowballstemmer.stemmer("english")
_morph: pymorphy3.MorphAnalyzer | None = None


def _analyzer() -> pymorphy3.MorphAnalyzer:
    global _morph
    if _morph is None:
        _morph = pymorphy3.MorphAnalyzer(lang="ru")
    return _morph


@lru_cache(maxsize=131072)
def lemma(word: str) -> str:
    """The dictionary form of one lower-case word (cached: reports repeat the same words a lot).

    Latin-script words get the English Snowball stem; Cyrillic ones pymorphy3's most probable
    normal form, with ё written as е so both spellings meet.
    """
    with _lock:
        if _LATIN_RE.search(word) and not _CYRILLIC_RE.search(word):
            return str(_english.stemWord(word))
        return str(_analyzer().parse(word)[0].normal_form).replace("ё", "е")


@lru_cache(maxsize=65536)
def lemma_tags(word: str) -> frozenset[str]:
    """Grammemes of the most probable reading of one lower-case Russian word (empty for others)."""
    if not _CYRILLIC_RE.search(word):
        return frozenset()
    with _lock:
        return frozenset(str(g) for g in _analyzer().parse(word)[0].tag.grammemes)


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
            word = word.translate(_LOOKALIKES_TO_LATIN if latin > len(word) - latin else _LOOKALIKES)
        if len(word) >= 2:
            words.append(word)
    return words


def content_words(text: str, stopwords: frozenset[str]) -> list[str]:
    """Surface words of a text that are not stop words (as written or as lemmas)."""
    return [w for w in tokenize(text) if w not in stopwords and lemma(w) not in stopwords]


def word_features(words: Iterable[str]) -> list[str]:
    """Lemma unigrams and bigrams of content words, in order."""
    lemmas = [lemma(w) for w in words]
    features = [WORD + x for x in lemmas]
    features += [f"{BIGRAM}{a} {b}" for a, b in itertools.pairwise(lemmas)]
    return features


def char_features(words: Iterable[str]) -> list[str]:
    """Character n-grams of each surface word padded with spaces (typos keep most of them)."""
    features: list[str] = []
    for word in words:
        padded = f" {word} "
        for size in CHAR_NGRAM_SIZES:
            features += [CHARGRAM + padded[i : i + size] for i in range(len(padded) - size + 1)]
    return features
