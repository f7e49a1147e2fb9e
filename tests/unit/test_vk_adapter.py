"""The VK adapter's translation in and out, without a server: events → Inbound, views → keyboards."""

from __future__ import annotations

import json

import pytest

from bot.core.i18n import Translator
from bot.core.messages import Ask, Button, InboundKind, Text, View
from handlers.vk.citizen import inbound_from_event, inbound_from_message, random_id_for
from handlers.vk.render import (
    EMPTY_KEYBOARD,
    INLINE_BUTTONS,
    LABEL_LIMIT,
    PAYLOAD_LIMIT,
    render,
)

T = Translator()


def message(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {"from_id": 7001, "peer_id": 7001, "text": "", "attachments": []}
    base.update(fields)
    return {"message": base, "client_info": {"lang_id": 0}}


def buttons(count: int, per_row: int = 1) -> tuple[tuple[Button, ...], ...]:
    flat = [Button(f"x:{i}", Text.raw(f"Вариант {i}")) for i in range(count)]
    return tuple(tuple(flat[i : i + per_row]) for i in range(0, count, per_row))


def test_text_and_commands() -> None:
    inbound = inbound_from_message(message(text="Нет света"))
    assert inbound is not None and inbound.kind is InboundKind.TEXT and inbound.text == "Нет света"
    assert inbound.platform == "vk" and inbound.user_id == "7001" and inbound.state_key == "vk:7001"
    command = inbound_from_message(message(text="/Report now"))
    assert command is not None and command.kind is InboundKind.COMMAND and command.command == "report"
    start = inbound_from_message(message(text="Начать", payload=json.dumps({"command": "start"})))
    assert start is not None and start.kind is InboundKind.COMMAND and start.command == "start"


def test_english_client_gets_an_english_hint() -> None:
    event = message(text="hello")
    event["client_info"] = {"lang_id": 3}
    inbound = inbound_from_message(event)
    assert inbound is not None and inbound.language_hint == "en"


def test_photos_take_the_largest_size_and_the_caption() -> None:
    photo = {
        "type": "photo",
        "photo": {
            "sizes": [
                {"type": "s", "width": 75, "height": 50, "url": "https://vk.test/s.jpg"},
                {"type": "x", "width": 604, "height": 403, "url": "https://vk.test/x.jpg"},
                {"type": "m", "width": 130, "height": 87, "url": "https://vk.test/m.jpg"},
            ]
        },
    }
    inbound = inbound_from_message(message(text="яма", attachments=[photo, photo]))
    assert inbound is not None and inbound.kind is InboundKind.PHOTOS
    assert inbound.photos == ("https://vk.test/x.jpg", "https://vk.test/x.jpg") and inbound.text == "яма"


def test_location_buttons_and_unsupported_media() -> None:
    geo = {"type": "point", "coordinates": {"latitude": 56.83, "longitude": 60.6}}
    located = inbound_from_message(message(geo=geo))
    assert located is not None and located.kind is InboundKind.LOCATION and located.lat == 56.83
    pressed = inbound_from_message(message(text="Далее", payload=json.dumps({"b": "i.photos:next"})))
    assert pressed is not None and pressed.kind is InboundKind.BUTTON and pressed.button == "i.photos:next"
    sticker = inbound_from_message(message(attachments=[{"type": "sticker", "sticker": {}}]))
    assert sticker is not None and sticker.kind is InboundKind.UNSUPPORTED and sticker.media == "sticker"
    voice = inbound_from_message(message(attachments=[{"type": "audio_message"}]))
    assert voice is not None and voice.media == "voice"


def test_group_chats_and_junk_are_ignored_or_neutral() -> None:
    assert inbound_from_message(message(peer_id=2_000_000_005, text="привет")) is None
    assert inbound_from_event({"user_id": 7001, "peer_id": 2_000_000_001, "payload": {"b": "x"}}) is None
    forged = inbound_from_event({"user_id": 7001, "peer_id": 7001, "payload": {"evil": "1" * 500}})
    assert forged is not None and forged.kind is InboundKind.BUTTON and forged.button == ""
    bad_json = inbound_from_message(message(text="x", payload="{not json"))
    assert bad_json is not None and bad_json.kind is InboundKind.TEXT


def test_random_id_is_stable_positive_int32() -> None:
    first = random_id_for("report:1:status-2:0")
    assert first == random_id_for("report:1:status-2:0")
    assert first != random_id_for("report:1:status-2:1")
    assert 0 <= first < 2**31


def _all_buttons(keyboard: dict[str, object]) -> list[dict[str, object]]:
    rows = keyboard["buttons"]
    assert isinstance(rows, list)
    return [b for row in rows for b in row]


def test_inline_keyboard_within_vk_limits_and_long_lists_paged() -> None:
    view = View((Text.raw("Выберите"),), buttons(23, per_row=2))
    messages = render([view], "ru", T)
    assert len(messages) == 3  # 10 + 10 + 3 buttons
    assert messages[0].text == "Выберите" and messages[1].text == "Ещё варианты:"
    for sent in messages:
        assert sent.keyboard is not None and sent.keyboard["inline"] is True
        flat = _all_buttons(sent.keyboard)
        assert 0 < len(flat) <= INLINE_BUTTONS and len(sent.keyboard["buttons"]) <= 6  # type: ignore[arg-type]
        for button in flat:
            action = button["action"]
            assert isinstance(action, dict) and action["type"] == "callback"
            assert len(action["payload"]) <= PAYLOAD_LIMIT and len(action["label"]) <= LABEL_LIMIT
    ids = [json.loads(b["action"]["payload"])["b"] for m in messages for b in _all_buttons(m.keyboard)]  # type: ignore[arg-type,index]
    assert ids == [f"x:{i}" for i in range(23)]


def test_wide_rows_are_wrapped_and_long_labels_cut() -> None:
    view = View(
        (Text.raw("x"),), ((*buttons(7)[0:0], *[Button(f"w:{i}", Text.raw("Д" * 80)) for i in range(7)]),)
    )
    [sent] = render([view], "ru", T)
    assert sent.keyboard is not None
    rows = sent.keyboard["buttons"]
    assert [len(row) for row in rows] == [5, 2]
    assert all(len(b["action"]["label"]) == LABEL_LIMIT for row in rows for b in row)


def test_location_request_is_a_regular_keyboard_with_the_location_button_alone() -> None:
    view = View((Text.raw("Где?"),), buttons(2), ask=Ask.LOCATION)
    [sent] = render([view], "ru", T)
    assert sent.keyboard is not None and sent.keyboard["inline"] is False
    rows = sent.keyboard["buttons"]
    assert [b["action"]["type"] for b in rows[0]] == ["location"]
    assert all(b["action"]["type"] == "text" for row in rows[1:] for b in row)


def test_contact_request_has_no_native_button_and_the_next_message_clears_keyboards() -> None:
    ask_phone = View((Text("intake-phone-prompt"),), buttons(2), ask=Ask.CONTACT)
    [sent] = render([ask_phone], "ru", T)
    assert sent.keyboard is not None and sent.keyboard["one_time"] is True
    assert "Поделиться" not in json.dumps(sent.keyboard, ensure_ascii=False)
    cleared = render([View((Text.raw("ok"),), remove_keyboard=True)], "ru", T)
    assert cleared[0].keyboard == EMPTY_KEYBOARD
    # Choices right after a location request replace its keyboard with a one-time one.
    [choices] = render([View((Text.raw("?"),), buttons(3), remove_keyboard=True)], "ru", T)
    assert choices.keyboard is not None and choices.keyboard["inline"] is False
    assert choices.keyboard["one_time"] is True


@pytest.mark.parametrize("length", [4096, 4097, 12_000])
def test_long_texts_are_split_with_the_keyboard_on_the_last_piece(length: int) -> None:
    view = View((Text.raw("а" * length),), buttons(1))
    messages = render([view], "ru", T)
    assert all(len(m.text) <= 4096 for m in messages)
    assert sum(len(m.text) for m in messages) == length
    assert [m.keyboard is not None for m in messages] == [False] * (len(messages) - 1) + [True]
