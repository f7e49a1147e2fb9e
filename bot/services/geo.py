"""Which municipality a report is about: from a geo pin or from an address the citizen typed.

We only have one point per municipality (its administrative centre, bot/data/municipalities.csv), no
boundaries, so a pin is resolved by distance and the answer says how sure it is. Typed text is matched
against names, centres and aliases with Russian inflection ("в Нижнем Тагиле"), typos ("Екатеринбур")
and guards against street names ("ул. Свердлова" is not Свердловск).
"""

from __future__ import annotations

import csv
import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import snowballstemmer

from bot.core.config import REFERENCE_DATA_DIR

MUNICIPALITIES_PATH = REFERENCE_DATA_DIR / "municipalities.csv"
KINDS = frozenset({"gorodskoy_okrug", "municipalny_okrug", "municipalny_rayon", "zato"})
# A town that is its own municipality wins over a rural district administered from it.
_URBAN_KINDS = frozenset({"gorodskoy_okrug", "zato"})
MAX_CANDIDATES = 5

# ---------------------------------------------------------------------------------------------------
# Pins
# ---------------------------------------------------------------------------------------------------
_EARTH_RADIUS_KM = 6371.0
# A pin this close to a centre (beyond the town's own built-up radius) is taken without asking.
CONFIDENT_KM = 5.5
# Otherwise the nearest must be clearly nearer than the runner-up.
CONFIDENT_RATIO = 0.6
# Outside the oblast's bounding box is outside; inside it, a rough outline (below) decides, with a
# margin because the outline is approximate and refusing a real citizen is worse than asking them.
_BBOX = (56.0, 62.0, 57.2, 66.3)  # lat min, lat max, lon min, lon max
_OUTLINE_MARGIN_KM = 10.0
# A coarse outline of Sverdlovsk oblast (lat, lon), clockwise from the northern tip, drawn on the
# generous side. It exists to keep obvious neighbours (Tyumen, Kurgan oblast, Perm krai towns inside
# the bounding box) out; it is not a border.
_OUTLINE: tuple[tuple[float, float], ...] = (
    (61.95, 59.20),
    (61.70, 60.60),
    (61.30, 62.00),
    (60.80, 63.20),
    (60.00, 64.10),
    (59.40, 65.30),
    (58.90, 66.20),
    (58.20, 66.10),
    (57.80, 65.60),
    (57.30, 65.30),
    (56.85, 65.00),
    (56.65, 64.20),
    (56.55, 63.30),
    (56.40, 62.60),
    (56.20, 62.10),
    (56.05, 61.20),
    (56.10, 60.20),
    (56.15, 59.30),
    (56.20, 58.50),
    (56.35, 57.90),
    (56.60, 57.30),
    (56.90, 57.20),
    (57.10, 57.70),
    (57.50, 58.40),
    (58.00, 58.60),
    (58.40, 59.00),
    (58.80, 59.20),
    (59.50, 59.00),
    (60.50, 58.90),
    (61.30, 59.00),
)


@dataclass(frozen=True)
class Municipality:
    """One municipality of the oblast (муниципальное образование) with its centre point."""

    id: str
    oktmo: str | None
    name: str
    kind: str
    centre: str
    lat: float
    lon: float
    population: int | None
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class GeoMatch:
    """The answer to "where is this?".

    `best` is set when we are confident. Otherwise, a non-empty `candidates` means "ask the citizen to
    pick"; empty means we found nothing. `candidates` is ranked and starts with `best` when there is one.
    """

    best: Municipality | None
    candidates: tuple[Municipality, ...]
    outside_region: bool = False


NO_MATCH = GeoMatch(None, ())


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _inside_outline(lat: float, lon: float) -> bool:
    inside = False
    count = len(_OUTLINE)
    for index in range(count):
        lat1, lon1 = _OUTLINE[index]
        lat2, lon2 = _OUTLINE[(index + 1) % count]
        if (lat1 > lat) != (lat2 > lat):
            crossing = lon1 + (lat - lat1) * (lon2 - lon1) / (lat2 - lat1)
            if lon < crossing:
                inside = not inside
    return inside


