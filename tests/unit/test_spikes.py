"""The pure spike detector: cold-start prior, warm baseline, the Poisson test with its Bonferroni
correction and minimum count, one signal per family and one alert per cluster."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from scipy.stats import poisson

from bot.services.incidents.spike_texts import place_label, place_of, typical_texts
from bot.services.incidents.spikes import (
    AlertBook,
    Baseline,
    Sighting,
    SpikeConfig,
    cell_key,
    p_value_text,
    scan,
)
from handlers.telegram.callbacks import CallbackSigner
from handlers.telegram.spike_alerts import PREFIX, spike_button_signer

EKB = ZoneInfo("Asia/Yekaterinburg")
# A Wednesday, 15:00 local time.
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
PEOPLE = {"big": 1_000_000, "town": 40_000, "village": 5_000}
CONFIG = SpikeConfig(default_rates={"*": 4.0})


def burst(
    n: int, municipality: str = "town", sector: str = "energy", place: str | None = None
) -> list[Sighting]:
    """`n` reports in the last 30 minutes."""
    return [
        Sighting(NOW - timedelta(minutes=30 - i), sector, municipality, place, 100 + i, 56.0 + i * 1e-4, 60.0)
        for i in range(n)
    ]


def empty(config: SpikeConfig = CONFIG) -> Baseline:
    return Baseline([], NOW, NOW, PEOPLE, EKB, config)


def test_cold_prior_scales_by_population_and_caps_places() -> None:
    base = empty()
    start, end = NOW - timedelta(hours=1), NOW
    big = base.expected(("energy", "big", None), start, end)
    town = base.expected(("energy", "town", None), start, end)
    assert big == pytest.approx(town * 25)
    # A street stands for `place_people` residents, never more than its municipality.
    street = base.expected(("energy", "big", "x/улица:ленина"), start, end)
    assert street == pytest.approx(big * CONFIG.place_people / PEOPLE["big"])
    assert base.expected(("energy", "village", "se"), start, end) == pytest.approx(
        base.expected(("energy", "village", None), start, end)
    )
    assert not base.warm


def test_a_burst_in_a_small_town_signals_with_its_figures() -> None:
    signals = scan(burst(7), NOW, empty(), CONFIG)
    assert len(signals) == 1
    signal = signals[0]
    assert signal.cell == ("energy", "town", None)
    assert signal.count == 7
    assert signal.p_value == pytest.approx(poisson.sf(6, signal.expected))
    assert signal.p_value < signal.threshold == CONFIG.alpha / 1
    assert signal.report_ids == list(range(100, 107))
    pin = signal.pin()
    assert pin is not None and pin[0] == pytest.approx(56.0003)


def test_fewer_than_the_minimum_never_signal() -> None:
    # Four reports where almost none are expected: improbable, but below the minimum count.
    assert scan(burst(4, "village"), NOW, empty(), CONFIG) == []


def test_the_same_count_is_normal_in_a_big_city() -> None:
    history = [
        Sighting(NOW - timedelta(hours=h, minutes=m), "energy", "big", None, h * 100 + m)
        for h in range(2, 30)
        for m in range(0, 60, 6)
    ]
    base = Baseline(history, NOW - timedelta(hours=30), NOW - timedelta(hours=1), PEOPLE, EKB, CONFIG)
    assert scan(burst(7, "big"), NOW, base, CONFIG) == []


def test_bonferroni_divides_alpha_by_the_cells_tested() -> None:
    base = empty()
    alone = scan(burst(5), NOW, base, CONFIG)
    assert alone, "five reports in a town is improbable on its own"
    p_value = alone[0].p_value
    # Enough other cells with one report each that alpha / m falls below that p-value.
    cells = int(CONFIG.alpha / p_value) + 2
    others = [Sighting(NOW - timedelta(minutes=5), "roads", f"m{i}", None, 1000 + i) for i in range(cells)]
    assert scan(burst(5) + others, NOW, base, CONFIG) == []


def test_the_rest_of_the_oblast_now_is_a_floor_under_the_expectation() -> None:
    # Energy busy everywhere (a regional outage): the town's share of it is no local cluster.
    everywhere = [
        Sighting(NOW - timedelta(minutes=i % 50), "energy", "big", None, 500 + i) for i in range(300)
    ]
    assert [s.cell for s in scan(burst(7) + everywhere, NOW, empty(), CONFIG)] == [("energy", "big", None)]


def test_one_signal_per_family_the_most_telling_cell() -> None:
    signals = scan(burst(8, place="x/улица:ленина"), NOW, empty(), CONFIG)
    assert [s.cell for s in signals] == [("energy", "town", "x/улица:ленина")]
    assert cell_key(signals[0].cell) == "energy|town|x/улица:ленина"


def test_warm_baseline_learns_a_busy_hour() -> None:
    # Five weeks in which this town reports 8 energy problems every Wednesday at 14-15 and 15-16.
    start = NOW - timedelta(days=35)
    history = []
    for week in range(1, 6):
        for hour in (1, 2):
            at = NOW - timedelta(weeks=week) - timedelta(hours=hour) + timedelta(minutes=1)
            history += [
                Sighting(at + timedelta(minutes=i), "energy", "town", None, week * 100 + i) for i in range(8)
            ]
    base = Baseline(history, start, NOW - timedelta(hours=1), PEOPLE, EKB, CONFIG)
    assert base.warm
    assert base.expected(("energy", "town", None), NOW - timedelta(hours=1), NOW) > 4
    assert scan(burst(7), NOW, base, CONFIG) == []
    # The same history, cold (under four weeks): the prior knows nothing of that hour.
    cold = Baseline(history, NOW - timedelta(days=20), NOW - timedelta(hours=1), PEOPLE, EKB, CONFIG)
    assert not cold.warm


def test_alert_book_extends_a_live_alert_and_opens_after_a_quiet_gap() -> None:
    book = AlertBook(CONFIG)
    signal = scan(burst(7), NOW, empty(), CONFIG)
    assert len(book.update(NOW, signal)) == 1
    assert book.update(NOW + timedelta(minutes=5), signal) == []
    assert book.alerts[0].passes == 2
    later = NOW + timedelta(minutes=5) + CONFIG.quiet_gap + timedelta(minutes=1)
    assert len(book.update(later, signal)) == 1
    assert len(book.alerts) == 2
    assert book.alerted_reports() == set(range(100, 107))


def test_texts_places_and_p_values_as_shown() -> None:
    texts = [
        "Нет света на улице Ленина, звоните +7 912 000-00-01",
        "Нет света по Ленина уже час",
        "Опять нет света на Ленина",
        "Собака лает во дворе",
    ]
    typical = typical_texts(texts)
    assert len(typical) == 3
    assert "Собака лает во дворе" not in typical
    assert all("912" not in t for t in typical)
    assert place_of("улица:ленина", "исеть") == "исеть/улица:ленина"
    assert place_of(None, "исеть") == "исеть"
    assert place_of(None, None) is None
    assert place_label("исеть/улица:ленина") == "Исеть, Ленина"
    assert place_label("/улица:ленина") == "Ленина"
    assert p_value_text(0.0) == "< 1e-300"
    assert p_value_text(3.21e-7) == "3.2e-07"


def test_alert_buttons_are_signed_for_the_tsur_chat_and_nonce() -> None:
    signer = CallbackSigner(b"k" * 32)
    data = spike_button_signer(signer)("ignored", 42, -100777, "n1")
    press = signer.check(data, -100777, nonce="n1", prefix=PREFIX)
    assert press is not None and (press.action, press.ident) == ("ignored", 42)
    assert signer.check(data, -100778, nonce="n1", prefix=PREFIX) is None
    assert signer.check(data, -100777, nonce="n2", prefix=PREFIX) is None
