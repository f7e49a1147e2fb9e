"""Duplicate suggestions: the per-sector place rule, place comparison and the whole decision."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from bot.services.geo.addresses import parse_address
from bot.services.incidents.places import (
    SECTORS_PATH,
    Place,
    PlaceRule,
    PlaceRuleError,
    place_rules,
    same_place,
)
from bot.services.incidents.similarity import (
    CONCEPTS_PATH,
    concept_conflict,
    concepts,
    is_duplicate,
    profile,
    similarity,
)

RULES = place_rules()


def at(
    address: str, municipality: str = "ekaterinburg", lat: float | None = None, lon: float | None = None
) -> Place:
    return Place(municipality, parse_address(address), lat, lon)


def test_every_sector_has_a_valid_rule() -> None:
    sectors = [str(s["id"]) for s in yaml.safe_load(SECTORS_PATH.read_text(encoding="utf-8"))["sectors"]]
    assert sorted(RULES) == sorted(sectors)
    assert RULES["roads"] == PlaceRule("point", 100.0)
    assert RULES["housing"].kind == "street"


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("point 100", PlaceRule("point", 100.0)),
        ("point 300", PlaceRule("point", 300.0)),
        ("street", PlaceRule("street")),
        ("settlement", PlaceRule("settlement")),
        ("municipality", PlaceRule("municipality")),
    ],
)
def test_rules_parse(value: str, rule: PlaceRule) -> None:
    assert PlaceRule.parse(value) == rule


@pytest.mark.parametrize(
    "value", ["", "point", "point far", "point -5", "street 5", "region", 100, None, "point nan"]
)
def test_unknown_rules_fail_loudly(value: object) -> None:
    with pytest.raises(PlaceRuleError):
        PlaceRule.parse(value)


def test_a_sector_without_a_rule_fails(tmp_path: Path) -> None:
    path = tmp_path / "sectors.yaml"
    path.write_text("sectors:\n  - id: roads\n    same_place: point 100\n  - id: health\n", encoding="utf-8")
    with pytest.raises(PlaceRuleError, match="health"):
        place_rules(path)


def test_points_compare_by_distance() -> None:
    rule = PlaceRule("point", 100.0)
    # About 0.0009 degrees of latitude is 100 m.
    assert same_place(rule, at("", lat=56.8380, lon=60.6000), at("", lat=56.8386, lon=60.6000))
    assert not same_place(rule, at("", lat=56.8380, lon=60.6000), at("", lat=56.8392, lon=60.6000))
    assert not same_place(rule, at("", "ekaterinburg", 56.838, 60.6), at("", "berezovsky", 56.838, 60.6))


def test_without_pins_a_point_is_a_house_number_window() -> None:
    rule = PlaceRule("point", 100.0)  # seven numbers either way
    assert same_place(rule, at("ул. Ленина 24"), at("улица Ленина, д. 24"))
    assert same_place(rule, at("ул. Ленина 24"), at("ул. Ленина 30"))
    assert not same_place(rule, at("ул. Ленина 24"), at("ул. Ленина 40"))
    assert not same_place(rule, at("ул. Ленина 24"), at("пр. Ленина 24"))
    assert not same_place(rule, at("ул. Ленина 24"), at("ул. Ленина"))
    crossroads = at("перекрёсток Королёва и Ладыженского")
    assert same_place(rule, crossroads, at("перекресток Ладыженского - Королёва"))
    assert rule.house_window == 7 and PlaceRule("point", 300.0).house_window == 20


def test_street_settlement_and_municipality_rules() -> None:
    street, settlement = PlaceRule("street"), PlaceRule("settlement")
    assert same_place(street, at("ул. Лесная 5"), at("ул. Лесная 47"))
    assert not same_place(street, at("ул. Лесная 5"), at("ул. Мира 5"))
    assert not same_place(street, at("п. Исеть, ул. Лесная 5"), at("с. Мостовое, ул. Лесная 5"))
    assert same_place(settlement, at("ул. Лесная 5"), at("ул. Мира 5"))
    assert not same_place(settlement, at("п. Исеть, ул. Мира 1"), at("с. Мостовое, ул. Мира 1"))
    assert same_place(PlaceRule("municipality"), at("п. Исеть"), at("с. Мостовое"))
    assert not same_place(PlaceRule("municipality"), at("", "ekaterinburg"), at("", "berezovsky"))


POTHOLE = "Огромная яма на дороге, машины пробивают колёса"
POTHOLE_2 = "Глубокая яма на проезжей части"
LAMP = "Не горит фонарь у подъезда, темно"
COLD = "В доме нет отопления, батареи холодные"
COLD_2 = "Третий день нет отопления, холодно в квартире"
SNOW = "Во дворе не вывезли снег, не пройти"
DARK = "Не горят фонари на улице Садовой, вечером темно"
DARK_2 = "На улице темно, фонарь не горит"
DARK_3 = "Нет уличного освещения, вечером страшно ходить"
HOT = "Нет горячей воды уже три дня"
CROSSROADS = "перекрёсток Королёва и Ладыженского"
TRAFFIC_LIGHT = "Не работает светофор на перекрёстке, мигает жёлтым"
CROSSROADS_HOLE = "На перекрёстке огромная выбоина, машины бьют колёса"
CASES = [
    # (same?, sector_a, address_a, text_a, sector_b, address_b, text_b); no address: from the text
    (True, "roads", "ул. Ленина 24", POTHOLE, "roads", "улица Ленина, д. 24", POTHOLE_2),
    (False, "roads", "ул. Ленина 24", POTHOLE, "housing", "ул. Ленина 24", LAMP),
    (False, "roads", "ул. Ленина 24", POTHOLE, "roads", "ул. Мира 24", POTHOLE_2),
    (True, "housing", "ул. Лесная 5", COLD, "housing", "ул. Лесная 17", COLD_2),
    (False, "housing", "ул. Лесная 5", COLD, "housing", "ул. Лесная 5", SNOW),
    (True, "housing", "", DARK, "housing", "ул. Садовая 12", DARK_2),
    # Another problem of the sector at one place: the concepts conflict, whatever words are shared.
    (False, "housing", "ул. Лесная 5", COLD, "housing", "ул. Лесная 5", HOT),
    (False, "roads", CROSSROADS, TRAFFIC_LIGHT, "roads", CROSSROADS, CROSSROADS_HOLE),
    # One dark street in other words: "освещение" and "фонарь" name one concept.
    (True, "housing", "ул. Садовая 12", DARK_3, "housing", "ул. Садовая 14", DARK_2),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[1]}-{c[4]}-{c[0]}" for c in CASES])
def test_hand_written_pairs(case: tuple[bool, str, str, str, str, str, str]) -> None:
    expected, sector_a, address_a, text_a, sector_b, address_b, text_b = case
    place_a = at(address_a or text_a)
    place_b = at(address_b or text_b)
    assert is_duplicate(sector_a, place_a, text_a, sector_b, place_b, text_b, RULES) is expected


def test_similarity_is_symmetric_bounded_and_cheap() -> None:
    a, b = POTHOLE, "Глубокая яма на проезжей части"
    assert similarity(a, b) == pytest.approx(similarity(b, a))
    assert 0.0 <= similarity(a, "Не горит фонарь") < similarity(a, b) <= 1.0
    assert similarity(a, a) == pytest.approx(1.0)
    texts = [f"{POTHOLE} номер {i}" for i in range(200)]
    start = time.perf_counter()
    for text in texts:
        similarity(text, b)
    assert (time.perf_counter() - start) / len(texts) < 0.005  # ≤ 1 ms on a quiet machine; slack for CI


def test_concepts_cover_every_sector_and_phrases_win() -> None:
    sectors = [str(s["id"]) for s in yaml.safe_load(SECTORS_PATH.read_text(encoding="utf-8"))["sectors"]]
    table = concepts()
    assert {key.partition("/")[0] for keys in table.entries.values() for key in keys} == set(sectors)
    # "горячая вода" is hot water only, although "вода" alone is cold water.
    assert profile(HOT).named["housing"] == {"hot_water"}
    assert profile("Нет холодной воды с утра").named["housing"] == {"cold_water"}
    # One word names the concept of each sector it belongs to.
    assert {"housing", "energy"} <= set(profile("Нет света").named)


def test_conflicting_concepts_are_explained_and_scoped_to_the_sector() -> None:
    cold, hot = profile(COLD), profile(HOT)
    assert concept_conflict(cold, hot, "housing") == ({"heating"}, {"hot_water"})
    assert concept_conflict(profile(COLD_2), cold, "housing") is None
    # Concepts of another sector do not conflict: a roads text saying "детская площадка" is still
    # about the road.
    bump = profile("Поставьте лежачего полицейского, рядом детская площадка")
    assert concept_conflict(bump, profile("Установите искусственную неровность"), "roads") is None
    # A text naming no concept of the sector is no evidence: the similarity decides.
    assert concept_conflict(profile("Сделайте что-нибудь уже"), hot, "housing") is None
    assert similarity(COLD, HOT, sector="housing") == 0.0 < similarity(COLD, HOT)


def test_malformed_concepts_fail_loudly(tmp_path: Path) -> None:
    for text in ("pothole: яма\n", "[roads]\npothole яма\n", "[roads]\npothole: яма, , выбоина\n"):
        path = tmp_path / "problems.txt"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ValueError, match="line"):
            concepts(path)
    assert CONCEPTS_PATH.exists()