def _km_to_outline(lat: float, lon: float) -> float:
    # Planar distance to each edge on a local equirectangular projection: good to a few per cent at
    # this latitude and these distances, which is all a 10 km margin needs.
    ky = math.pi * _EARTH_RADIUS_KM / 180
    kx = ky * math.cos(math.radians(lat))
    best = math.inf
    count = len(_OUTLINE)
    for index in range(count):
        lat1, lon1 = _OUTLINE[index]
        lat2, lon2 = _OUTLINE[(index + 1) % count]
        ax, ay = (lon1 - lon) * kx, (lat1 - lat) * ky
        bx, by = (lon2 - lon) * kx, (lat2 - lat) * ky
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        t = 0.0 if length2 == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length2))
        best = min(best, math.hypot(ax + t * dx, ay + t * dy))
    return best


def is_outside_region(lat: float, lon: float) -> bool:
    """True when the point is clearly outside Sverdlovsk oblast (not merely near its border)."""
    lat_min, lat_max, lon_min, lon_max = _BBOX
    if not (lat_min <= lat <= lat_max and lon_min <= lon <= lon_max):
        return True
    return not _inside_outline(lat, lon) and _km_to_outline(lat, lon) > _OUTLINE_MARGIN_KM


def _urban_radius_km(municipality: Municipality) -> float:
    # Distances are counted from the edge of the built-up area, roughly sqrt(population): a pin 12 km
    # from the centre of Ekaterinburg is still in the city, 12 km from a 15 000-people town it is not.
    if not municipality.population:
        return 1.5
    return min(14.0, max(1.5, 0.0105 * math.sqrt(municipality.population)))


# ---------------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------------
_TOKEN_RE = re.compile(r"\d+|[a-zа-я]+|[.\-]|[,;:!?()\"«»/\\|\n]")
_ABBREVIATIONS = (
    (re.compile(r"\bр-н\b"), " район "),
    (re.compile(r"\bпр-к?т\b"), " проспект "),
    (re.compile(r"\bб-р\b"), " бульвар "),
    (re.compile(r"\bкв-л\b"), " квартал "),
    (re.compile(r"\bмкр-н\b"), " микрорайон "),
)
# Before a settlement name. The one-letter ones need their dot ("с." but not the preposition "с").
_LOCALITY_MARKERS = frozenset(
    {
        "г", "гор", "город", "города", "городе", "пгт", "пос", "поселок", "поселка", "поселке",
        "рп", "зато", "село", "селе", "села", "дер", "деревня", "деревне", "деревни", "нп", "го", "мо",
    }
)  # fmt: skip
_LOCALITY_MARKERS_WITH_DOT = frozenset({"п", "с", "д"})
# Before (or after) a street name: the words that follow are a street, not a town ("ул. Свердлова").
_STREET_MARKERS = frozenset(
    {
        "ул", "улица", "улице", "улицу", "улицы", "улицей", "пр", "просп", "проспект", "проспекте",
        "проспекта", "проспекту", "пер", "переулок", "переулке", "переулка", "бульвар", "бульваре",
        "бульвара", "пл", "площадь", "площади", "шоссе", "тракт", "тракта", "тракте", "тракту", "наб",
        "набережная", "набережной", "проезд", "проезде", "тупик", "аллея", "аллее", "мкр", "мкрн",
        "микрорайон", "микрорайоне", "микрорайона", "квартал", "квартале", "спуск",
    }
)  # fmt: skip
_STREET_MARKERS_WITH_DOT = frozenset({"ш"})
# Words written with a dot that does not end a sentence ("просп.", "обл.").
_ABBREVIATED = (
    _LOCALITY_MARKERS
    | _STREET_MARKERS
    | frozenset({"обл", "кв", "корп", "стр", "им", "просп", "пгт", "мкрн", "тер", "ст", "дер"})
)
_PREPOSITIONS = frozenset(
    {
        "в", "во", "на", "по", "у", "около", "возле", "рядом", "от", "до", "к", "ко", "с", "со", "и",
        "за", "напротив", "между", "из", "под", "над", "перед", "при", "через", "для", "о", "об",
    }
)  # fmt: skip
_TO_PREPOSITIONS = frozenset({"в", "во", "из"})
_REGION_WORDS = frozenset({"обл", "область", "области", "областью", "россия", "рф"})
_REGION_ADJECTIVES = frozenset({"свердловская", "свердловской", "свердловскую"})
_DISTRICT_WORDS = frozenset({"район", "районе", "округ", "округе"})
# Place names that are ordinary Russian words ("лесной массив", "запах гари", "свободный доступ"):
# they count only as a clear place mention (after "г."/"пос.", or standing alone as the address).
# Case forms of names that are ordinary words in reports ("ходит реже", "трубы из асбеста"): weak too.
_COMMON_WORD_FORMS = frozenset({"реже", "асбеста", "асбестом"})
_COMMON_WORD_NAMES = frozenset(
    {
        "лесной", "заречный", "свободный", "уральский", "пионерский", "малышева", "гари", "академический",
        "восточный", "троицкий", "уфимский", "цементный", "компрессорный", "лосиный", "монетный",
        "луговской", "белокаменный", "красногвардейский", "полуночное",
    }
)  # fmt: skip
# Frequent words in reports that sit close to a place name by spelling; never fuzzy-matched.
_NO_FUZZY = frozenset(
    {
        "серой", "правда", "тогда", "будка", "будки", "будку", "сергей", "орбита", "ревет", "кушать",
        "полевые", "полевых", "нижнее", "верхнее", "тагильский", "подъезд", "подъезде",
    }
)  # fmt: skip
# Parts of names that mean nothing alone ("Камышловский район" → not "район").
_GENERIC_NAME_WORDS = frozenset(
    {
        "район", "округ", "городской", "муниципальный", "муниципальное", "образование", "город", "поселок",
        "слобода", "речка", "щит", "лог", "ключей", "камни", "исток",
    }
)  # fmt: skip
_LEADING_MARKER_WORDS = frozenset({"город", "поселок", "зато", "муниципальное", "образование"})
_KIND_SUFFIXES = (
    ("городской", "округ"),
    ("муниципальный", "округ"),
    ("муниципальный", "район"),
    ("муниципальное", "образование"),
    ("округ",),
    ("район",),
)
_MODIFIER_STEMS = frozenset({"верхн", "нижн"})

