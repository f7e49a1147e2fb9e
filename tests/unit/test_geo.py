"""Municipality lookup: the shipped data, pins and typed addresses (with the false positives to avoid)."""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pytest

from bot.services.geo import (
    KINDS,
    GeoMatch,
    Municipality,
    MunicipalityDirectory,
    is_outside_region,
    load_municipalities,
)


@pytest.fixture(scope="module")
def directory() -> MunicipalityDirectory:
    return MunicipalityDirectory.load()


def ids(match: GeoMatch) -> list[str]:
    return [m.id for m in match.candidates]


# --- the data ---------------------------------------------------------------------------------------


def test_data_ids_unique_and_complete(directory: MunicipalityDirectory) -> None:
    items = directory.all()
    counts = Counter(m.id for m in items)
    assert [i for i, n in counts.items() if n > 1] == []
    # The oblast has 73 top-level municipalities (плюс поселения inside the districts, kept as aliases).
    assert len(items) >= 70
    for m in items:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", m.id), m.id
        assert m.kind in KINDS
        assert m.name and m.centre
        assert m.oktmo is None or re.fullmatch(r"65\d{6}", m.oktmo), (m.id, m.oktmo)
        assert m.population is None or m.population > 0
    oktmos = [m.oktmo for m in items if m.oktmo]
    assert len(oktmos) == len(set(oktmos))
    assert {m.kind for m in items} >= {"gorodskoy_okrug", "zato"}


def test_every_centre_inside_the_oblast(directory: MunicipalityDirectory) -> None:
    for m in directory.all():
        assert 56.0 <= m.lat <= 62.0 and 57.2 <= m.lon <= 66.3, m.id
        assert not is_outside_region(m.lat, m.lon), m.id


def test_ekaterinburg_is_the_oblast_centre(directory: MunicipalityDirectory) -> None:
    ekb = directory.get("ekaterinburg")
    assert ekb is not None
    assert ekb.name == "Екатеринбург"
    assert ekb.oktmo == "65701000"
    assert abs(ekb.lat - 56.838) < 0.02 and abs(ekb.lon - 60.605) < 0.02
    assert ekb.population is not None and ekb.population > 1_000_000
    assert "Свердловск" in ekb.aliases
    assert max(directory.all(), key=lambda m: m.population or 0).id == "ekaterinburg"


def test_well_known_municipalities_present(directory: MunicipalityDirectory) -> None:
    for municipality_id in (
        "nizhny-tagil", "kamensk-uralsky", "pervouralsk", "verkhnyaya-pyshma", "reftinsky",
        "lesnoy", "novouralsk", "svobodny", "uralsky", "kamyshlovsky-rayon", "nizhneserginsky",
    ):  # fmt: skip
        assert directory.get(municipality_id) is not None, municipality_id
    assert directory.get("moscow") is None


def test_every_municipality_found_by_its_own_name(directory: MunicipalityDirectory) -> None:
    for m in directory.all():
        match = directory.by_text(m.name)
        assert match.best == m, (m.name, match.best and match.best.id, ids(match))


def test_every_centre_pin_resolves_to_its_municipality(directory: MunicipalityDirectory) -> None:
    for m in directory.all():
        match = directory.by_point(m.lat, m.lon)
        assert not match.outside_region
        # A rural district run from a town shares the town's point: the town wins the pin, the
        # district stays among the candidates.
        assert match.best == m or m in match.candidates, m.id


def test_loader_rejects_bad_rows(tmp_path: Path) -> None:
    header = "id,oktmo,name,kind,centre,lat,lon,population,aliases\n"
    good = "revda,65719000,Ревда,gorodskoy_okrug,Ревда,56.7986,59.9071,61713,\n"
    path = tmp_path / "m.csv"
    path.write_text(header + good, encoding="utf-8")
    [revda] = load_municipalities(path)
    assert revda == Municipality(
        "revda", "65719000", "Ревда", "gorodskoy_okrug", "Ревда", 56.7986, 59.9071, 61713, ()
    )

    path.write_text(header + good + good, encoding="utf-8")
    with pytest.raises(ValueError, match="unique"):
        MunicipalityDirectory.load(path)
    path.write_text(header + good.replace("65719000", "6571900"), encoding="utf-8")
    with pytest.raises(ValueError, match="OKTMO"):
        load_municipalities(path)
    path.write_text(header + good.replace("gorodskoy_okrug", "city"), encoding="utf-8")
    with pytest.raises(ValueError, match="kind"):
        load_municipalities(path)


