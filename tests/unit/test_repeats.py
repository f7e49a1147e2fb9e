"""Chains of repeated reports and the digest's week, place and links (no database)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.services.incidents.digest import DigestPolicy, digest_week, place_args, topic_link
from bot.services.incidents.places import PlaceRule
from bot.services.incidents.repeats import PlacedReport, chain_problems, is_repeat, top_per_municipality

EKB = ZoneInfo("Asia/Yekaterinburg")
T0 = datetime(2026, 9, 1, tzinfo=UTC)
RULES = {"roads": PlaceRule.parse("point 100"), "transport": PlaceRule.parse("municipality")}
SINCE, UNTIL = T0 + timedelta(days=60), T0 + timedelta(days=67)


def report(
    rid: int,
    filed: int,
    closed: int | None = None,
    *,
    street: str | None = "улица:ленина",
    house: str | None = "10",
    sector: str = "roads",
    municipality: str = "ekaterinburg",
    pin: tuple[float, float] | None = None,
) -> PlacedReport:
    """A report filed and closed so many days after T0."""
    return PlacedReport(
        id=rid,
        number=f"26-{rid:06d}",
        sector_id=sector,
        municipality_id=municipality,
        street_key=street,
        house=house,
        settlement_key=None,
        lat=pin[0] if pin else None,
        lon=pin[1] if pin else None,
        created_at=T0 + timedelta(days=filed),
        closed_at=T0 + timedelta(days=closed) if closed is not None else None,
        body_id="b",
    )


def test_a_chain_of_repeats_is_one_problem_and_unrelated_places_stay_out() -> None:
    reports = [
        report(1, 0, 10),
        report(2, 30, 40, house="12"),  # repeats 1
        report(3, 62, house="8"),  # repeats 2 (and 1): in the period
        report(4, 61, street="улица:мира"),  # another street, nothing before it
        report(5, 63, house="40"),  # 30 numbers on: another spot of the same street
        report(6, 61, sector="transport", street=None, house=None),  # no closed transport report
    ]
    [problem] = chain_problems(reports, RULES, since=SINCE, until=UNTIL)
    assert [r.id for r in problem.reports] == [1, 2, 3]
    assert problem.repeat_ids == {2, 3}
    assert problem.where.id == 3


def test_problems_rank_by_repeats_then_reports_and_top_keeps_n_per_municipality() -> None:
    reports = [
        # Lenina 10: closed, then twice again (2 repeats).
        report(1, 0, 50),
        report(2, 61, 62),
        report(3, 64),
        # Mira 5: closed, then once again (1 repeat).
        report(4, 0, 55, street="улица:мира", house="5"),
        report(5, 62, street="улица:мира", house="5"),
        # Transport in Sysert: a municipality-wide rule; a pin-only pothole in Sysert.
        report(6, 0, 20, sector="transport", municipality="sysert", street=None),
        report(7, 61, sector="transport", municipality="sysert", street=None),
        report(8, 1, 30, municipality="sysert", street=None, pin=(56.5, 60.8)),
        report(9, 62, municipality="sysert", street=None, pin=(56.5004, 60.8)),  # ~45 m away
    ]
    problems = chain_problems(reports, RULES, since=SINCE, until=UNTIL)
    assert [(p.municipality_id, p.repeats, len(p.reports)) for p in problems][:2] == [
        ("ekaterinburg", 2, 3),
        ("ekaterinburg", 1, 2),
    ]
    top = top_per_municipality(problems, 1)
    assert [r.id for r in top["ekaterinburg"][0].reports] == [1, 2, 3]
    assert sorted(len(p.reports) for p in top_per_municipality(problems, 5)["sysert"]) == [2, 2]


def test_a_repeat_more_than_90_days_after_closing_or_before_it_does_not_count() -> None:
    before_close = [report(1, 0, 65), report(2, 62)]  # filed while the first was still open
    late = [report(1, 0, 1), report(2, 92)]
    assert chain_problems(before_close, RULES, since=SINCE, until=UNTIL) == []
    assert chain_problems(late, RULES, since=T0 + timedelta(days=90), until=T0 + timedelta(days=97)) == []
    just_in = [report(1, 0, 1), report(2, 90)]
    assert chain_problems(just_in, RULES, since=T0 + timedelta(days=88), until=T0 + timedelta(days=95))


def test_the_digest_week_starts_at_the_local_weekday_and_hour() -> None:
    policy = DigestPolicy(weekday=0, hour=9)
    monday_0859 = datetime(2026, 12, 7, 8, 59, tzinfo=EKB).astimezone(UTC)
    assert digest_week(monday_0859, EKB, policy) is None
    week = digest_week(monday_0859 + timedelta(minutes=1), EKB, policy)
    assert week is not None and week.label == "2026-W50"
    assert week.until == datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
    assert week.since == week.until - timedelta(days=7)
    sunday = datetime(2026, 12, 13, 23, 0, tzinfo=EKB).astimezone(UTC)  # still week 50, in UTC too
    assert digest_week(sunday, EKB, policy) == week
    friday = DigestPolicy(weekday=4, hour=16)
    assert digest_week(datetime(2026, 12, 10, 12, tzinfo=UTC), EKB, friday) is None
    with pytest.raises(ValueError):
        DigestPolicy(hour=24)


def test_places_and_links_as_the_digest_shows_them() -> None:
    assert place_args(report(1, 0, street="*:ленина", house="24")) == {
        "kind": "street",
        "street": "Ленина",
        "house": "24",
    }
    assert place_args(report(1, 0, street="проспект:космонавтов", house=None))["street"] == (
        "проспект Космонавтов"
    )
    assert place_args(report(1, 0, street=None, pin=(56.83861, 60.6)))["lat"] == "56.8386"
    assert place_args(report(1, 0, street="перекресток:королева|ладыженского", house=None)) == {
        "kind": "crossroads",
        "street": "Королева / Ладыженского",
    }
    assert topic_link(-1001234567890, 77) == "https://t.me/c/1234567890/77"
    assert topic_link(123456, 77) is None  # a private chat has no topic links


def brute_force(
    reports: list[PlacedReport], rules: dict[str, PlaceRule], since: datetime, until: datetime
) -> set[tuple[frozenset[int], frozenset[int]]]:
    """Every pair compared by `is_repeat`, chains by flooding: what the indexed matching must equal."""
    edges: dict[int, set[int]] = {r.id: set() for r in reports}
    repeats: set[int] = set()
    for a in reports:
        for b in reports:
            same_group = (a.sector_id, a.municipality_id) == (b.sector_id, b.municipality_id)
            if same_group and is_repeat(rules[a.sector_id], a, b, timedelta(days=90)):
                edges[a.id].add(b.id)
                edges[b.id].add(a.id)
                repeats.add(b.id)
    seen: set[int] = set()
    chains = set()
    for start in edges:
        if start in seen or not edges[start]:
            continue
        chain, todo = set(), [start]
        while todo:
            item = todo.pop()
            if item not in chain:
                chain.add(item)
                todo += edges[item]
        seen |= chain
        created = {r.id: r.created_at for r in reports}
        if any(since <= created[i] < until for i in chain & repeats):
            chains.add((frozenset(chain), frozenset(chain & repeats)))
    return chains


@pytest.mark.parametrize("seed", range(5))
def test_indexed_matching_equals_comparing_every_pair(seed: int) -> None:
    rnd = random.Random(seed)
    rules = {
        "roads": PlaceRule.parse("point 100"),
        "housing": PlaceRule.parse("street"),
        "energy": PlaceRule.parse("settlement"),
        "transport": PlaceRule.parse("municipality"),
    }
    reports = []
    for rid in range(1, 400):
        filed = rnd.uniform(0, 200)
        pin = (56.8 + rnd.uniform(0, 0.02), 60.6 + rnd.uniform(0, 0.03)) if rnd.random() < 0.3 else None
        base = report(
            rid,
            0,
            sector=rnd.choice(sorted(rules)),
            municipality=rnd.choice(["ekaterinburg", "sysert"]),
            street=None if pin else rnd.choice(["улица:ленина", "*:ленина", "улица:мира", None]),
            house=str(rnd.randrange(1, 30)) if rnd.random() < 0.9 else None,
            pin=pin,
        )
        closed = filed + rnd.uniform(1, 20) if rnd.random() < 0.7 else None
        reports.append(
            replace(
                base,
                created_at=T0 + timedelta(days=filed),
                closed_at=T0 + timedelta(days=closed) if closed is not None else None,
                settlement_key=rnd.choice([None, "исеть", "арамиль"]),
            )
        )
    since, until = T0 + timedelta(days=150), T0 + timedelta(days=157)
    found = chain_problems(reports, rules, since=since, until=until)
    assert found  # the data is dense enough to have repeats in the period
    assert {(frozenset(r.id for r in p.reports), p.repeat_ids) for p in found} == brute_force(
        reports, rules, since, until
    )


def test_pins_across_a_grid_cell_boundary_are_still_one_spot() -> None:
    # 56.4998 and 56.5003 are ~55 m apart but in neighbouring cells (0.01° rows).
    west = report(1, 0, 10, street=None, house=None, pin=(56.4998, 60.81))
    east = report(2, 62, street=None, house=None, pin=(56.5003, 60.81))
    far = report(3, 62, street=None, house=None, pin=(56.5030, 60.81))  # ~360 m: another spot
    [problem] = chain_problems([west, east, far], RULES, since=SINCE, until=UNTIL)
    assert [r.id for r in problem.reports] == [1, 2]


def test_a_town_wide_problem_is_named_by_its_area_and_a_street_problem_by_its_street() -> None:
    with_address = report(1, 0, street="улица:ленина", house="24")
    assert place_args(with_address, "municipality") == {"kind": "area", "settlement": "none"}
    assert place_args(replace(with_address, settlement_key="исеть"), "settlement") == {
        "kind": "area",
        "settlement": "Исеть",
    }
    assert place_args(with_address, "street") == {"kind": "street", "street": "Ленина", "house": "none"}
    reports = [report(1, 0, 10, sector="transport"), report(2, 62, sector="transport", street=None)]
    [problem] = chain_problems(reports, RULES, since=SINCE, until=UNTIL)
    assert problem.place_kind == "municipality"