# Inflection endings by the shape of the nominative form. Generating forms is more precise than bare
# stemming: "Свердловская" (an adjective) shares its stem with "Свердловск" but is not one of its forms.
_ADJECTIVE_NOMINATIVE = ("ий", "ый", "ой", "ая", "яя", "ое", "ее", "ие", "ые")
_ADJECTIVE_ENDINGS = frozenset(
    {
        "ий", "ый", "ой", "ая", "яя", "ое", "ее", "ие", "ые", "ого", "его", "ому", "ему", "им", "ым",
        "ом", "ем", "ую", "юю", "ей", "их", "ых", "ими", "ыми",
    }
)  # fmt: skip
_CONSONANT_ENDINGS = frozenset({"", "а", "у", "е", "ом", "ем"})
_SOFT_SIGN_ENDINGS = frozenset({"ь", "я", "ю", "е", "ем", "и", "ью", "ей"})
_A_ENDINGS = frozenset({"а", "ы", "и", "е", "у", "ой", "ою", "ей"})
_YA_ENDINGS = frozenset({"я", "и", "е", "ю", "ей", "ею"})
_O_ENDINGS = frozenset({"о", "а", "у", "е", "ом"})
_E_ENDINGS = frozenset({"е", "я", "ю", "ем", "и"})
_PLURAL_ENDINGS = frozenset({"ы", "и", "ов", "ев", "ей", "ам", "ям", "ах", "ях", "ами", "ями"})
_ADJECTIVE_LOOKING = tuple(sorted(_ADJECTIVE_ENDINGS - {"ом", "ем", "ей", "им"}, key=len, reverse=True))
_CYRILLIC_CONSONANTS = frozenset("бвгджзклмнпрстфхцчшщй")

_EXACT, _STEMMED, _FUZZY = 1.0, 0.9, 0.75
_FUZZY_CUTOFF = 0.8
_CONFIDENT_MARGIN = 0.75
_TOKEN_CACHE_LIMIT = 20_000


def normalise(text: str) -> str:
    """Lower case, ё → е, common hyphenated abbreviations expanded ("р-н" → "район")."""
    lowered = text.lower().replace("ё", "е")
    for pattern, replacement in _ABBREVIATIONS:
        lowered = pattern.sub(replacement, lowered)
    return lowered


