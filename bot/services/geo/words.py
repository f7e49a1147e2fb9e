"""Words of a typed address: tokens, their roles, and the Russian endings a place name may take
("в Нижнем Тагиле", "из Серова"), written for the names of this region's municipalities."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TOKEN_RE = re.compile(r"\d+|[a-zа-я]+|[.\-]|[,;:!?()\"«»/\\|\n]")
ABBREVIATIONS = (
    (re.compile(r"\bр-н\b"), " район "),
    (re.compile(r"\bпр-к?т\b"), " проспект "),
    (re.compile(r"\bб-р\b"), " бульвар "),
    (re.compile(r"\bкв-л\b"), " квартал "),
    (re.compile(r"\bмкр-н\b"), " микрорайон "),
)
# Before a settlement name. The one-letter ones need their dot ("с." but not the preposition "с").
LOCALITY_MARKERS = frozenset(
    {
        "г", "гор", "город", "города", "городе", "пгт", "пос", "поселок", "поселка", "поселке",
        "рп", "зато", "село", "селе", "села", "дер", "деревня", "деревне", "деревни", "нп", "го", "мо",
    }
)  # fmt: skip
LOCALITY_MARKERS_WITH_DOT = frozenset({"п", "с", "д"})
# Before (or after) a street name: the words that follow are a street, not a town ("ул. Свердлова").
STREET_MARKERS = frozenset(
    {
        "ул", "улица", "улице", "улицу", "улицы", "улицей", "пр", "просп", "проспект", "проспекте",
        "проспекта", "проспекту", "пер", "переулок", "переулке", "переулка", "бульвар", "бульваре",
        "бульвара", "пл", "площадь", "площади", "шоссе", "тракт", "тракта", "тракте", "тракту", "наб",
        "набережная", "набережной", "проезд", "проезде", "тупик", "аллея", "аллее", "мкр", "мкрн",
        "микрорайон", "микрорайоне", "микрорайона", "квартал", "квартале", "спуск",
    }
)  # fmt: skip
STREET_MARKERS_WITH_DOT = frozenset({"ш"})
# Words written with a dot that does not end a sentence ("просп.", "обл.").
ABBREVIATED = (
    LOCALITY_MARKERS
    | STREET_MARKERS
    | frozenset({"обл", "кв", "корп", "стр", "им", "просп", "пгт", "мкрн", "тер", "ст", "дер"})
)
PREPOSITIONS = frozenset(
    {
        "в", "во", "на", "по", "у", "около", "возле", "рядом", "от", "до", "к", "ко", "с", "со", "и",
        "за", "напротив", "между", "из", "под", "над", "перед", "при", "через", "для", "о", "об",
    }
)  # fmt: skip
TO_PREPOSITIONS = frozenset({"в", "во", "из"})
REGION_WORDS = frozenset({"обл", "область", "области", "областью", "россия", "рф"})
REGION_ADJECTIVES = frozenset({"свердловская", "свердловской", "свердловскую"})
DISTRICT_WORDS = frozenset({"район", "районе", "округ", "округе"})
# Place names that are ordinary Russian words ("лесной массив", "запах гари", "свободный доступ"):
# they count only as a clear place mention (after "г."/"пос.", or standing alone as the address).
# Case forms of names that are ordinary words in reports ("ходит реже", "трубы из асбеста"): weak too.
COMMON_WORD_FORMS = frozenset({"реже", "асбеста", "асбестом"})
COMMON_WORD_NAMES = frozenset(
    {
        "лесной", "заречный", "свободный", "уральский", "пионерский", "малышева", "гари", "академический",
        "восточный", "троицкий", "уфимский", "цементный", "компрессорный", "лосиный", "монетный",
        "луговской", "белокаменный", "красногвардейский", "полуночное",
    }
)  # fmt: skip
# Frequent words in reports that sit close to a place name by spelling; never fuzzy-matched.
NO_FUZZY = frozenset(
    {
        "серой", "правда", "тогда", "будка", "будки", "будку", "сергей", "орбита", "ревет", "кушать",
        "полевые", "полевых", "нижнее", "верхнее", "тагильский", "подъезд", "подъезде",
    }
)  # fmt: skip
# Parts of names that mean nothing alone ("Камышловский район" → not "район").
GENERIC_NAME_WORDS = frozenset(
    {
        "район", "округ", "городской", "муниципальный", "муниципальное", "образование", "город", "поселок",
        "слобода", "речка", "щит", "лог", "ключей", "камни", "исток",
    }
)  # fmt: skip
LEADING_MARKER_WORDS = frozenset({"город", "поселок", "зато", "муниципальное", "образование"})
KIND_SUFFIXES = (
    ("городской", "округ"),
    ("муниципальный", "округ"),
    ("муниципальный", "район"),
    ("муниципальное", "образование"),
    ("округ",),
    ("район",),
)
MODIFIER_STEMS = frozenset({"верхн", "нижн"})

# Inflection endings by the shape of the nominative form. Generating forms is more precise than bare
# stemming: "Свердловская" (an adjective) shares its stem with "Свердловск" but is not one of its forms.
ADJECTIVE_NOMINATIVE = ("ий", "ый", "ой", "ая", "яя", "ое", "ее", "ие", "ые")
ADJECTIVE_ENDINGS = frozenset(
    {
        "ий", "ый", "ой", "ая", "яя", "ое", "ее", "ие", "ые", "ого", "его", "ому", "ему", "им", "ым",
        "ом", "ем", "ую", "юю", "ей", "их", "ых", "ими", "ыми",
    }
)  # fmt: skip
CONSONANT_ENDINGS = frozenset({"", "а", "у", "е", "ом", "ем"})
SOFT_SIGN_ENDINGS = frozenset({"ь", "я", "ю", "е", "ем", "и", "ью", "ей"})
A_ENDINGS = frozenset({"а", "ы", "и", "е", "у", "ой", "ою", "ей"})
YA_ENDINGS = frozenset({"я", "и", "е", "ю", "ей", "ею"})
O_ENDINGS = frozenset({"о", "а", "у", "е", "ом"})
E_ENDINGS = frozenset({"е", "я", "ю", "ем", "и"})
PLURAL_ENDINGS = frozenset({"ы", "и", "ов", "ев", "ей", "ам", "ям", "ах", "ях", "ами", "ями"})
ADJECTIVE_LOOKING = tuple(sorted(ADJECTIVE_ENDINGS - {"ом", "ем", "ей", "им"}, key=len, reverse=True))
CYRILLIC_CONSONANTS = frozenset("бвгджзклмнпрстфхцчшщй")

EXACT, STEMMED, FUZZY = 1.0, 0.9, 0.75
FUZZY_CUTOFF = 0.8
CONFIDENT_MARGIN = 0.75
TOKEN_CACHE_LIMIT = 20_000


def normalise(text: str) -> str:
    """Lower case, ё → е, common hyphenated abbreviations expanded ("р-н" → "район")."""
    lowered = text.lower().replace("ё", "е")
    for pattern, replacement in ABBREVIATIONS:
        lowered = pattern.sub(replacement, lowered)
    return lowered


def inflect(token: str, allow_short: bool) -> tuple[str, frozenset[str]]:
    """The unchanging base of one word of a name and the endings that make its case forms."""
    if token.isdigit() or len(token) == 1 or (len(token) <= 3 and not allow_short):
        return token, frozenset({""})
    if not ("а" <= token[-1] <= "я"):
        return token, frozenset({""})
    if len(token) > 4 and token.endswith(ADJECTIVE_NOMINATIVE):
        base, endings = token[:-2], ADJECTIVE_ENDINGS
    elif token[-1] in "ыи":
        base, endings = token[:-1], PLURAL_ENDINGS
    elif token[-1] == "а":
        base, endings = token[:-1], A_ENDINGS
    elif token[-1] == "я":
        base, endings = token[:-1], YA_ENDINGS
    elif token[-1] == "о":
        base, endings = token[:-1], O_ENDINGS
    elif token[-1] == "е":
        base, endings = token[:-1], E_ENDINGS
    elif token[-1] == "ь":
        base, endings = token[:-1], SOFT_SIGN_ENDINGS
    elif token[-1] in CYRILLIC_CONSONANTS:
        base, endings = token, CONSONANT_ENDINGS
    else:
        return token, frozenset({""})
    return base, endings


def split_words(text: str) -> list[str]:
    return [token for token in TOKEN_RE.findall(normalise(text)) if token[0].isalnum()]


@dataclass(frozen=True)
class Phrase:
    keys: tuple[str, ...]
    municipality: int
    from_alias: bool
    weak: bool


@dataclass
class Token:
    text: str
    is_number: bool
    joined_after: bool = False  # "." or "-" right after it: an abbreviation ("г.", "Н.Тагил")
    break_before: bool = False  # start of text or a hard separator (comma, sentence end) before it
    role: str = "free"  # free | street | locality | street_marker | ignored


@dataclass
class PhraseMatch:
    municipality: int
    start: int
    end: int  # exclusive
    score: float
    marked: bool
    followed_by: str | None = field(default=None)


def tokenise(text: str) -> list[Token]:
    tokens: list[Token] = []
    pending_break = True
    for raw in TOKEN_RE.findall(normalise(text)):
        if raw[0].isalnum():
            tokens.append(Token(raw, raw.isdigit(), break_before=pending_break))
            pending_break = False
        elif raw in ".-":
            previous = tokens[-1] if tokens else None
            # A dot after an abbreviation joins; after a full word it ends a sentence.
            if previous is not None and (
                raw == "-" or len(previous.text) <= 2 or previous.text in ABBREVIATED
            ):
                previous.joined_after = True
            else:
                pending_break = True
        else:
            pending_break = True
    return tokens
