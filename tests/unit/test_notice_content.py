"""Notice content with no database: quiet hours, the audience as JSON, the fact-check layout, headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.i18n import Translator
from bot.services.notices.content import Audience, NoticeKind, notice_views, quiet_until

EKB = ZoneInfo("Asia/Yekaterinburg")


def test_quiet_until() -> None:
    def at(hour: int, minute: int = 0) -> datetime:
        return datetime(2026, 11, 24, hour, minute, tzinfo=EKB).astimezone(UTC)

    assert quiet_until(at(23, 30), 22, 8, EKB) == at(8) + timedelta(days=1)
    assert quiet_until(at(7, 59), 22, 8, EKB) == at(8)
    assert quiet_until(at(8), 22, 8, EKB) is None
    assert quiet_until(at(21, 59), 22, 8, EKB) is None
    assert quiet_until(at(14), 13, 15, EKB) == at(15)
    assert quiet_until(at(3), None, None, EKB) is None
    assert quiet_until(at(3), 5, 5, EKB) is None


def test_audience_round_trips_through_json() -> None:
    audience = Audience(municipalities=("ekaterinburg",), sectors=("roads", "*"), platforms=("vk",))
    assert Audience.from_json(audience.to_json()) == audience
    assert Audience.from_json({"reports": ["2026-000001"]}) == Audience(reports=("2026-000001",))
    assert Audience().is_empty() and Audience(platforms=("tg",)).is_empty()
    assert not Audience(everyone=True).is_empty() and not Audience(reports=("1",)).is_empty()


def test_fact_check_layout() -> None:
    translator = Translator()
    [view] = notice_views("factcheck", "Вода соответствует нормам.", "В водопроводе яд", "Роспотребнадзор")
    text = "\n".join(translator.text("ru", line.key, line.args) for line in view.lines)
    assert text.index("Проверка фактов") < text.index("В водопроводе яд") < text.index("Факты")
    assert "Источник: Роспотребнадзор" in text
    assert [b.id for b in view.all_buttons()] == ["ns:off"]


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_kind_has_a_header_in_both_languages(kind: NoticeKind) -> None:
    translator = Translator()
    for lang in ("ru", "en"):
        assert translator.has(lang, f"notice-head-{kind.value}")
