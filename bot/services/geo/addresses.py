"""Typed Russian addresses → comparable keys: the street (with its type), the house and the settlement.

Most citizens type an address rather than drop a pin, and they type it in many ways: "ул. Ленина 24",
"улица Ленина, д. 24", "на улице Ленина у дома 24", "Лесная ул., 5". Two reports about one place must
meet on the same keys, so the street type is canonical ("пр-т" → проспект), the street name is in the
form it has after "улица" in the nominative ("на Лесной улице" → лесная, "ул. Малышева" stays), and
the house keeps its number, letter and building but never the flat.

Lemmas come from the classifier's pymorphy3 lemmatiser (bot.classify.words), so there is one
analyser in the process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.classify.words import lemma, lemma_tags

# Canonical street types and the gender a name agrees with ("Лесная улица", "Лесной проспект").
STREET_TYPES: dict[str, tuple[str, str]] = {
    "улица": ("улица", "femn"),
    "проспект": ("проспект", "masc"),
    "переулок": ("переулок", "masc"),
    "бульвар": ("бульвар", "masc"),
    "шоссе": ("шоссе", "neut"),
    "площадь": ("площадь", "femn"),
    "набережная": ("набережная", "femn"),
    "тракт": ("тракт", "masc"),
    "микрорайон": ("микрорайон", "masc"),
    "проезд": ("проезд", "masc"),
    "тупик": ("тупик", "masc"),
    "аллея": ("аллея", "femn"),
    "квартал": ("квартал", "masc"),
    "спуск": ("спуск", "masc"),
}
# Abbreviations and case forms → canonical type. Lemmas of full words are looked up in STREET_TYPES.
STREET_ABBREVIATIONS = {
    "ул": "улица", "у": "улица", "пр": "проспект", "прт": "проспект", "пркт": "проспект",
    "просп": "проспект", "пер": "переулок", "пр-т": "проспект", "пр-кт": "проспект", "б-р": "бульвар",
    "бул": "бульвар", "ш": "шоссе", "пл": "площадь", "наб": "набережная", "мкр": "микрорайон",
    "мкрн": "микрорайон", "мкр-н": "микрорайон", "мк-н": "микрорайон", "туп": "тупик", "кв-л": "квартал",
    "пр-д": "проезд",
}  # fmt: skip
# One-letter abbreviations are only types when written with a dot ("у." but not the preposition "у").
NEEDS_DOT = frozenset({"у", "ш", "пр", "пл"})
SETTLEMENT_MARKERS = {
    "г": "город", "гор": "город", "город": "город", "пос": "поселок", "п": "поселок",
    "поселок": "поселок", "пгт": "поселок", "рп": "поселок", "с": "село", "село": "село",
    "дер": "деревня", "деревня": "деревня", "д": "деревня",
}  # fmt: skip
HOUSE_WORDS = frozenset({"д", "дом", "домом", "дома", "доме", "дому", "домов", "здание", "здания"})
BUILDING_WORDS = frozenset({"к", "корп", "корпус", "стр", "строение"})
FLAT_WORDS = frozenset({"кв", "квартира", "квартиры", "квартире", "оф", "офис", "под", "подъезд"})
# A number followed by these is an amount, not a house ("ул. Ленина 2 года не чинят").
UNIT_WORDS = frozenset(
    {
        "год", "года", "лет", "день", "дня", "дней", "м", "метр", "метра", "метров", "км", "час", "часа",
        "часов", "раз", "раза", "мин", "минут", "недели", "недель", "месяц", "месяца", "месяцев", "см",
        "человек", "руб", "рублей", "градусов", "шт", "этаж", "этаже", "этажа", "числа", "мая", "марта",
    }
)  # fmt: skip
MONTHS = frozenset(
    {
        "января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
        "ноября", "декабря", "лет", "года",
    }
)  # fmt: skip
# Words that end a street name in free text ("ул. Ленина возле магазина").
NAME_STOPS = frozenset(
    {
        "в", "во", "на", "по", "у", "около", "возле", "рядом", "от", "до", "к", "с", "со", "и", "за",
        "напротив", "между", "из", "под", "над", "перед", "при", "через", "для", "о", "не", "нет", "уже",
        "а", "но", "что", "это", "где", "там", "тут", "очень", "опять", "снова", "который", "которая",
    }
)  # fmt: skip
MAX_NAME_WORDS = 3
MAX_TEXT = 4000
UNKNOWN_TYPE = "*"  # street_key "*:ленина": a street typed without its type ("Ленина 24")
CROSSROADS = "перекресток"  # street_key "перекресток:королева|ладыженского": a spot with no house

_TOKEN_RE = re.compile(r"\d+(?:-?[а-я]{1,3}\b)?|[а-я]+(?:-[а-я]+)*|[.,;:!?()\"«»/\n]")
_HOUSE_RE = re.compile(r"([1-9]\d{0,3})(?:-?([а-я]))?$")
_SOFT_ADJECTIVE = re.compile(r"н(ий)$")


@dataclass(frozen=True)
class Address:
    """The comparable parts of a typed address; None where the text does not say."""

    street_key: str | None  # "улица:ленина"; "*:ленина" when the type was not typed
    house: str | None  # "24", "24а", "15/2", "15к2"
    settlement_key: str | None  # "исеть" for "п. Исеть"


NO_ADDRESS = Address(None, None, None)


@dataclass
class _Token:
    text: str
    capital: bool
    dot: bool = False  # a "." right after: an abbreviation ("ул.")
    stop_before: bool = True  # start of text or punctuation before it


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    stop = True
    source = text[:MAX_TEXT].replace("ё", "е").replace("Ё", "Е")
    for match in _TOKEN_RE.finditer(source.lower()):
        raw = match.group()
        if raw[0].isalnum():
            tokens.append(_Token(raw, source[match.start()].isupper(), stop_before=stop))
            stop = False
        elif raw == "." and tokens and not tokens[-1].dot and not stop:
            tokens[-1].dot = True
        elif raw == "/" and tokens and tokens[-1].text.isdigit():
            tokens[-1].text += "/"  # "15/2": joined with the next number in `_house_at`
        else:
            stop = True
    return tokens


def _street_type(token: _Token) -> str | None:
    word = token.text
    if word in NEEDS_DOT and not token.dot:
        return None
    if word in STREET_ABBREVIATIONS:
        return STREET_ABBREVIATIONS[word]
    if len(word) > 3 and lemma(word) in STREET_TYPES:
        return lemma(word)
    return None


def _agreeing(word: str, gender: str) -> str:
    """A street-name adjective in the nominative of the type's gender ("лесной" + улица → "лесная")."""
    base = lemma(word)
    if gender == "masc" or not base.endswith(("ый", "ой", "ий")):
        return base
    stem = base[:-2]
    soft = bool(_SOFT_ADJECTIVE.search(base))
    hushing = stem.endswith(("ж", "ш", "щ", "ч"))
    if gender == "femn":
        return stem + ("яя" if soft else "ая")
    return stem + ("ее" if soft or (hushing and base.endswith("ий")) else "ое")


