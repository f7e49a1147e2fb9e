"""Typed text → municipality: names, centres and aliases indexed with their inflected forms, typos
("Екатеринбур") and guards against street names ("ул. Свердлова" is not Свердловск)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import snowballstemmer

from bot.services.geo.places import (
    MAX_CANDIDATES,
    NO_MATCH,
    URBAN_KINDS,
    GeoMatch,
    Municipality,
)
from bot.services.geo.words import (
    ADJECTIVE_ENDINGS,
    ADJECTIVE_LOOKING,
    COMMON_WORD_FORMS,
    COMMON_WORD_NAMES,
    CONFIDENT_MARGIN,
    DISTRICT_WORDS,
    EXACT,
    FUZZY,
    FUZZY_CUTOFF,
    GENERIC_NAME_WORDS,
    KIND_SUFFIXES,
    LEADING_MARKER_WORDS,
    LOCALITY_MARKERS,
    LOCALITY_MARKERS_WITH_DOT,
    MODIFIER_STEMS,
    NO_FUZZY,
    PREPOSITIONS,
    REGION_ADJECTIVES,
    REGION_WORDS,
    STEMMED,
    STREET_MARKERS,
    STREET_MARKERS_WITH_DOT,
    TO_PREPOSITIONS,
    TOKEN_CACHE_LIMIT,
    Phrase,
    PhraseMatch,
    Token,
    inflect,
    split_words,
    tokenise,
)


class PlaceNames:
    """The text index of a list of municipalities: which one a typed address names, if any."""

    def __init__(self, municipalities: Sequence[Municipality]) -> None:
        self._items = tuple(municipalities)
        self._stemmer = snowballstemmer.stemmer("russian")
        self._forms: dict[str, set[str]] = {}
        self._stems: dict[str, set[str]] = {}
        self._endings: dict[str, frozenset[str]] = {}
        self._word_forms: dict[str, frozenset[str]] = {}
        self._bases: dict[str, str] = {}
        self._phrases_by_first: dict[str, list[Phrase]] = {}
        self._partial: dict[str, list[tuple[Phrase, str]]] = {}
        self._fuzzy_pool: dict[tuple[str, int], list[str]] = {}
        self._token_cache: dict[str, tuple[tuple[str, float], ...]] = {}
        self._build_text_index()

    def by_text(self, text: str) -> GeoMatch:
        """Resolve a typed address or place name; ambiguous text gives candidates, nothing gives NO_MATCH."""
        tokens = tokenise(text[:2000])
        if not tokens:
            return NO_MATCH
        self._assign_roles(tokens)
        candidates = [self._candidates(token.text) if token.role == "free" else () for token in tokens]
        matches = self._full_matches(tokens, candidates)
        if matches:
            return self._decide(matches)
        return self._partial_matches(tokens, candidates)

    def _build_text_index(self) -> None:
        urban_centres = {m.centre.lower().replace("ё", "е") for m in self._items if m.kind in URBAN_KINDS}
        fuzzy_keys: set[str] = set()
        for index, m in enumerate(self._items):
            phrases: list[tuple[list[str], bool]] = []
            name_words = split_words(m.name)
            phrases.append((name_words, False))
            stripped = self._strip_kind_words(name_words)
            if stripped and stripped != name_words:
                phrases.append((stripped, False))
            centre = m.centre.lower().replace("ё", "е")
            # A rural district run from a town that is its own municipality: the town's name means
            # the town.
            if m.kind in URBAN_KINDS or centre not in urban_centres:
                phrases.append((split_words(m.centre), False))
            for alias in m.aliases:
                alias_words = split_words(alias)
                phrases.append((alias_words, True))
                # "Камышловский городской округ" is also called just "Камышловский".
                stripped_alias = self._strip_kind_words(alias_words)
                if stripped_alias and stripped_alias != alias_words:
                    phrases.append((stripped_alias, True))
            seen: set[tuple[str, ...]] = set()
            for words, from_alias in phrases:
                phrase_keys = tuple(words)
                if not phrase_keys or phrase_keys in seen:
                    continue
                seen.add(phrase_keys)
                weak = all(word in COMMON_WORD_NAMES or len(word) == 1 for word in phrase_keys)
                phrase = Phrase(phrase_keys, index, from_alias, weak)
                self._phrases_by_first.setdefault(phrase_keys[0], []).append(phrase)
                for word in phrase_keys:
                    self._index_word(word, allow_short=not from_alias)
                    if not from_alias and not weak and len(word) >= 5 and word not in GENERIC_NAME_WORDS:
                        fuzzy_keys.add(word)
                if len(phrase_keys) > 1 and not from_alias:
                    self._index_partial(phrase)
        for word in fuzzy_keys:
            for form in self._word_forms[word]:
                self._fuzzy_pool.setdefault((form[0], len(form)), []).append(form)

    @staticmethod
    def _strip_kind_words(words: list[str]) -> list[str]:
        result = list(words)
        while result and result[0] in LEADING_MARKER_WORDS:
            result = result[1:]
        for suffix in KIND_SUFFIXES:
            if len(result) > len(suffix) and tuple(result[-len(suffix) :]) == suffix:
                result = result[: -len(suffix)]
                break
        return result

    def _index_word(self, word: str, allow_short: bool) -> None:
        if word in self._endings:
            return
        base, endings = inflect(word, allow_short)
        forms = frozenset(base + ending for ending in endings)
        self._bases[word] = base
        self._endings[word] = endings
        self._word_forms[word] = forms
        for form in forms:
            self._forms.setdefault(form, set()).add(word)
            self._stems.setdefault(self._stemmer.stemWord(form), set()).add(word)

    def _index_partial(self, phrase: Phrase) -> None:
        # "Верхний" alone may be any Верхн* town; "Салда" either Салда. Hyphenated names are one word
        # to people ("Каменск-Уральский"), so their halves are not partial matches.
        first, last = phrase.keys[0], phrase.keys[-1]
        if self._stemmer.stemWord(first) in MODIFIER_STEMS:
            self._partial.setdefault(first, []).append((phrase, first))
        if len(last) >= 4 and last not in GENERIC_NAME_WORDS and not last.isdigit():
            self._partial.setdefault(last, []).append((phrase, last))

    def _candidates(self, word: str) -> tuple[tuple[str, float], ...]:
        """Name words that `word` may be a form of, with how sure we are (cached per word)."""
        cached = self._token_cache.get(word)
        if cached is not None:
            return cached
        found: dict[str, float] = {}
        for key in self._forms.get(word, ()):
            found[key] = EXACT
        if not found and len(word) >= 4:
            stem = self._stemmer.stemWord(word)
            ending = word[len(stem) :] if word.startswith(stem) else None
            for key in self._stems.get(stem, ()):
                if ending is not None and ending in self._endings[key] and key[:3] == word[:3]:
                    found[key] = STEMMED
        if not found:
            found = self._fuzzy(word)
        result = tuple(found.items())
        if len(self._token_cache) >= TOKEN_CACHE_LIMIT:
            self._token_cache.clear()
        self._token_cache[word] = result
        return result

    def _fuzzy(self, word: str) -> dict[str, float]:
        if len(word) < 5 or word in NO_FUZZY or not ("а" <= word[0] <= "я"):
            return {}
        slack = 2 if len(word) >= 9 else 1
        pool: list[str] = []
        for length in range(len(word) - slack, len(word) + slack + 1):
            pool.extend(self._fuzzy_pool.get((word[0], length), ()))
        found: dict[str, float] = {}
        looks_adjective = word.endswith(ADJECTIVE_LOOKING)
        for form in difflib.get_close_matches(word, pool, n=3, cutoff=FUZZY_CUTOFF):
            for key in self._forms[form]:
                # A typo does not turn a noun into an adjective: "серой" is not "Серов".
                key_is_adjective = self._endings[key] is ADJECTIVE_ENDINGS
                if key_is_adjective != looks_adjective:
                    continue
                # Shared endings inflate the similarity ("полицейский" ~ "полевской"): the bases
                # without their endings must be close too.
                base = self._bases[key]
                ending = max((e for e in self._endings[key] if word.endswith(e)), key=len, default="")
                word_base = word[: len(word) - len(ending)] if len(word) - len(ending) >= 3 else word
                if difflib.SequenceMatcher(None, word_base, base).ratio() >= FUZZY_CUTOFF:
                    found.setdefault(key, FUZZY)
        return found

    def _assign_roles(self, tokens: list[Token]) -> None:
        count = len(tokens)
        for index, token in enumerate(tokens):
            text = token.text
            following = tokens[index + 1] if index + 1 < count else None
            in_region_name = (
                text in REGION_ADJECTIVES and following is not None and following.text in REGION_WORDS
            )
            if text in REGION_WORDS or in_region_name:
                token.role = "ignored"
            elif text in LOCALITY_MARKERS or (text in LOCALITY_MARKERS_WITH_DOT and token.joined_after):
                if following is not None and not following.is_number:
                    token.role = "locality"
            elif text in STREET_MARKERS or (text in STREET_MARKERS_WITH_DOT and token.joined_after):
                token.role = "street_marker"
        for index, token in enumerate(tokens):
            if token.role == "street_marker":
                self._mark_street(tokens, index)

    def _mark_street(self, tokens: list[Token], marker: int) -> None:
        count = len(tokens)
        nxt = marker + 1
        after = tokens[nxt] if nxt < count else None
        prefix = (
            after is not None
            and not after.break_before
            and after.role == "free"
            and after.text not in PREPOSITIONS
            # A number opens a street name only when a word follows ("ул. 8 Марта", not "улица 3").
            and (
                not after.is_number
                or (nxt + 1 < count and not tokens[nxt + 1].is_number and not tokens[nxt + 1].break_before)
            )
        )
        if prefix:
            # "ул. 8 Марта": a number may open the street name.
            if after is not None and after.is_number and nxt + 1 < count and not tokens[nxt + 1].is_number:
                after.role = "street"
                nxt += 1
            taken = 0
            while nxt < count and taken < 3:
                token = tokens[nxt]
                if token.role != "free" or token.is_number or (taken and token.break_before):
                    break
                # After the first word, stop where a place name starts ("ул Ленина Нижний Тагил").
                if taken and any(q == EXACT for _, q in self._candidates(token.text)):
                    break
                token.role = "street"
                taken += 1
                nxt += 1
            return
        # "Серовский тракт, 5", "Ленина ул.": the word before the marker names the street.
        previous = tokens[marker - 1] if marker > 0 else None
        if previous is not None and previous.role == "free" and not tokens[marker].break_before:
            previous.role = "street"

    def _full_matches(
        self, tokens: list[Token], candidates: list[tuple[tuple[str, float], ...]]
    ) -> list[PhraseMatch]:
        matches: list[PhraseMatch] = []
        count = len(tokens)
        for start in range(count):
            for key, quality in candidates[start]:
                for phrase in self._phrases_by_first.get(key, ()):
                    end, worst = self._extend(tokens, candidates, start, phrase, quality)
                    if end < 0:
                        continue
                    marked = (
                        start > 0 and tokens[start - 1].role == "locality" and not tokens[start].break_before
                    )
                    weak = phrase.weak or (len(phrase.keys) == 1 and tokens[start].text in COMMON_WORD_FORMS)
                    if weak and not (marked or self._stands_alone(tokens, start, end)):
                        continue
                    score = 2 * worst + 0.5 * (len(phrase.keys) - 1) + (1.0 if marked else 0.0)
                    following = tokens[end].text if end < count and not tokens[end].break_before else None
                    matches.append(PhraseMatch(phrase.municipality, start, end, score, marked, following))
        return matches

    @staticmethod
    def _extend(
        tokens: list[Token],
        candidates: list[tuple[tuple[str, float], ...]],
        start: int,
        phrase: Phrase,
        quality: float,
    ) -> tuple[int, float]:
        worst = quality
        for offset, key in enumerate(phrase.keys):
            position = start + offset
            if position >= len(tokens):
                return -1, 0.0
            token = tokens[position]
            if offset and (token.break_before or token.role != "free"):
                return -1, 0.0
            if len(key) == 1 and not token.joined_after:
                return -1, 0.0  # "Н. Тагил" needs its dot: "в тагиле" is not "В. Тагил"
            if offset:
                qualities = [q for k, q in candidates[position] if k == key]
                if not qualities:
                    return -1, 0.0
                worst = min(worst, qualities[0])
        return start + len(phrase.keys), worst

    @staticmethod
    def _stands_alone(tokens: list[Token], start: int, end: int) -> bool:
        """The words form the whole address, or its head ("Заречный, ул. Ленина", "в Лесном")."""
        before = tokens[start - 1] if start > 0 else None
        opens = (
            before is None
            or tokens[start].break_before
            or before.role == "locality"
            or (before.text in TO_PREPOSITIONS and (start == 1 or before.break_before))
        )
        after = tokens[end] if end < len(tokens) else None
        closes = (
            after is None
            or after.break_before
            or after.is_number
            or after.role in ("street_marker", "locality", "street")
        )
        if not closes and after is not None and after.text in PREPOSITIONS and end + 1 < len(tokens):
            # "в Лесном на ул. Ленина": a preposition, then the street.
            beyond = tokens[end + 1]
            closes = not beyond.break_before and beyond.role in ("street_marker", "locality")
        return opens and closes

    def _decide(self, matches: list[PhraseMatch]) -> GeoMatch:
        # A phrase inside a longer one is part of it: "Тагил" inside "Верхний Тагил".
        kept = [
            m
            for m in matches
            if not any(
                o.start <= m.start and o.end >= m.end and (o.end - o.start) > (m.end - m.start)
                for o in matches
            )
        ]
        # "Сысертский р-н, г Арамиль": the district is context when a marked settlement follows.
        if any(m.marked for m in kept):
            kept = [m for m in kept if m.marked or m.followed_by not in DISTRICT_WORDS] or kept
        scores: dict[int, float] = {}
        for m in kept:
            scores[m.municipality] = max(scores.get(m.municipality, 0.0), m.score)
        ranked = sorted(scores, key=lambda i: (-scores[i], -(self._items[i].population or 0), i))
        candidates = tuple(self._items[i] for i in ranked[:MAX_CANDIDATES])
        if len(ranked) == 1 or scores[ranked[0]] - scores[ranked[1]] >= CONFIDENT_MARGIN:
            return GeoMatch(candidates[0], candidates)
        return GeoMatch(None, candidates)

    def _partial_matches(
        self, tokens: list[Token], candidates: list[tuple[tuple[str, float], ...]]
    ) -> GeoMatch:
        found: dict[int, tuple[int, int]] = {}  # municipality -> (agreement, modifier)
        for index, token in enumerate(tokens):
            if token.role != "free" or not self._stands_alone(tokens, index, index + 1):
                continue
            for key, quality in candidates[index]:
                if quality < EXACT:
                    continue
                for phrase, word in self._partial.get(key, ()):
                    agreement = 1 if token.text == word else 0
                    modifier = 1 if word == phrase.keys[0] else 0
                    previous = found.get(phrase.municipality, (0, 1))
                    found[phrase.municipality] = (max(previous[0], agreement), min(previous[1], modifier))
        if not found:
            return NO_MATCH
        ranked = sorted(found, key=lambda i: (-found[i][0], -(self._items[i].population or 0), i))
        candidates_out = tuple(self._items[i] for i in ranked[:MAX_CANDIDATES])
        # One town for a distinctive noun ("Ляля") is safe; a bare "Верхний" never is.
        if len(ranked) == 1 and found[ranked[0]][1] == 0:
            return GeoMatch(candidates_out[0], candidates_out)
        return GeoMatch(None, candidates_out)