def _inflect(token: str, allow_short: bool) -> tuple[str, frozenset[str]]:
    """The unchanging base of one word of a name and the endings that make its case forms."""
    if token.isdigit() or len(token) == 1 or (len(token) <= 3 and not allow_short):
        return token, frozenset({""})
    if not ("а" <= token[-1] <= "я"):
        return token, frozenset({""})
    if len(token) > 4 and token.endswith(_ADJECTIVE_NOMINATIVE):
        base, endings = token[:-2], _ADJECTIVE_ENDINGS
    elif token[-1] in "ыи":
        base, endings = token[:-1], _PLURAL_ENDINGS
    elif token[-1] == "а":
        base, endings = token[:-1], _A_ENDINGS
    elif token[-1] == "я":
        base, endings = token[:-1], _YA_ENDINGS
    elif token[-1] == "о":
        base, endings = token[:-1], _O_ENDINGS
    elif token[-1] == "е":
        base, endings = token[:-1], _E_ENDINGS
    elif token[-1] == "ь":
        base, endings = token[:-1], _SOFT_SIGN_ENDINGS
    elif token[-1] in _CYRILLIC_CONSONANTS:
        base, endings = token, _CONSONANT_ENDINGS
    else:
        return token, frozenset({""})
    return base, endings


def _words(text: str) -> list[str]:
    return [token for token in _TOKEN_RE.findall(normalise(text)) if token[0].isalnum()]


@dataclass(frozen=True)
class _Phrase:
    keys: tuple[str, ...]
    municipality: int
    from_alias: bool
    weak: bool


@dataclass
class _Token:
    text: str
    is_number: bool
    joined_after: bool = False  # "." or "-" right after it: an abbreviation ("г.", "Н.Тагил")
    break_before: bool = False  # start of text or a hard separator (comma, sentence end) before it
    role: str = "free"  # free | street | locality | street_marker | ignored


@dataclass
class _Match:
    municipality: int
    start: int
    end: int  # exclusive
    score: float
    marked: bool
    followed_by: str | None = field(default=None)