@lru_cache(maxsize=16384)
def _is_adjective(word: str) -> bool:
    return "ADJF" in lemma_tags(word) or "PRTF" in lemma_tags(word)


def _normal_name(words: list[str], gender: str) -> str:
    # A name ending in a noun is a genitive phrase ("Ленина", "Красных Командиров", "8 Марта"): it keeps
    # its form whatever the case of "улица". A name of adjectives agrees with the type and is declined.
    # An adjective that cannot agree with the type is itself a genitive name ("ул. Белинского").
    if all(_is_adjective(w) and _can_agree(w, gender) for w in words):
        return " ".join(_agreeing(w, gender) for w in words)
    return " ".join(words)


def _can_agree(word: str, gender: str) -> bool:
    # Masculine and neuter adjectives share their oblique forms ("на Сибирском тракте").
    genders = {"femn"} if gender == "femn" else {"masc", "neut"}
    tags = lemma_tags(word)
    return bool(genders & tags) or "plur" in tags


def _is_name_word(token: _Token) -> bool:
    word = token.text
    return (
        not word[0].isdigit()
        and len(word) > 1
        and word not in NAME_STOPS
        and word not in HOUSE_WORDS
        and word not in FLAT_WORDS
        and word not in UNIT_WORDS - MONTHS
        and _street_type(token) is None
        and word not in SETTLEMENT_MARKERS
    )


