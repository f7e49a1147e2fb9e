"""Typed addresses → street, house and settlement keys (bot.services.geo.addresses)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.geo.addresses import Address, house_number, parse_address, same_street


@pytest.mark.parametrize(
    ("text", "street", "house"),
    [
        ("ул. Ленина 24", "улица:ленина", "24"),
        ("улица Ленина, д. 24", "улица:ленина", "24"),
        ("у. Ленина, 24", "улица:ленина", "24"),
        ("пр. Ленина 24", "проспект:ленина", "24"),
        ("пр-т Ленина, дом 24", "проспект:ленина", "24"),
        ("проспект Ленина 24", "проспект:ленина", "24"),
        ("на улице Малышева", "улица:малышева", None),
        ("ул. 8 Марта, 24", "улица:8 марта", "24"),
        ("ул Ленина д.3 кв 12", "улица:ленина", "3"),
        ("возле дома 5 по ул. Лесной", "улица:лесная", "5"),
        ("Лесная ул., 5", "улица:лесная", "5"),
        ("на Лесной улице у дома 7", "улица:лесная", "7"),
        ("на Комсомольском проспекте 15/2", "проспект:комсомольский", "15/2"),
        ("Московское шоссе 3", "шоссе:московское", "3"),
        ("ш. Московское, 3", "шоссе:московское", "3"),
        ("пер. Широкий 4", "переулок:широкий", "4"),
        ("переулок Широкий, д. 4", "переулок:широкий", "4"),
        ("б-р Культуры, 12", "бульвар:культуры", "12"),
        ("пл. 1905 года", "площадь:1905 года", None),
        ("наб. Рабочей Молодежи 5", "набережная:рабочей молодежи", "5"),
        ("на Сибирском тракте", "тракт:сибирский", None),
        ("мкр Юбилейный 3", "микрорайон:юбилейный", "3"),
        ("в микрорайоне Юбилейном, дом 3", "микрорайон:юбилейный", "3"),
        ("ул красных командиров 5", "улица:красных командиров", "5"),
        ("ул. Красных Командиров 5 яма", "улица:красных командиров", "5"),
        ("улица Ленина дом 24 А", "улица:ленина", "24а"),
        ("ул. Ленина, 24а", "улица:ленина", "24а"),
        ("пр-т Космонавтов 24 корп 2", "проспект:космонавтов", "24к2"),
        ("ул. Ленина 2 года не чинят", "улица:ленина", None),
        ("ул. Ладыженского 5", "улица:ладыженского", "5"),
        ("на улице Белинского, 3", "улица:белинского", "3"),
        ("ул. Садовой 4", "улица:садовая", "4"),
        ("светофор, перекрёсток Королёва и Ладыженского", "перекресток:королева|ладыженского", None),
        ("перекресток Ладыженского - Королева", "перекресток:королева|ладыженского", None),
        ("Ленина 24", "*:ленина", "24"),
        ("г. Первоуральск, Емлина д.66", "*:емлина", "66"),
        ("На Ленина 24 огромная яма", "*:ленина", "24"),
        ("яма на дороге уже 3 года", None, None),
        ("", None, None),
    ],
)
def test_examples(text: str, street: str | None, house: str | None) -> None:
    address = parse_address(text)
    assert (address.street_key, address.house) == (street, house)


@pytest.mark.parametrize(
    ("text", "settlement"),
    [
        ("п. Исеть, ул. Советская 2", "исеть"),
        ("пос. Исеть, ул. Советская 2", "исеть"),
        ("д. Кашино, ул. Новая 5", "кашино"),
        ("с. Покровское, ул. Новая 5", "покровское"),
        ("ул. Новая д. 5", None),
    ],
)
def test_settlements_and_house_versus_village(text: str, settlement: str | None) -> None:
    assert parse_address(text).settlement_key == settlement


def test_street_type_matters_but_an_untyped_street_matches_any_type() -> None:
    assert not same_street("улица:ленина", "проспект:ленина")
    assert same_street("*:ленина", "проспект:ленина")
    assert not same_street("*:ленина", "улица:мира")
    assert not same_street(None, None)
    assert house_number("15/2") == 15 and house_number("24а") == 24 and house_number(None) is None


STREET_FORMS = {
    "улица": ("ул.", "ул", "улица", "у."),
    "проспект": ("пр.", "пр-т", "проспект", "просп."),
    "переулок": ("пер.", "переулок"),
    "бульвар": ("б-р", "бульвар"),
    "шоссе": ("ш.", "шоссе"),
    "площадь": ("пл.", "площадь"),
}
# Names in the genitive keep their form after any type, so every type can take them.
NAMES = ("Ленина", "Малышева", "Гагарина", "8 Марта", "Красных Командиров", "Розы Люксембург")
HOUSE_PREFIXES = (" ", ", ", ", д. ", " д.", " дом ", ", дом ")
houses = st.tuples(st.integers(1, 299), st.sampled_from(("", "а", "б", "/2", "/15")))


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(sorted(STREET_FORMS)),
    data=st.data(),
    name=st.sampled_from(NAMES),
    house=houses,
    prefix=st.sampled_from(HOUSE_PREFIXES),
    flat=st.one_of(st.none(), st.integers(1, 500)),
    lower=st.booleans(),
)
def test_spellings_of_one_address_meet(
    kind: str,
    data: st.DataObject,
    name: str,
    house: tuple[int, str],
    prefix: str,
    flat: int | None,
    lower: bool,
) -> None:
    form = data.draw(st.sampled_from(STREET_FORMS[kind]))
    number = f"{house[0]}{house[1]}"
    text = f"{form} {name}{prefix}{number}" + (f", кв. {flat}" if flat is not None else "")
    address = parse_address(text.lower() if lower else text)
    assert address == Address(f"{kind}:{name.lower()}", number, None)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("улица пр.д,дом кв 0123456789/-абвгЛенинаМира\n"), max_size=80))
def test_any_text_gives_well_formed_keys(text: str) -> None:
    address = parse_address(text)
    if address.street_key is not None:
        assert re.fullmatch(r"(\*|[а-я]+):[0-9а-я -]+", address.street_key)
    if address.house is not None:
        assert re.fullmatch(r"[1-9]\d{0,3}[а-я]?(/\d+|к\d+)?", address.house)


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(NAMES), number=st.integers(1, 300), flat=st.integers(1, 999))
def test_the_flat_never_matters(name: str, number: int, flat: int) -> None:
    plain = parse_address(f"ул. {name}, д. {number}")
    assert parse_address(f"ул. {name}, д. {number}, кв. {flat}") == plain
    assert parse_address(f"ул. {name} д.{number} кв {flat}") == plain