def _tokenise(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pending_break = True
    for raw in _TOKEN_RE.findall(normalise(text)):
        if raw[0].isalnum():
            tokens.append(_Token(raw, raw.isdigit(), break_before=pending_break))
            pending_break = False
        elif raw in ".-":
            previous = tokens[-1] if tokens else None
            # A dot after an abbreviation joins; after a full word it ends a sentence.
            if previous is not None and (
                raw == "-" or len(previous.text) <= 2 or previous.text in _ABBREVIATED
            ):
                previous.joined_after = True
            else:
                pending_break = True
        else:
            pending_break = True
    return tokens


class MunicipalityDirectory:
    """All municipalities with indexes for fast lookup by id, point and typed text."""

    def __init__(self, municipalities: Sequence[Municipality]) -> None:
        """Index `municipalities`; ids must be unique."""
        self._items = tuple(municipalities)
        self._by_id = {m.id: m for m in self._items}
        if len(self._by_id) != len(self._items):
            raise ValueError("municipality ids must be unique")
        self._stemmer = snowballstemmer.stemmer("russian")
        self._forms: dict[str, set[str]] = {}
        self._stems: dict[str, set[str]] = {}
        self._endings: dict[str, frozenset[str]] = {}
        self._word_forms: dict[str, frozenset[str]] = {}
        self._bases: dict[str, str] = {}
        self._phrases_by_first: dict[str, list[_Phrase]] = {}
        self._partial: dict[str, list[tuple[_Phrase, str]]] = {}
        self._fuzzy_pool: dict[tuple[str, int], list[str]] = {}
        self._token_cache: dict[str, tuple[tuple[str, float], ...]] = {}
        self._radius = tuple(_urban_radius_km(m) for m in self._items)
        self._build_text_index()

    # -- loading and lookup -------------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path | None = None) -> MunicipalityDirectory:
        """Read the directory from a CSV file (default: bot/data/municipalities.csv)."""
        return cls(load_municipalities(path))

    def all(self) -> tuple[Municipality, ...]:
        """Every municipality, in file order."""
        return self._items

    def get(self, municipality_id: str) -> Municipality | None:
        """The municipality with this id, or None."""
        return self._by_id.get(municipality_id)

    # -- pins ---------------------------------------------------------------------------------------
    def by_point(self, lat: float, lon: float) -> GeoMatch:
        """Resolve a geo pin. Confident near a centre or when one centre is clearly the nearest."""
        if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
            raise ValueError(f"not a coordinate: {lat}, {lon}")
        if is_outside_region(lat, lon):
            return GeoMatch(None, (), outside_region=True)
        ranked = sorted(
            (
                (
                    max(0.0, _haversine_km(lat, lon, m.lat, m.lon) - self._radius[index]),
                    0 if m.kind in _URBAN_KINDS else 1,
                    index,
                )
                for index, m in enumerate(self._items)
            ),
        )
        if not ranked:
            return NO_MATCH
        candidates = tuple(self._items[index] for _, _, index in ranked[:MAX_CANDIDATES])
        nearest = ranked[0][0]
        runner_up = ranked[1][0] if len(ranked) > 1 else math.inf
        if nearest <= CONFIDENT_KM or nearest < CONFIDENT_RATIO * runner_up:
            return GeoMatch(candidates[0], candidates)
        return GeoMatch(None, candidates)

    # -- text ---------------------------------------------------------------------------------------
    def _build_text_index(self) -> None:
        urban_centres = {m.centre.lower().replace("ё", "е") for m in self._items if m.kind in _URBAN_KINDS}
        fuzzy_keys: set[str] = set()
        for index, m in enumerate(self._items):
            phrases: list[tuple[list[str], bool]] = []
            name_words = _words(m.name)
            phrases.append((name_words, False))
            stripped = self._strip_kind_words(name_words)
            if stripped and stripped != name_words:
                phrases.append((stripped, False))
            centre = m.centre.lower().replace("ё", "е")
            # A rural district run from a town that is its own municipality: the town's name means
            # the town.
            if m.kind in _URBAN_KINDS or centre not in urban_centres:
                phrases.append((_words(m.centre), False))
            for alias in m.aliases:
                alias_words = _words(alias)
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
                weak = all(word in _COMMON_WORD_NAMES or len(word) == 1 for word in phrase_keys)
                phrase = _Phrase(phrase_keys, index, from_alias, weak)
                self._phrases_by_first.setdefault(phrase_keys[0], []).append(phrase)
                for word in phrase_keys:
                    self._index_word(word, allow_short=not from_alias)
                    if not from_alias and not weak and len(word) >= 5 and word not in _GENERIC_NAME_WORDS:
                        fuzzy_keys.add(word)
                if len(phrase_keys) > 1 and not from_alias:
                    self._index_partial(phrase)
        for word in fuzzy_keys:
            for form in self._word_forms[word]:
                self._fuzzy_pool.setdefault((form[0], len(form)), []).append(form)

    @staticmethod
    def _strip_kind_words(words: list[str]) -> list[str]:
        result = list(words)
        while result and result[0] in _LEADING_MARKER_WORDS:
            result = result[1:]
        for suffix in _KIND_SUFFIXES:
            if len(result) > len(suffix) and tuple(result[-len(suffix) :]) == suffix:
                result = result[: -len(suffix)]
                break
        return result

    def _index_word(self, word: str, allow_short: bool) -> None:
        if word in self._endings:
            return
        base, endings = _inflect(word, allow_short)
        forms = frozenset(base + ending for ending in endings)
        self._bases[word] = base
        self._endings[word] = endings
        self._word_forms[word] = forms
        for form in forms:
            self._forms.setdefault(form, set()).add(word)
            self._stems.setdefault(self._stemmer.stemWord(form), set()).add(word)

    def _index_partial(self, phrase: _Phrase) -> None:
        # "Верхний" alone may be any Верхн* town; "Салда" either Салда. Hyphenated names are one word
        # to people ("Каменск-Уральский"), so their halves are not partial matches.
        first, last = phrase.keys[0], phrase.keys[-1]
        if self._stemmer.stemWord(first) in _MODIFIER_STEMS:
            self._partial.setdefault(first, []).append((phrase, first))
        if len(last) >= 4 and last not in _GENERIC_NAME_WORDS and not last.isdigit():
            self._partial.setdefault(last, []).append((phrase, last))

    def _candidates(self, word: str) -> tuple[tuple[str, float], ...]:
        """Name words that `word` may be a form of, with how sure we are (cached per word)."""
        cached = self._token_cache.get(word)
        if cached is not None:
            return cached
        found: dict[str, float] = {}
        for key in self._forms.get(word, ()):
            found[key] = _EXACT
        if not found and len(word) >= 4:
            stem = self._stemmer.stemWord(word)
            ending = word[len(stem) :] if word.startswith(stem) else None
            for key in self._stems.get(stem, ()):
                if ending is not None and ending in self._endings[key] and key[:3] == word[:3]:
                    found[key] = _STEMMED
        if not found:
            found = self._fuzzy(word)
        result = tuple(found.items())
        if len(self._token_cache) >= _TOKEN_CACHE_LIMIT:
            self._token_cache.clear()
        self._token_cache[word] = result
        return result

    def _fuzzy(self, word: str) -> dict[str, float]:
        if len(word) < 5 or word in _NO_FUZZY or not ("а" <= word[0] <= "я"):
            return {}
        slack = 2 if len(word) >= 9 else 1
        pool: list[str] = []
        for length in range(len(word) - slack, len(word) + slack + 1):
            pool.extend(self._fuzzy_pool.get((word[0], length), ()))
        found: dict[str, float] = {}
        looks_adjective = word.endswith(_ADJECTIVE_LOOKING)
        for form in difflib.get_close_matches(word, pool, n=3, cutoff=_FUZZY_CUTOFF):
            for key in self._forms[form]:
                # A typo does not turn a noun into an adjective: "серой" is not "Серов".
                key_is_adjective = self._endings[key] is _ADJECTIVE_ENDINGS
                if key_is_adjective != looks_adjective:
                    continue
                # Shared endings inflate the similarity ("полицейский" ~ "полевской"): the bases
                # without their endings must be close too.
                base = self._bases[key]
                ending = max((e for e in self._endings[key] if word.endswith(e)), key=len, default="")
                word_base = word[: len(word) - len(ending)] if len(word) - len(ending) >= 3 else word
                if difflib.SequenceMatcher(None, word_base, base).ratio() >= _FUZZY_CUTOFF:
                    found.setdefault(key, _FUZZY)
        return found

    def by_text(self, text: str) -> GeoMatch:
        """Resolve a typed address or place name; ambiguous text gives candidates, nothing gives NO_MATCH."""
        tokens = _tokenise(text[:2000])
        if not tokens:
            return NO_MATCH
        self._assign_roles(tokens)
        candidates = [self._candidates(token.text) if token.role == "free" else () for token in tokens]
        matches = self._full_matches(tokens, candidates)
        if matches:
            return self._decide(matches)
        return self._partial_matches(tokens, candidates)

    def _assign_roles(self, tokens: list[_Token]) -> None:
        count = len(tokens)
        for index, token in enumerate(tokens):
            text = token.text
            following = tokens[index + 1] if index + 1 < count else None
            in_region_name = (
                text in _REGION_ADJECTIVES and following is not None and following.text in _REGION_WORDS
            )
            if text in _REGION_WORDS or in_region_name:
                token.role = "ignored"
            elif text in _LOCALITY_MARKERS or (text in _LOCALITY_MARKERS_WITH_DOT and token.joined_after):
                if following is not None and not following.is_number:
                    token.role = "locality"
            elif text in _STREET_MARKERS or (text in _STREET_MARKERS_WITH_DOT and token.joined_after):
                token.role = "street_marker"
        for index, token in enumerate(tokens):
            if token.role == "street_marker":
                self._mark_street(tokens, index)

    def _mark_street(self, tokens: list[_Token], marker: int) -> None:
        count = len(tokens)
        nxt = marker + 1
        after = tokens[nxt] if nxt < count else None
        prefix = (
            after is not None
            and not after.break_before
            and after.role == "free"
            and after.text not in _PREPOSITIONS
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
                if taken and any(q == _EXACT for _, q in self._candidates(token.text)):
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
        self, tokens: list[_Token], candidates: list[tuple[tuple[str, float], ...]]
    ) -> list[_Match]:
        matches: list[_Match] = []
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
                    weak = phrase.weak or (len(phrase.keys) == 1 and tokens[start].text in _COMMON_WORD_FORMS)
                    if weak and not (marked or self._stands_alone(tokens, start, end)):
                        continue
                    score = 2 * worst + 0.5 * (len(phrase.keys) - 1) + (1.0 if marked else 0.0)
                    following = tokens[end].text if end < count and not tokens[end].break_before else None
                    matches.append(_Match(phrase.municipality, start, end, score, marked, following))
        return matches

    @staticmethod
    def _extend(
        tokens: list[_Token],
        candidates: list[tuple[tuple[str, float], ...]],
        start: int,
        phrase: _Phrase,
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
    def _stands_alone(tokens: list[_Token], start: int, end: int) -> bool:
        """The words form the whole address, or its head ("Заречный, ул. Ленина", "в Лесном")."""
        before = tokens[start - 1] if start > 0 else None
        opens = (
            before is None
            or tokens[start].break_before
            or before.role == "locality"
            or (before.text in _TO_PREPOSITIONS and (start == 1 or before.break_before))
        )
        after = tokens[end] if end < len(tokens) else None
        closes = (
            after is None
            or after.break_before
            or after.is_number
            or after.role in ("street_marker", "locality", "street")
        )
        if not closes and after is not None and after.text in _PREPOSITIONS and end + 1 < len(tokens):
            # "в Лесном на ул. Ленина": a preposition, then the street.
            beyond = tokens[end + 1]
            closes = not beyond.break_before and beyond.role in ("street_marker", "locality")
        return opens and closes

    def _decide(self, matches: list[_Match]) -> GeoMatch:
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
            kept = [m for m in kept if m.marked or m.followed_by not in _DISTRICT_WORDS] or kept
        scores: dict[int, float] = {}
        for m in kept:
            scores[m.municipality] = max(scores.get(m.municipality, 0.0), m.score)
        ranked = sorted(scores, key=lambda i: (-scores[i], -(self._items[i].population or 0), i))
        candidates = tuple(self._items[i] for i in ranked[:MAX_CANDIDATES])
        if len(ranked) == 1 or scores[ranked[0]] - scores[ranked[1]] >= _CONFIDENT_MARGIN:
            return GeoMatch(candidates[0], candidates)
        return GeoMatch(None, candidates)

    def _partial_matches(
        self, tokens: list[_Token], candidates: list[tuple[tuple[str, float], ...]]
    ) -> GeoMatch:
        found: dict[int, tuple[int, int]] = {}  # municipality -> (agreement, modifier)
        for index, token in enumerate(tokens):
            if token.role != "free" or not self._stands_alone(tokens, index, index + 1):
                continue
            for key, quality in candidates[index]:
                if quality < _EXACT:
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


# ---------------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------------
def _parse_row(row: dict[str, str], line: int) -> Municipality:
    where = f"municipalities.csv line {line}"
    municipality_id = (row.get("id") or "").strip()
    if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", municipality_id):
        raise ValueError(f"{where}: bad id {municipality_id!r}")
    oktmo = (row.get("oktmo") or "").strip() or None
    if oktmo is not None and not re.fullmatch(r"\d{8}", oktmo):
        raise ValueError(f"{where}: OKTMO must be 8 digits, got {oktmo!r}")
    kind = (row.get("kind") or "").strip()
    if kind not in KINDS:
        raise ValueError(f"{where}: unknown kind {kind!r}")
    population = (row.get("population") or "").strip()
    aliases = tuple(alias.strip() for alias in (row.get("aliases") or "").split("|") if alias.strip())
    name = (row.get("name") or "").strip()
    centre = (row.get("centre") or "").strip()
    if not name or not centre:
        raise ValueError(f"{where}: name and centre are required")
    return Municipality(
        id=municipality_id,
        oktmo=oktmo,
        name=name,
        kind=kind,
        centre=centre,
        lat=float(row["lat"]),
        lon=float(row["lon"]),
        population=int(population) if population else None,
        aliases=aliases,
    )


def load_municipalities(path: Path | None = None) -> list[Municipality]:
    """Read municipalities from CSV (default: bot/data/municipalities.csv), validating every row."""
    with (path or MUNICIPALITIES_PATH).open(encoding="utf-8", newline="") as handle:
        return [_parse_row(row, line) for line, row in enumerate(csv.DictReader(handle), start=2)]
