"""The boundaries of ../shared/SECTORS.md, one case per line, as a citizen would write them: the
committed model must put each on the right side (Russian and English)."""

from __future__ import annotations

import pytest

from bot.classify import Classifier, load_classifier

BOUNDARIES: list[tuple[str, str, str]] = [
    # (what the boundary is, expected sector, text)
    ("street lamp", "housing", "на нашей улице третью неделю не горит фонарь, вечером ничего не видно"),
    ("yard lighting", "housing", "во дворе дома 14 нет освещения, лампы на опорах перегорели"),
    ("street lamp, en", "housing", "the street lamp outside our building has been off for a week"),
    (
        "dark highway",
        "roads",
        "на трассе Екатеринбург-Тюмень не работает освещение проезжей части, темно, фуры летят",
    ),
    (
        "dark highway, en",
        "roads",
        "the lights along the highway carriageway are off, drivers cannot see the lanes",
    ),
    ("container site", "waste", "контейнерная площадка переполнена, мусор не вывозят неделю"),
    (
        "container site, en",
        "waste",
        "the garbage containers at our bin site are overflowing, nobody collects them",
    ),
    ("litter in a yard", "housing", "во дворе валяется мусор, дворник не убирает территорию"),
    ("litter in a yard, en", "housing", "litter everywhere in our courtyard, the yard is never swept"),
    ("gas leak", "energy", "в подъезде сильно пахнет газом, вызовите аварийную газовую службу"),
    ("gas leak, en", "energy", "there is a strong smell of gas in the stairwell, a gas leak"),
    ("stray dogs", "other", "стая бездомных собак бросается на детей у школы, нужен отлов"),
    ("stray dogs, en", "other", "a pack of stray dogs chases children near the school"),
    ("fallen tree", "housing", "во дворе упало аварийное дерево прямо на детскую площадку"),
    ("fallen tree, en", "housing", "a dead tree fell on the playground in our yard"),
    ("playground", "housing", "на детской площадке сломаны качели и горка"),
    ("park", "housing", "в сквере не убирают листья и сломаны скамейки"),
    ("uncut grass", "housing", "трава на газонах по пояс, никто не косит"),
    ("heating in a building", "housing", "в квартире холодные батареи, отопления нет"),
    ("power outage", "energy", "нет электричества на всей улице с утра"),
    ("pothole", "roads", "огромная яма на проезжей части"),
    ("bus stop shelter", "transport", "на остановке разбит павильон, ждать автобус под дождём"),
    ("bulky waste", "waste", "старую мебель выбросили у контейнеров, крупногабарит не вывозят"),
    ("illegal dump", "waste", "в лесу за гаражами стихийная свалка"),
    ("stadium", "other", "на городском стадионе разрушены трибуны"),
]


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return load_classifier()


@pytest.mark.parametrize(("boundary", "expected", "text"), BOUNDARIES, ids=[b[0] for b in BOUNDARIES])
def test_each_boundary_falls_on_its_side(
    classifier: Classifier, boundary: str, expected: str, text: str
) -> None:
    assert classifier.predict(text).sector == expected, boundary