def _name_after(tokens: list[_Token], start: int) -> tuple[list[str], int]:
    """Street name words from `start`, and the index after them."""
    words: list[str] = []
    index = start
    if (
        index + 1 < len(tokens)
        and tokens[index].text.isdigit()
        and tokens[index + 1].text in MONTHS
        and not tokens[index + 1].stop_before
    ):
        words = [tokens[index].text, tokens[index + 1].text]  # "8 Марта", "40 лет Победы"
        index += 2
    elif index < len(tokens) and re.fullmatch(r"\d+-?[а-я]{1,2}", tokens[index].text):
        words = [re.sub(r"-", "", tokens[index].text)]  # "1-я Пятилетка"
        index += 1
    while index < len(tokens) and len(words) < MAX_NAME_WORDS:
        token = tokens[index]
        if (words and token.stop_before) or not _is_name_word(token):
            break
        if words and not _continues(tokens, start, index):
            break
        words.append(token.text)
        index += 1
    return words, index


def _continues(tokens: list[_Token], start: int, index: int) -> bool:
    # In free text a name rarely has more than one word, and the next word is usually the report
    # ("ул. Ленина яма"). Take it when capitalised like the first, or, in lower-case typing, when the
    # address plainly goes on after it (a number, punctuation or the end).
    if tokens[start].capital and tokens[index].capital:
        return True
    following = tokens[index + 1] if index + 1 < len(tokens) else None
    return (
        following is None
        or following.stop_before
        or following.text[0].isdigit()
        or following.text in HOUSE_WORDS
    )


def _house_at(tokens: list[_Token], index: int) -> str | None:
    """The house number at `index` (after an optional "д."/"дом"), without the flat."""
    if index < len(tokens) and tokens[index].text in HOUSE_WORDS:
        index += 1
    if index >= len(tokens):
        return None
    match = _HOUSE_RE.match(tokens[index].text.rstrip("/"))
    if match is None:
        return None
    following = tokens[index + 1] if index + 1 < len(tokens) else None
    if following is not None and following.text in UNIT_WORDS and not tokens[index].text.endswith("/"):
        return None
    house = match.group(1) + (match.group(2) or "")
    if following is not None and tokens[index].text.endswith("/") and following.text.isdigit():
        return f"{house}/{following.text}"
    plain = match.group(2) is None and not tokens[index].text.endswith("/")
    if (
        plain
        and following is not None
        and len(following.text) == 1
        and following.text.isalpha()
        and following.text not in SETTLEMENT_MARKERS
        and following.text not in BUILDING_WORDS
    ):
        return house + following.text  # "24 а"
    if following is not None and following.text in BUILDING_WORDS and index + 2 < len(tokens):
        building = tokens[index + 2].text
        if building.isdigit():
            return f"{house}к{building}"
    return house


def _settlement(tokens: list[_Token]) -> str | None:
    for index, token in enumerate(tokens[:-1]):
        kind = SETTLEMENT_MARKERS.get(token.text)
        if kind is None or (len(token.text) <= 2 and not token.dot and token.text not in {"рп"}):
            continue
        following = tokens[index + 1]
        if following.text[0].isdigit() or not _is_name_word(following):
            continue  # "д. 5" is a house, not a village
        # Settlement names follow their marker in the nominative ("д. Кашино"): kept as typed.
        return following.text
    return None