# --- pins -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lon", "expected"),
    [
        (56.8386, 60.6055, "ekaterinburg"),  # Площадь 1905 года
        (56.8900, 60.6000, "ekaterinburg"),  # Уралмаш, 6 km north
        (56.7900, 60.5100, "ekaterinburg"),  # Академический, 8 km south-west
        (56.7431, 60.8027, "ekaterinburg"),  # Кольцово airport: a big city reaches further
        (57.9101, 59.9813, "nizhny-tagil"),
        (56.4150, 61.9189, "kamensk-uralsky"),
        (56.9080, 59.9429, "pervouralsk"),
        (58.0400, 65.2700, "tavdinsky"),
        (61.0100, 61.9900, "pelym"),
    ],
)
def test_pin_near_a_centre(directory: MunicipalityDirectory, lat: float, lon: float, expected: str) -> None:
    match = directory.by_point(lat, lon)
    assert not match.outside_region
    assert match.best is not None and match.best.id == expected
    assert match.candidates[0] == match.best


def test_pin_between_two_towns_asks(directory: MunicipalityDirectory) -> None:
    # Halfway between Серов and Краснотурьинск, 13 km from each.
    match = directory.by_point(59.684, 60.384)
    assert match.best is None
    assert not match.outside_region
    assert set(ids(match)[:2]) == {"serov", "krasnoturyinsk"}
    assert 2 <= len(match.candidates) <= 5


def test_pin_in_town_beats_its_surrounding_district(directory: MunicipalityDirectory) -> None:
    match = directory.by_point(56.8465, 62.7120)  # centre of Камышлов
    assert match.best is not None and match.best.id == "kamyshlov"
    assert "kamyshlovsky-rayon" in ids(match)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (55.7558, 37.6173),  # Moscow
        (57.1530, 65.5343),  # Tyumen: inside the bounding box, outside the oblast
        (58.0105, 56.2502),  # Perm
        (55.1600, 61.4000),  # Chelyabinsk
        (56.2600, 62.9400),  # Далматово, Kurgan oblast
        (57.1430, 57.3930),  # Суксун, Perm krai, inside the bounding box
        (58.2900, 57.8100),  # Чусовой
        (0.0, 0.0),
    ],
)
def test_pin_outside_the_oblast(directory: MunicipalityDirectory, lat: float, lon: float) -> None:
    match = directory.by_point(lat, lon)
    assert match == GeoMatch(None, (), outside_region=True)


def test_pin_near_the_border_is_not_refused(directory: MunicipalityDirectory) -> None:
    # Тугулым and Качканар sit a few km from the border: never "outside".
    for lat, lon in ((57.06, 64.65), (58.70, 59.48), (56.42, 58.53)):
        assert not directory.by_point(lat, lon).outside_region


def test_invalid_coordinates(directory: MunicipalityDirectory) -> None:
    with pytest.raises(ValueError):
        directory.by_point(float("nan"), 60.0)
    with pytest.raises(ValueError):
        directory.by_point(95.0, 60.0)


# --- typed addresses --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("г. Екатеринбург, ул. Ленина, 5", "ekaterinburg"),
        ("620000, г.Екатеринбург, ул. 8 Марта, д. 5", "ekaterinburg"),
        ("Нижний Тагил пр Ленина 10", "nizhny-tagil"),
        ("в Нижнем Тагиле у дома 5", "nizhny-tagil"),
        ("Н.Тагил, ул. Ленина", "nizhny-tagil"),
        ("в Тагиле", "nizhny-tagil"),
        ("каменск уральский", "kamensk-uralsky"),
        ("в Каменске-Уральском на ул. Кирова", "kamensk-uralsky"),
        ("Верхняя Пышма, ул. Победы", "verkhnyaya-pyshma"),
        ("в Верхней Пышме на улице Победы", "verkhnyaya-pyshma"),
        ("Первоуральск", "pervouralsk"),
        ("екб", "ekaterinburg"),
        ("ЕКБ, Уралмаш", "ekaterinburg"),
        ("Ёбург", "ekaterinburg"),
        ("Свердловск", "ekaterinburg"),
        ("Екатеринбур", "ekaterinburg"),
        ("Екатринбург ул Мира", "ekaterinburg"),
        ("Нижний Тигил", "nizhny-tagil"),
        ("пос. Рефтинский", "reftinsky"),
        ("Свердловская обл, Сысертский р-н, г Арамиль", "aramil"),
        ("Свердловская область, г. Нижний Тагил", "nizhny-tagil"),
        ("в Сухом Логу", "sukhoy-log"),
        ("Ревда", "revda"),
        ("в Асбесте на ул Ленина", "asbest"),
        ("г. Лесной", "lesnoy"),
        ("Заречный, ул. Ленина 5", "zarechny"),
        ("пгт Малышева", "malyshevsky"),
        ("Камышловский район", "kamyshlovsky-rayon"),
        ("Камышлов", "kamyshlov"),
        ("Каменский район, с. Колчедан", "kamensky"),
        ("Верхний Тагил", "verkhny-tagil"),
        ("в Нижних Сергах", "nizhneserginsky"),
        ("Михайловск", "nizhneserginsky"),
        ("Кольцово", "ekaterinburg"),
        ("Березовский ул Ленина 5", "berezovsky"),
        ("ул. Свердлова, Екатеринбург", "ekaterinburg"),
        ("Екатеринбург, ул. Серова 5", "ekaterinburg"),
        ("Тавда, ул. Ленина", "tavdinsky"),
        ("ул Ленина Нижний Тагил", "nizhny-tagil"),
        ("Екатеринбург, Серовский тракт, 5", "ekaterinburg"),
    ],
)
def test_text_resolves(directory: MunicipalityDirectory, text: str, expected: str) -> None:
    match = directory.by_text(text)
    assert match.best is not None, (text, ids(match))
    assert match.best.id == expected
    assert match.candidates[0] == match.best


