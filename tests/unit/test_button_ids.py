"""Button ids that cross rooms are built and read in one place (bot.core.buttons)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.core.buttons import UNSUBSCRIBE, FeedbackAnswer, Rating, Scope, button_id
from bot.core.messages import MAX_BUTTON_ID_BYTES
from dialogs.registry import build_dialogs

REPORT_IDS = st.integers(min_value=1, max_value=10**12 - 1)


@given(REPORT_IDS, st.booleans())
def test_a_feedback_answer_reads_back_as_written(report_id: int, solved: bool) -> None:
    packed = FeedbackAnswer(report_id, solved).pack()
    scope, _, value = packed.partition(":")
    assert scope == Scope.FEEDBACK
    assert FeedbackAnswer.unpack(value) == FeedbackAnswer(report_id, solved)
    assert len(packed.encode()) <= MAX_BUTTON_ID_BYTES


@given(REPORT_IDS, st.integers(min_value=1, max_value=5))
def test_a_rating_reads_back_as_written(report_id: int, stars: int) -> None:
    scope, _, value = Rating(report_id, stars).pack().partition(":")
    assert scope == Scope.RATING
    assert Rating.unpack(value) == Rating(report_id, stars)


def test_malformed_values_are_not_read() -> None:
    for value in ("", "maybe:1", "yes:", "yes:x1", "yes:1234567890123", "yes:-1"):
        assert FeedbackAnswer.unpack(value) is None
    for value in ("", "1:0", "1:6", "x:3", "1:3:3", "1234567890123:3"):
        assert Rating.unpack(value) is None


def test_every_global_scope_has_a_handler_in_the_citizen_dialogs() -> None:
    dialogs = build_dialogs()
    assert set(Scope) == set(dialogs.scopes)
    assert button_id(Scope.NOTICES, "off") == UNSUBSCRIBE