def _bare_street(tokens: list[_Token], address_like: bool) -> tuple[str, int] | None:
    """A street typed without its type: "Ленина 24", "на Малышева, 5"."""
    for index in range(len(tokens) - 1):
        token = tokens[index]
        if not _is_name_word(token) or (not address_like and (not token.capital or token.stop_before)):
            continue
        house_index = index + 1
        if tokens[house_index].text in HOUSE_WORDS:
            house_index += 1
        if house_index >= len(tokens) or _house_at(tokens, house_index) is None:
            continue
        tags = lemma_tags(token.text)
        # "Емлина д. 66", or a short address field: a word and a house is a street whatever the
        # lemmatiser makes of the word; in free text it must look like a street name.
        marked = house_index > index + 1
        if address_like or marked or "gent" in tags or _is_adjective(token.text):
            return _normal_name([token.text], "femn"), house_index
    return None


def _crossroads(tokens: list[_Token]) -> str | None:
    """ "перекрёсток Королёва и Ладыженского" → "перекресток:королева|ладыженского" (order-free)."""
    for index, token in enumerate(tokens):
        if not token.text.startswith("перекрест") or lemma(token.text) != "перекресток":
            continue
        names: list[str] = []
        for following in tokens[index + 1 : index + 7]:
            if following.text == "и" or _street_type(following) is not None:
                continue
            if not _is_name_word(following):
                break
            names.append(following.text)  # names after "перекрёсток" are genitives: kept as typed
            if len(names) == 2:
                return f"{CROSSROADS}:{'|'.join(sorted(names))}"
    return None


def parse_address(text: str) -> Address:
    """The street, house and settlement a text names; the first street mention wins.

    Works on an address field ("ул. Ленина, д. 24, кв. 12") and on free text ("яма возле дома 5 по
    ул. Лесной"); parts the text does not give are None.
    """
    tokens = _tokens(text)
    if not tokens:
        return NO_ADDRESS
    settlement = _settlement(tokens)
    street: str | None = None
    after: int | None = None
    for index, token in enumerate(tokens):
        kind = _street_type(token)
        if kind is None:
            continue
        gender = STREET_TYPES[kind][1]
        words, end = _name_after(tokens, index + 1)
        if words:
            street, after = f"{kind}:{_normal_name(words, gender)}", end
            break
        before = [t for t in tokens[max(0, index - 2) : index] if _is_name_word(t)]
        adjectives = [t.text for t in before if _is_adjective(t.text)][-1:]
        if adjectives:
            street, after = f"{kind}:{_normal_name(adjectives, gender)}", index + 1
            break
    if street is None:
        street = _crossroads(tokens)
    if street is None:
        address_like = sum(not t.text[0].isdigit() for t in tokens) <= 6
        bare = _bare_street(tokens, address_like)
        if bare is not None:
            street, after = f"{UNKNOWN_TYPE}:{bare[0]}", bare[1]
    house = _house_at(tokens, after) if after is not None else None
    if house is None:
        house = _marked_house(tokens)
    return Address(street, house, settlement)


def _marked_house(tokens: list[_Token]) -> str | None:
    # "возле дома 5 по ул. Лесной": a house named apart from the street, by "дом"/"д." before it.
    for index, token in enumerate(tokens[:-1]):
        if token.text in HOUSE_WORDS and (
            token.text != "д" or token.dot or tokens[index + 1].text[0].isdigit()
        ):
            house = _house_at(tokens, index + 1)
            if house is not None:
                return house
    return None


def street_name(street_key: str) -> str:
    """The name part of a street key ("улица:ленина" → "ленина")."""
    return street_key.partition(":")[2]


def same_street(a: str | None, b: str | None) -> bool:
    """Both keys name one street; a street typed without its type matches any type of that name."""
    if a is None or b is None:
        return False
    if a == b:
        return True
    type_a, _, name_a = a.partition(":")
    type_b, _, name_b = b.partition(":")
    return name_a == name_b and UNKNOWN_TYPE in (type_a, type_b)


def house_number(house: str | None) -> int | None:
    """The leading number of a house ("24а" → 24, "15/2" → 15)."""
    if house is None:
        return None
    match = re.match(r"\d+", house)
    return int(match.group()) if match else None


def is_crossroads(street_key: str | None) -> bool:
    """Whether a street key names a crossroads (a spot by itself, with no house number)."""
    return street_key is not None and street_key.startswith(CROSSROADS + ":")
