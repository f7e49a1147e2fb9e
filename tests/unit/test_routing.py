"""Bodies and routing rules: the shipped data is consistent and routes land where they should."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from bot.services.geo import MunicipalityDirectory
from bot.services.reports.routing import (
    TRIAGE_BODY_ID,
    BodySpec,
    RoutingConfigError,
    RoutingRule,
    RoutingTable,
    load_bodies,
    load_routing_rules,
    route_report,
)

DATA = Path(__file__).resolve().parents[2] / "bot" / "data"
SECTORS = [
    str(s["id"]) for s in yaml.safe_load((DATA / "sectors.yaml").read_text(encoding="utf-8"))["sectors"]
]


@pytest.fixture(scope="module")
def municipality_ids() -> list[str]:
    return [m.id for m in MunicipalityDirectory.load().all()]


@pytest.fixture(scope="module")
def bodies() -> list[BodySpec]:
    return load_bodies()


@pytest.fixture(scope="module")
def rules() -> list[RoutingRule]:
    return load_routing_rules()


# --- the data ---------------------------------------------------------------------------------------


def test_bodies_are_consistent(bodies: list[BodySpec], municipality_ids: list[str]) -> None:
    by_id = {b.id: b for b in bodies}
    assert len(by_id) == len(bodies)
    assert by_id[TRIAGE_BODY_ID].kind == "tsur"
    for regional in ("min-transport", "min-energy-housing", "min-health", "min-education", "min-social"):
        assert by_id[regional].kind == "regional"
        assert by_id[regional].name_ru.startswith("Министерство")
        assert by_id[regional].name_ru.endswith("Свердловской области")
    known = set(municipality_ids)
    for body in bodies:
        assert body.name_ru and body.name_en
        if body.kind == "municipal":
            assert body.municipality_id in known, body.id
        else:
            assert body.municipality_id is None, body.id


def test_every_municipality_has_an_administration(
    bodies: list[BodySpec], municipality_ids: list[str]
) -> None:
    by_id = {b.id: b for b in bodies}
    for municipality_id in municipality_ids:
        body = by_id[f"adm-{municipality_id}"]
        assert body.kind == "municipal"
        assert body.municipality_id == municipality_id
        assert body.name_ru.startswith("Администрация")
    assert by_id["adm-ekaterinburg"].name_ru == "Администрация города Екатеринбурга"


def test_every_rule_points_at_a_known_body(rules: list[RoutingRule], bodies: list[BodySpec]) -> None:
    body_ids = {b.id for b in bodies}
    assert rules
    assert {r.body_id for r in rules} <= body_ids
    assert {r.sector_id for r in rules} <= set(SECTORS)


def test_every_sector_has_a_default(rules: list[RoutingRule]) -> None:
    defaults = {r.sector_id for r in rules if r.municipality_id is None}
    assert defaults == set(SECTORS)


def test_every_sector_and_municipality_routes_to_an_existing_body(
    rules: list[RoutingRule], bodies: list[BodySpec], municipality_ids: list[str]
) -> None:
    body_ids = {b.id for b in bodies}
    for sector in SECTORS:
        for municipality_id in [*municipality_ids, None]:
            body = route_report(sector, municipality_id, rules)
            assert body in body_ids, (sector, municipality_id)
            if sector != "other":
                # Only unclassified reports need the ЦУР's hands.
                assert body != TRIAGE_BODY_ID, (sector, municipality_id)


# --- the routing table ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sector", "municipality", "expected"),
    [
        ("roads", "ekaterinburg", "adm-ekaterinburg"),
        ("roads", "revda", "adm-revda"),
        ("roads", None, "min-transport"),
        ("housing", "nizhny-tagil", "adm-nizhny-tagil"),
        ("housing", None, "min-energy-housing"),
        ("education", "kamyshlovsky-rayon", "adm-kamyshlovsky-rayon"),
        ("health", "ekaterinburg", "min-health"),
        ("social", "revda", "min-social"),
        ("waste", "ekaterinburg", "min-energy-housing"),
        ("energy", "pervouralsk", "min-energy-housing"),
        ("transport", "ekaterinburg", "adm-ekaterinburg"),
        ("transport", "nizhny-tagil", "adm-nizhny-tagil"),
        ("transport", "kamensk-uralsky", "adm-kamensk-uralsky"),
        ("transport", "revda", "min-transport"),
        ("transport", None, "min-transport"),
        ("other", "ekaterinburg", TRIAGE_BODY_ID),
        (None, "ekaterinburg", TRIAGE_BODY_ID),
        (None, None, TRIAGE_BODY_ID),
        ("", "ekaterinburg", TRIAGE_BODY_ID),
        ("no-such-sector", "ekaterinburg", TRIAGE_BODY_ID),
        ("roads", "no-such-municipality", "min-transport"),
    ],
)
def test_shipped_routes(
    rules: list[RoutingRule], sector: str | None, municipality: str | None, expected: str
) -> None:
    assert route_report(sector, municipality, rules) == expected
    assert RoutingTable(rules).route(sector, municipality) == expected


def test_exact_municipality_beats_any_whatever_the_priority() -> None:
    rules = [
        RoutingRule("roads", None, "regional", priority=100),
        RoutingRule("roads", "revda", "adm-revda", priority=0),
    ]
    assert route_report("roads", "revda", rules) == "adm-revda"
    assert route_report("roads", "asbest", rules) == "regional"


def test_priority_breaks_ties_and_order_does_not_matter() -> None:
    rules = [
        RoutingRule("roads", "revda", "low", priority=1),
        RoutingRule("roads", "revda", "high", priority=5),
        RoutingRule("roads", None, "any-low", priority=0),
        RoutingRule("roads", None, "any-high", priority=3),
    ]
    for ordered in (rules, list(reversed(rules))):
        assert route_report("roads", "revda", ordered) == "high"
        assert route_report("roads", None, ordered) == "any-high"
        assert RoutingTable(ordered).route("roads", "revda") == "high"


def test_no_rules_means_triage() -> None:
    assert route_report("roads", "revda", []) == TRIAGE_BODY_ID
    # Rules for other sectors do not leak.
    assert route_report("health", "revda", [RoutingRule("roads", None, "x", 0)]) == TRIAGE_BODY_ID


def test_table_agrees_with_route_report(rules: list[RoutingRule], municipality_ids: list[str]) -> None:
    table = RoutingTable(rules)
    for sector in [*SECTORS, None, "unknown"]:
        for municipality_id in [*municipality_ids, None, "unknown"]:
            assert table.route(sector, municipality_id) == route_report(sector, municipality_id, rules)


def test_routing_is_fast_enough(rules: list[RoutingRule]) -> None:
    started = time.perf_counter()
    for _ in range(10_000):
        route_report("transport", "revda", rules)
    assert time.perf_counter() - started < 1.0  # the brief: 1e4 routes per second is plenty


# --- loading and validation -------------------------------------------------------------------------


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "routing.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def load(path: Path) -> list[RoutingRule]:
    return load_routing_rules(
        path,
        municipalities=["revda", "asbest"],
        bodies=["tsur", "min", "adm-revda", "adm-asbest"],
        sectors=["roads"],
    )


def test_templates_expand_per_municipality(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "defaults": {"roads": "min"},
            "rules": [{"sector": "roads", "municipality": "*", "body": "adm-{municipality}"}],
        },
    )
    assert sorted(load(path), key=lambda r: r.municipality_id or "") == [
        RoutingRule("roads", None, "min", 0),
        RoutingRule("roads", "asbest", "adm-asbest", 10),
        RoutingRule("roads", "revda", "adm-revda", 10),
    ]


def test_catalog_style_call_with_body_ids(municipality_ids: list[str], bodies: list[BodySpec]) -> None:
    by_specs = load_routing_rules(municipalities=municipality_ids, bodies=bodies)
    by_ids = load_routing_rules(municipalities=municipality_ids, bodies=[b.id for b in bodies])
    assert by_specs == by_ids


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"defaults": {"roads": "nobody"}}, "unknown body"),
        ({"defaults": {"potholes": "min"}}, "unknown sector"),
        ({"rules": [{"sector": "roads", "municipality": "moscow", "body": "min"}]}, "unknown municipality"),
        (
            {"rules": [{"sector": "roads", "municipality": ["revda", "tagil"], "body": "min"}]},
            "unknown municipality",
        ),
        (
            {"rules": [{"sector": "roads", "municipality": "*", "body": "dept-{municipality}"}]},
            "unknown body",
        ),
        ({"rules": [{"sector": "roads", "body": "adm-{municipality}"}]}, "template"),
        ({"defaults": {"roads": "adm-{municipality}"}}, "template"),
        (
            {"rules": [{"sector": "roads", "municipality": "revda", "body": "min", "priority": "high"}]},
            "priority",
        ),
        (
            {
                "rules": [
                    {"sector": "roads", "municipality": "revda", "body": "min"},
                    {"sector": "roads", "municipality": "revda", "body": "adm-revda"},
                ]
            },
            "both",
        ),
        (["not", "a", "mapping"], "expected a mapping"),
    ],
)
def test_bad_routing_is_rejected(tmp_path: Path, data: object, message: str) -> None:
    with pytest.raises(RoutingConfigError, match=message):
        load(write(tmp_path, data))


def test_bad_bodies_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bodies.yaml"
    tsur = {"id": "tsur", "name_ru": "ЦУР", "name_en": "TsUR", "kind": "tsur"}
    cases = [
        ({"bodies": [tsur, tsur]}, "duplicate"),
        ({"bodies": [{**tsur, "id": "x"}]}, "triage"),
        ({"bodies": [tsur, {"id": "a", "name_ru": "А", "name_en": "A", "kind": "ministry"}]}, "kind"),
        (
            {"bodies": [tsur, {"id": "a", "name_ru": "А", "name_en": "A", "kind": "municipal"}]},
            "municipality_id",
        ),
        ({"bodies": [tsur, {"id": "a", "name_en": "A", "kind": "regional"}]}, "name_ru"),
    ]
    for data, message in cases:
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        with pytest.raises(RoutingConfigError, match=message):
            load_bodies(path)
