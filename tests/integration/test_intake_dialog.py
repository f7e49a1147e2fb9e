"""Transcript tests of the citizen dialogs with no messenger: each input → what the citizen sees,
then what the database holds."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bot.app.wiring import App
from bot.core.clock import ManualClock
from storage.models import Citizen, DialogStateRow, Report, StatusChange
from tests.harness.chat import Chat
from tests.harness.stores import make_state

HEATING = (
    "В квартире уже неделю нет отопления, батареи ледяные, дома +14. "
    "Управляющая компания на звонки не отвечает, дети болеют."
)
EKB = (56.8389, 60.6057)


async def consent(chat: Chat) -> None:
    screens = await chat.say("/start")
    assert "согласие на обработку персональных данных" in chat.text()
    assert any("Согласен" in b for s in screens for b in s.buttons)
    await chat.press("Согласен")
    assert "Главное меню" in chat.text()


async def reports(app: App) -> list[Report]:
    async with app.db.session() as session:
        return list(await session.scalars(select(Report).order_by(Report.id)))


async def history(app: App, report_id: int) -> list[StatusChange]:
    async with app.db.session() as session:
        return list(
            await session.scalars(
                select(StatusChange).where(StatusChange.report_id == report_id).order_by(StatusChange.id)
            )
        )


async def file_heating_report(chat: Chat) -> str:
    await chat.press("Сообщить о проблеме")
    assert "Опишите проблему" in chat.text()
    await chat.say(HEATING)
    assert "Приложите фото" in chat.text()
    await chat.photos("photo-a", "photo-b")
    assert "Сейчас приложено: 2" in chat.text()
    await chat.press("Далее")
    assert chat.last[-1].ask == "location"
    await chat.location(*EKB)
    assert "Место: Екатеринбург" in chat.text()
    assert chat.last[0].remove_keyboard
    assert "Похоже, это: ЖКХ" in chat.text()
    await chat.press("Да, ЖКХ")
    assert chat.last[-1].ask == "contact"
    await chat.contact("+7 (912) 345-67-89")
    assert "Проверьте обращение" in chat.text()
    assert "Фото: 2" in chat.text() and "+79123456789" in chat.text()
    await chat.press("Отправить")
    text = chat.text()
    assert "Обращение №" in text and "принято" in text
    return text


async def test_full_intake_stores_routes_and_dates(database_url: str, app_factory: Any) -> None:
    app: App = await app_factory(database_url)
    chat = Chat(app)
    await consent(chat)
    text = await file_heating_report(chat)
    [report] = await reports(app)
    assert report.number is not None and f"№ {report.number}" in text
    assert report.sector_id == "housing"
    assert report.classifier_sector == "housing"
    assert report.classifier_confidence is not None and report.classifier_confidence > 0.35
    assert report.municipality_id == "ekaterinburg"
    assert report.body_id == app.services.catalog.route("housing", "ekaterinburg")
    assert app.services.catalog.body(report.body_id).name("ru") in text
    assert report.photos == ["photo-a", "photo-b"]
    assert report.phone == "+79123456789"
    assert (report.latitude, report.longitude) == EKB
    assert report.status == "routed"
    assert report.first_reaction_due > report.created_at
    assert report.answer_due > report.first_reaction_due
    changes = await history(app, report.id)
    assert [(c.from_status, c.to_status) for c in changes] == [(None, "new"), ("new", "routed")]
    assert changes[1].actor == "system"
    # The dialog is over: its state is gone.
    assert await app.services.state.get("tg:1001") is None


async def test_typed_address_and_sector_choice(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    chat = Chat(app, user_id="2002")
    await consent(chat)
    await chat.press("Сообщить о проблеме")
    await chat.say("На перекрёстке огромная яма, машины бьют колёса, уже месяц никто не ремонтирует дорогу")
    await chat.press("Без фото")
    await chat.say("Нижний Тагил, проспект Ленина, 10")
    assert "Место: Нижний Тагил" in chat.text()
    assert "Похоже, это: Дороги" in chat.text()
    await chat.press("Все темы")
    await chat.press("Транспорт")
    await chat.press("Пропустить")
    assert "Телефон: не указан" in chat.text()
    await chat.press("Отправить")
    [report] = await reports(app)
    assert report.address == "Нижний Тагил, проспект Ленина, 10"
    assert report.municipality_id == "nizhniy-tagil" or "tagil" in (report.municipality_id or "")
    assert report.sector_id == "transport" and report.classifier_sector == "roads"
    assert report.photos == [] and report.phone is None


async def test_english_dialog(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    chat = Chat(app, user_id="3003", language_hint="en")
    await chat.say("/start")
    assert "consent to the processing of personal data" in chat.text()
    await chat.press("I agree")
    await chat.press("Report a problem")
    await chat.say("The street lights on our street have not worked for two weeks, it is dark at night")
    await chat.press("No photos")
    await chat.location(*EKB)
    assert "Place: Екатеринбург" in chat.text()
    # Whatever the classifier proposes, the citizen may pick any topic from the full list.
    await chat.press("All topics")
    await chat.press("Energy")
    await chat.press("Skip")
    await chat.press("Send")
    assert "Report No." in chat.text() and "accepted" in chat.text()
    [report] = await reports(app)
    assert report.language == "en" and report.sector_id == "energy"
    async with app.db.session() as session:
        citizen = await session.scalar(select(Citizen))
    assert citizen is not None and citizen.language == "en"


async def test_language_switch_from_consent_screen(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    chat = Chat(app, user_id="3004", language_hint="ru")
    await chat.say("/start")
    await chat.press("English")
    assert "consent to the processing" in chat.text()
    await chat.press("I agree")
    assert "Main menu" in chat.text()


async def test_no_consent_stores_nothing_and_help_still_works(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    chat = Chat(app, user_id="4004")
    await chat.say("/start")
    await chat.press("Не согласен")
    assert "ничего о вас не сохранили" in chat.text()
    await chat.say("/help")
    assert "/report" in chat.text()
    await chat.say("Хочу пожаловаться на яму во дворе возле дома")
    assert "согласие" in chat.text()
    await chat.press_id("i.text:cancel")
    assert "согласие" in chat.text()
    async with app.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Citizen)) == 0
        assert await session.scalar(select(func.count()).select_from(DialogStateRow)) == 0


async def test_cancel_midway_stores_no_report(database_url: str, app_factory: Any) -> None:
    app: App = await app_factory(database_url)
    chat = Chat(app)
    await consent(chat)
    await chat.press("Сообщить о проблеме")
    await chat.say(HEATING)
    await chat.press("Без фото")
    await chat.press("Отмена")
    assert "Отменено" in chat.text() and "Главное меню" in chat.text()
    # Leaving the location step removes the native location keyboard.
    assert chat.last[0].remove_keyboard
    assert await reports(app) == []
    assert await app.services.state.get("tg:1001") is None


async def test_typed_cancel_on_reply_keyboard_step(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    chat = Chat(app)
    await consent(chat)
    await chat.press("Сообщить о проблеме")
    await chat.say(HEATING)
    await chat.press("Без фото")
    # A reply keyboard sends the label as text.
    await chat.say("✖️ Отмена")
    assert "Отменено" in chat.text()


async def test_back_goes_to_previous_step_and_keeps_data(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    chat = Chat(app)
    await consent(chat)
    await chat.press("Сообщить о проблеме")
    await chat.say(HEATING)
    await chat.photos("p1")
    await chat.press("Далее")
    await chat.press("Назад")
    assert "Сейчас приложено: 1" in chat.text()
    await chat.press("Назад")
    assert "Опишите проблему" in chat.text()
    await chat.say("Во дворе дома по улице Ленина не вывозят мусор уже две недели, контейнеры переполнены")
    await chat.press("Далее")
    await chat.location(*EKB)
    await chat.press("Назад")
    assert chat.last[-1].ask == "location"


async def test_restart_midway_keeps_the_draft(database_url: str, app_factory: Any, state_kind: str) -> None:
    if state_kind == "memory":
        pytest.skip("memory state is lost on restart by design")
    app: App = await app_factory(database_url)
    state = await make_state(state_kind, app.db)
    app = await app_factory(database_url, state=state)
    chat = Chat(app)
    await consent(chat)
    await chat.press("Сообщить о проблеме")
    await chat.say(HEATING)
    await chat.photos("p1")
    await app.close()

    # A new process: new engine, new runner, same storage.
    restarted: App = await app_factory(database_url, state=state)
    chat.app = restarted
    await chat.press("Далее")
    assert chat.last[-1].ask == "location"
    await chat.location(*EKB)
    await chat.press("Да, ЖКХ")
    await chat.press("Пропустить")
    await chat.press("Отправить")
    [report] = await reports(restarted)
    assert report.text == HEATING and report.photos == ["p1"]


async def test_state_stores_keep_a_dialog(sqlite_url: str, app_factory: Any, state_kind: str) -> None:
    app: App = await app_factory(sqlite_url)
    app = await app_factory(sqlite_url, state=await make_state(state_kind, app.db))
    chat = Chat(app)
    await consent(chat)
    await chat.press("Сообщить о проблеме")
    await chat.say(HEATING)
    saved = await app.services.state.get("tg:1001")
    assert saved is not None and saved["step"] == "i.photos" and saved["data"]["text"] == HEATING


async def test_idle_dialog_expires_politely(sqlite_url: str, app_factory: Any, clock: ManualClock) -> None:
    app: App = await app_factory(sqlite_url, dialog_ttl_minutes=30)
    chat = Chat(app)
    await consent(chat)
    await chat.press("Сообщить о проблеме")
    await chat.say(HEATING)
    clock.advance(timedelta(minutes=31))
    await chat.press("Без фото")
    assert "устарел" in chat.text()
    assert await reports(app) == []


async def test_bad_input_answers_clearly(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    chat = Chat(app)
    await consent(chat)
    await chat.press("Сообщить о проблеме")
    await chat.say("   ")
    assert "пустое" in chat.text()
    await chat.say("яма")
    assert "Слишком коротко" in chat.text()
    await chat.send_media("sticker")
    assert "Стикер" in chat.text()
    await chat.send_media("voice")
    assert "Голосовые" in chat.text()
    await chat.say("/nonsense")
    assert "/nonsense" in chat.text() and "/help" in chat.text()
    # A button of a step the citizen is not on (forged or stale) is refused, the step repeated.
    await chat.press_id("i.summary:confirm")
    assert "неактуальна" in chat.text() and "Опишите проблему" in chat.text()
    await chat.press_id("i.muni:ekaterinburg")
    assert "неактуальна" in chat.text()
    await chat.press_id("garbage-without-scope")
    assert "неактуальна" in chat.text()
    long_text = ("Труба течёт в подвале дома, вода заливает подвал. " * 250)[:10_000]
    assert len(long_text) == 10_000
    await chat.say(long_text)
    assert "Приложите фото" in chat.text()
    await chat.press("Без фото")
    await chat.location(*EKB)
    await chat.press("Да,")
    await chat.press("Пропустить")
    # Fluent groups digits by the locale ("9 999"), so compare without spaces.
    assert f"{len(long_text.strip())}симв." in "".join(chat.text().split())
    assert all(len(s.text) < 4096 for s in chat.last)
    await chat.press("Отправить")
    # A second tap on the same confirmation (double tap, redelivery) files nothing new.
    await chat.press_id("i.summary:confirm")
    [report] = await reports(app)
    assert report.text == long_text.strip()


async def test_forged_candidate_and_sector_ids_are_refused(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    chat = Chat(app)
    await consent(chat)
    await chat.press("Сообщить о проблеме")
    await chat.say(HEATING)
    await chat.press("Без фото")
    await chat.location(*EKB)
    await chat.press_id("i.sector:not-a-sector")
    assert "неактуальна" in chat.text()
    await chat.press_id("i.sector:" + "x" * 40)
    assert "неактуальна" in chat.text()


async def test_photo_limit_and_text_appended_on_photo_step(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    chat = Chat(app)
    await consent(chat)
    await chat.press("Сообщить о проблеме")
    await chat.say(HEATING)
    await chat.say("Адрес: ул. Малышева, 5, кв. 12.")
    assert "Добавил это к описанию" in chat.text()
    await chat.photos("1", "2", "3")
    await chat.photos("4", "5", "6", "7")
    assert "Лишние (2) не сохранены" in chat.text()
    assert chat.last[-1].ask == "location"
    saved = await app.services.state.get("tg:1001")
    assert saved is not None
    assert saved["data"]["photos"] == ["1", "2", "3", "4", "5"]
    assert saved["data"]["text"].endswith("кв. 12.")


async def test_phone_from_someone_else_is_refused(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    chat = Chat(app)
    await consent(chat)
    await chat.press("Сообщить о проблеме")
    await chat.say(HEATING)
    await chat.press("Без фото")
    await chat.location(*EKB)
    await chat.press("Да,")
    await chat.contact("+79990001122", own=False)
    assert "своим номером" in chat.text()
    await chat.say("позвоните мне")
    assert "Не похоже на номер" in chat.text()
    await chat.say("8 912 000-11-22")
    assert "+79120001122" in chat.text()


async def test_unknown_place_offers_candidates_or_tsur(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    chat = Chat(app)
    await consent(chat)
    await chat.press("Сообщить о проблеме")
    await chat.say(HEATING)
    await chat.press("Без фото")
    await chat.say("возле моего дома у магазина")
    assert "Не удалось определить" in chat.text()
    await chat.press("пусть определит ЦУР")
    assert "Похоже, это" in chat.text()
    await chat.press("Да,")
    await chat.press("Пропустить")
    assert "Место: возле моего дома у магазина" in chat.text()
    await chat.press("Отправить")
    [report] = await reports(app)
    assert report.municipality_id is None
    assert report.body_id == app.services.catalog.route("housing", None)


async def test_my_reports_lists_and_opens_only_own(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    chat = Chat(app)
    await consent(chat)
    await chat.press("Мои обращения")
    assert "нет обращений" in chat.text()
    await chat.press("Меню")
    await file_heating_report(chat)
    await chat.press("Мои обращения")
    [report] = await reports(app)
    assert f"№ {report.number} · ЖКХ · направлено в орган" in chat.last[-1].buttons[0]
    await chat.press(f"№ {report.number}")
    assert "История:" in chat.text() and "создано" in chat.text() and "направлено в орган" in chat.text()
    assert HEATING[:40] in chat.text()

    stranger = Chat(app, user_id="9999")
    await consent(stranger)
    await stranger.press_id(f"my:open:{report.id}")
    assert "не найдено" in stranger.text()
    assert HEATING[:40] not in stranger.text()


async def test_language_change_from_menu(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    chat = Chat(app)
    await consent(chat)
    await chat.press("Язык")
    await chat.press("English")
    assert "Language changed" in chat.text() and "Main menu" in chat.text()


async def test_forget_erases_citizen_and_unlinks_reports(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    chat = Chat(app)
    await consent(chat)
    await file_heating_report(chat)
    await chat.press("Сообщить о проблеме")
    await chat.say(HEATING)
    assert await app.services.state.get("tg:1001") is not None
    await chat.say("/forget")
    await chat.press("Удалить")
    assert "удалены" in chat.text()
    assert await app.services.state.get("tg:1001") is None
    [report] = await reports(app)
    assert report.citizen_id is None and report.phone is None
    async with app.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Citizen)) == 0
    await chat.say("/my")
    assert "согласие" in chat.text()


async def test_flood_gets_one_warning_then_silence(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url, flood_limit=3, flood_window_seconds=60)
    chat = Chat(app)
    answers = [await chat.say("/help") for _ in range(10)]
    assert all(answers[i] for i in range(3))
    assert "слишком быстро" in answers[3][0].text
    assert all(a == [] for a in answers[4:])


async def test_storage_outage_is_apologised_for(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    chat = Chat(app)
    await consent(chat)

    class Outage:
        """Every session fails to open, as when the database file or server is gone."""

        async def __aenter__(self) -> None:
            raise OperationalError("BEGIN", None, sqlite3.OperationalError("unable to open database file"))

        async def __aexit__(self, *exc_info: object) -> None:
            return None

    # Patched at the session factory rather than pointing the engine at a missing file: a failed
    # aiosqlite connect leaves its worker thread behind, which later trips over the closed loop.
    working = app.db.sessions
    app.db.sessions = Outage  # type: ignore[assignment]
    await chat.press("Сообщить о проблеме")
    assert "техническая неполадка" in chat.text()
    app.db.sessions = working
