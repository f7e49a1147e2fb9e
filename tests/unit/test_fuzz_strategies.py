"""The fuzz suite's strategies (tests/harness/fuzz.py) say truly which items are valid: every valid
Telegram update is an aiogram ``Update``, every valid VK event a vkbottle event of its type, and
an item missing a required field (or with one of the wrong type) is rejected by the same models."""

from __future__ import annotations

import json
from typing import Any

import pytest
import vkbottle_types.events.bot_events as vk_models
from aiogram.types import Update
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from tests.harness.fuzz import (
    CALLBACK_DATA_BYTES,
    TELEGRAM_KINDS,
    TELEGRAM_TEXT_LIMIT,
    VK_KINDS,
    Fuzzed,
    telegram_albums,
    telegram_updates,
    vk_events,
)

FUZZ = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
VK_MODELS: dict[str, type[BaseModel]] = {
    "message_new": vk_models.MessageNew,
    "message_event": vk_models.MessageEvent,
    "message_typing_state": vk_models.MessageTypingState,
    "message_allow": vk_models.MessageAllow,
    "message_deny": vk_models.MessageDeny,
}


def _checked(item: Fuzzed) -> None:
    assert item.valid == (item.defect is None)
    json.dumps(item.payload)  # what is pushed is JSON


@FUZZ
@given(telegram_updates())
def test_telegram_validity_agrees_with_aiogram(item: Fuzzed) -> None:
    _checked(item)
    if item.valid:
        update = Update.model_validate(item.payload)
        message = update.message
        if message is not None and message.text is not None:
            assert len(message.text) <= TELEGRAM_TEXT_LIMIT
        if update.callback_query is not None and update.callback_query.data is not None:
            assert len(update.callback_query.data.encode()) <= CALLBACK_DATA_BYTES
    elif item.structural:
        with pytest.raises(ValidationError):
            Update.model_validate(item.payload)


def _vk_model(payload: Any) -> type[BaseModel] | None:
    return VK_MODELS.get(payload.get("type")) if isinstance(payload, dict) else None


@FUZZ
@given(vk_events())
def test_vk_validity_agrees_with_vkbottle(item: Fuzzed) -> None:
    _checked(item)
    model = _vk_model(item.payload)
    if item.valid:
        assert isinstance(item.payload, dict) and {"type", "object", "group_id", "event_id", "v"} <= set(
            item.payload
        )
        assert "secret" not in item.payload
        if model is not None:
            model.model_validate(item.payload)
    elif item.structural and (model is not None or not isinstance(item.payload, dict)):
        with pytest.raises(ValidationError):
            (model or vk_models.MessageNew).model_validate(item.payload)


@settings(FUZZ, max_examples=50)
@given(telegram_albums())
def test_an_album_is_valid_photo_updates_of_one_group(album: list[Fuzzed]) -> None:
    updates = [Update.model_validate(item.payload) for item in album]
    assert 2 <= len(updates) <= 10 and all(item.valid for item in album)
    groups = {u.message.media_group_id for u in updates if u.message is not None and u.message.photo}
    assert len(groups) == 1 and None not in groups
    assert len({u.update_id for u in updates}) == len(updates)


DEFECTS = {"missing", "type", "null", "id", "too_long", "empty"}
# Drawn in a fixed order (derandomize): the same items every run, no shrinking.
SURVEY = settings(max_examples=300, deadline=None, database=None, derandomize=True)


def _survey(strategy: st.SearchStrategy[Fuzzed]) -> list[Fuzzed]:
    drawn: list[Fuzzed] = []

    @SURVEY
    @given(strategy)
    def draw(item: Fuzzed) -> None:
        drawn.append(item)

    draw()
    return drawn


@pytest.mark.parametrize("kind", TELEGRAM_KINDS)
@settings(FUZZ, max_examples=15)
@given(data=st.data())
def test_every_telegram_kind_is_drawn_valid(kind: str, data: st.DataObject) -> None:
    item = data.draw(telegram_updates([kind], valid=True))
    assert item.valid and item.kind == kind
    Update.model_validate(item.payload)


@pytest.mark.parametrize("kind", VK_KINDS)
@settings(FUZZ, max_examples=15)
@given(data=st.data())
def test_every_vk_kind_is_drawn_valid(kind: str, data: st.DataObject) -> None:
    item = data.draw(vk_events([kind], valid=True))
    assert item.valid and item.kind == kind
    model = _vk_model(item.payload)
    assert (model is None) == (kind == "unknown_event")
    if model is not None:
        model.model_validate(item.payload)


def test_every_defect_is_drawn_and_huge_texts_reach_100k() -> None:
    for strategy in (telegram_updates(valid=False), vk_events(valid=False)):
        drawn = _survey(strategy)
        assert not any(item.valid for item in drawn)
        assert {str(item.defect).split(":")[0] for item in drawn} >= DEFECTS
    texts = _survey(telegram_updates(["text"], valid=False))
    sizes = [len(i.payload["message"]["text"]) for i in texts if i.defect == "too_long:message.text"]
    assert all(TELEGRAM_TEXT_LIMIT < size <= 100_000 for size in sizes) and max(sizes) > 50_000


def test_kinds_are_checked() -> None:
    with pytest.raises(ValueError, match="kinds must be some of"):
        telegram_updates(["hologram"])