@pytest.mark.parametrize(
    "text",
    [
        "ул. Ленина",
        "ул. Свердлова, 12",
        "ул. Первомайская",
        "ул. Малышева 5",
        "ул. Карпинского",
        "ул. Серова, 5",
        "ул. Тавдинская, 3",
        "Белоярская улица, 7",
        "по Сибирскому тракту",
        "проспект Ленина, дом 3",
        "дом",
        "улица",
        "Полевская улица 3",
        "Лесной массив за домом",
        "запах гари во дворе",
        "свободный проход перекрыт",
        "автобус ходит всё реже",
        "трубы из асбеста",
        "лежачие полицейские на дороге слишком высокие",
        "мошенники украли данные банковской карты",
        "Свердловская область",
        "",
        "   ",
        "12345",
    ],
)
def test_text_false_positives(directory: MunicipalityDirectory, text: str) -> None:
    assert directory.by_text(text) == GeoMatch(None, ())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Верхний", {"verkhny-tagil", "verkhnyaya-pyshma", "verkhnyaya-salda", "verkhnyaya-tura"}),
        ("Салда", {"verkhnyaya-salda", "nizhnyaya-salda"}),
        ("Пышма", {"verkhnyaya-pyshma", "pyshminsky"}),
        ("Камышловский", {"kamyshlov", "kamyshlovsky-rayon"}),
        ("Екатеринбург или Нижний Тагил", {"ekaterinburg", "nizhny-tagil"}),
    ],
)
def test_ambiguous_text_offers_candidates(
    directory: MunicipalityDirectory, text: str, expected: set[str]
) -> None:
    match = directory.by_text(text)
    assert match.best is None
    assert expected <= set(ids(match))
    assert len(match.candidates) <= 5


def test_ambiguous_modifier_ranks_agreeing_gender_first(directory: MunicipalityDirectory) -> None:
    assert ids(directory.by_text("Верхний"))[0] == "verkhny-tagil"
    assert ids(directory.by_text("Нижний"))[0] == "nizhny-tagil"


def test_marked_settlement_beats_district_context(directory: MunicipalityDirectory) -> None:
    match = directory.by_text("Сысертский р-н, г Арамиль, ул. Рабочая")
    assert match.best is not None and match.best.id == "aramil"


def test_by_text_is_fast() -> None:
    fresh = MunicipalityDirectory.load()  # cold word cache: the worst case
    texts = [
        "г. Екатеринбург, ул. Ленина, 5",
        "в Нижнем Тагиле у дома 5",
        "Нижний Тигил",
        "Екатринбург ул Мира",
        "каменск уральский",
        "Верхний",
        "На улице Строителей во дворе дома 15 уже неделю не вывозят мусор, контейнеры переполнены",
    ]
    started = time.perf_counter()
    for text in texts:
        fresh.by_text(text)
    cold = (time.perf_counter() - started) / len(texts)
    started = time.perf_counter()
    for _ in range(50):
        for text in texts:
            fresh.by_text(text)
    warm = (time.perf_counter() - started) / (50 * len(texts))
    assert cold < 0.005
    assert warm < 0.002


def test_by_point_is_fast(directory: MunicipalityDirectory) -> None:
    started = time.perf_counter()
    for step in range(500):
        directory.by_point(56.0 + step * 0.012, 57.5 + step * 0.017)
    assert (time.perf_counter() - started) / 500 < 0.002
