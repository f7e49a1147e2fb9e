"""The comms composer's rules with no messenger: the draft, the audience filters, the typed input."""

from __future__ import annotations

import pytest

from bot.core.messages import Text
from bot.services.geo import MunicipalityDirectory
from bot.services.notices.content import Audience, NoticeKind
from dialogs.comms.draft import (
    CLAIM,
    KIND,
    TEXT,
    Draft,
    draft_key,
    toggle_everyone,
    toggle_platform,
    toggle_sector,
    with_municipalities,
    with_reports,
)
from dialogs.comms.parsing import SEND_AGAIN, resolve_municipalities, resolve_reports


@pytest.fixture(scope="module")
def directory() -> MunicipalityDirectory:
    return MunicipalityDirectory.load()


def test_draft_round_trips_and_ignores_unknown_fields() -> None:
    draft = Draft.new(thread=7)
    assert draft.step == KIND and draft.thread == 7 and 0 < draft.serial < 1_000_000_000
    draft.set_audience(Audience(municipalities=("ekaterinburg",)))
    again = Draft.from_json({**draft.to_json(), "from_an_older_deploy": 1})
    assert again == draft
    assert again.get_audience().municipalities == ("ekaterinburg",)
    assert draft_key(-100, 5) == "comms:-100:5"


def test_choosing_a_kind_starts_the_text_over() -> None:
    draft = Draft.new(None)
    draft.text, draft.photo = "old", "photo-1"
    draft.choose_kind(NoticeKind.FACTCHECK)
    assert draft.step == CLAIM and draft.text is None and draft.photo is None
    draft.choose_kind(NoticeKind.INFO)
    assert draft.step == TEXT and draft.kind == "info"


def test_everyone_clears_the_narrower_filters_but_not_platforms() -> None:
    chosen = Audience(municipalities=("ekaterinburg",), sectors=("roads",), platforms=("vk",))
    everyone = toggle_everyone(chosen)
    assert everyone == Audience(everyone=True, platforms=("vk",))
    assert toggle_everyone(everyone) == Audience(platforms=("vk",))


def test_sectors_and_platforms_toggle_in_order() -> None:
    audience = toggle_sector(Audience(everyone=True, reports=("26-000001",)), "roads")
    assert audience == Audience(sectors=("roads",))
    audience = toggle_sector(toggle_sector(audience, "housing"), "roads")
    assert audience.sectors == ("housing",)
    audience = toggle_platform(toggle_platform(audience, "tg"), "vk")
    assert audience.platforms == ("tg", "vk")
    assert toggle_platform(audience, "tg").platforms == ("vk",)


def test_reports_and_municipalities_exclude_each_other() -> None:
    base = Audience(everyone=True, municipalities=("ekaterinburg",), sectors=("roads",), platforms=("tg",))
    reports = with_reports(base, ["26-000042"])
    assert reports == Audience(reports=("26-000042",), platforms=("tg",))
    places = with_municipalities(reports, ["nizhny-tagil"])
    assert places == Audience(municipalities=("nizhny-tagil",), platforms=("tg",))


def test_municipalities_by_name_or_id_without_repeats(directory: MunicipalityDirectory) -> None:
    found, problems = resolve_municipalities("Екатеринбург, ekaterinburg; Нижний Тагил.", directory)
    assert problems == ()
    assert found == ["ekaterinburg", "nizhny-tagil"]


def test_unknown_municipalities_are_named_and_nothing_is_taken(directory: MunicipalityDirectory) -> None:
    found, problems = resolve_municipalities("Екатеринбург, Атлантида", directory)
    assert found == []
    assert problems[0] == Text("comms-municipalities-unknown", {"list": "Атлантида"})
    assert problems[-1] == SEND_AGAIN
    assert resolve_municipalities(" , ;", directory) == ([], (SEND_AGAIN,))


def test_report_numbers_are_normalised_by_shape_only() -> None:
    assert resolve_reports("26-42 №26-000042, #25-7\n26-43") == (["26-000042", "25-000007", "26-000043"], ())


def test_malformed_report_numbers_refuse_the_whole_list() -> None:
    found, problems = resolve_reports("26-42 abc 2026-1")
    assert found == []
    assert problems == (Text("comms-reports-malformed", {"list": "abc, 2026-1"}), SEND_AGAIN)
    assert resolve_reports("  ")[1][0] == Text("comms-reports-malformed", {"list": "—"})
