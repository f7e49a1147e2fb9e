"""Subscriptions to notices, the citizen's side: transcripts through the menu, the offer after the
first report and the one-tap unsubscribe, then what the database holds."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from bot.app.wiring import App
from bot.core.buttons import UNSUBSCRIBE
from bot.core.messages import MAX_BUTTON_ID_BYTES
from bot.services.citizens.subscriptions import ALL, MUNICIPALITY, SECTOR, Subscriptions, SubscriptionService
from dialogs.notices_screens import PAGE_SIZE, short_name
from storage.models import Citizen, Subscription
from tests.harness.chat import Chat

HEATING = (
    "В квартире уже неделю нет отопления, батареи ледяные, дома +14. "
    "Управляющая компания на звонки не отвечает, дети болеют."
)
ROADS = "На перекрёстке огромная яма, машины бьют колёса, уже месяц никто не ремонтирует дорогу"
EKB = (56.8389, 60.6057)
OUTDATED = "Эта кнопка уже неактуальна"
OFFER = "Хотите получать уведомления"


async def consent(chat: Chat, agree: str = "Согласен") -> None:
    await chat.consent(agree)


async def file_report(chat: Chat, text: str = HEATING) -> str:
    """File a report in Ekaterinburg the short way; returns everything shown after sending."""
    await chat.file_report(text)
    return chat.text()


async def subscriptions(app: App, user_id: str = "1001", platform: str = "tg") -> set[tuple[str, str]]:
    async with app.db.session() as session:
        rows = await session.execute(
            select(Subscription.scope, Subscription.value)
            .join(Citizen, Citizen.id == Subscription.citizen_id)
            .where(Citizen.platform == platform, Citizen.platform_user_id == user_id)
        )
        return {(scope, value) for scope, value in rows}


async def citizen_row(app: App, user_id: str = "1001", platform: str = "tg") -> Citizen:
    async with app.db.session() as session:
        row = await session.scalar(
            select(Citizen).where(Citizen.platform == platform, Citizen.platform_user_id == user_id)
        )
        assert row is not None
        return row


def buttons(chat: Chat) -> list[str]:
    return [b for s in chat.last for b in s.buttons]


def button_ids(chat: Chat) -> list[str]:
    return [i for s in chat.last for i in s.button_ids.values()]


async def test_menu_screen_and_municipalities_by_paging(database_url: str, app_factory: Any) -> None:
    app: App = await app_factory(database_url)
    chat = Chat(app)
    await consent(chat)
    await chat.press("🔔 Уведомления")
    assert "не подписаны" in chat.text() and "Тихие часы: 22:00–08:00" in chat.text()
    assert "🔕 Отписаться от всех" not in buttons(chat)
    assert {"🏙 Муниципалитеты", "🗂 Темы", "🌙 Тихие часы", "🏠 Меню"} <= set(buttons(chat))

    await chat.press("Муниципалитеты")
    pages = -(-73 // PAGE_SIZE)
    assert f"страница 1 из {pages}" in chat.text() and "написать название" in chat.text()
    assert "🌐 Вся область" in buttons(chat) and "Екатеринбург" in buttons(chat)
    assert len(button_ids(chat)) <= 10  # one VK inline keyboard
    await chat.press("2 ▶️")
    assert f"страница 2 из {pages}" in chat.text()
    await chat.press("Асбестовский ГО")
    assert "✅ Асбестовский ГО" in buttons(chat) and "Выбрано: Асбестовский городской округ" in chat.text()
    assert f"страница 2 из {pages}" in chat.text()
    await chat.press("◀️ 1")
    await chat.press("Екатеринбург")
    assert "✅ Екатеринбург" in buttons(chat)
    assert await subscriptions(app) == {(MUNICIPALITY, "asbest"), (MUNICIPALITY, "ekaterinburg")}

    await chat.press("Назад")
    text = chat.text()
    assert "Вы подписаны" in text and "Муниципалитеты: Екатеринбург, Асбестовский городской округ" in text
    assert "Темы: все темы" in text
    assert "🔕 Отписаться от всех" in buttons(chat)
    # Leaving the list ends the search: the next text is no place name.
    assert await app.services.state.get("tg:1001") is None

    # Toggling again unsubscribes; "the whole oblast" replaces the particular ones.
    await chat.press("Муниципалитеты")
    await chat.press("✅ Екатеринбург")
    assert await subscriptions(app) == {(MUNICIPALITY, "asbest")}
    await chat.press("Вся область")
    assert "✅ 🌐 Вся область" in buttons(chat) and "Выбрано: вся область" in chat.text()
    assert await subscriptions(app) == {(MUNICIPALITY, ALL)}
    await chat.press("Екатеринбург")
    assert await subscriptions(app) == {(MUNICIPALITY, "ekaterinburg")}
    # Past the last page is the last page.
    await chat.press_id("ns:m:999")
    assert f"страница {pages} из {pages}" in chat.text() and "◀️" in " ".join(buttons(chat))


async def test_municipality_by_typed_name(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    chat = Chat(app)
    await consent(chat)
    await chat.say("/notices")
    await chat.press("Муниципалитеты")
    await chat.say("в Нижнем Тагиле")
    assert "Подписка оформлена: Нижний Тагил" in chat.text() and "Выбрано: Нижний Тагил" in chat.text()
    # Typed again, it stays chosen (a typed name subscribes, it does not toggle).
    await chat.say("Тагил")
    assert await subscriptions(app) == {(MUNICIPALITY, "nizhny-tagil")}
    # A name on the current page typed exactly works like its button.
    await chat.say("Екатеринбург")
    assert (MUNICIPALITY, "ekaterinburg") in await subscriptions(app)
    await chat.say("Москва")
    assert "Не нашёл муниципалитет «Москва»" in chat.text() and "страница 1" in chat.text()
    # An ambiguous name: pick among the candidates.
    await chat.say("Салда")
    assert "Что вы имели в виду" in chat.text()
    assert {"Нижняя Салда", "Верхнесалдинский МО"} <= set(buttons(chat))
    await chat.press("Нижняя Салда")
    assert "✅ Нижняя Салда" not in buttons(chat)  # not on page 1, but listed as chosen
    assert "Нижняя Салда" in chat.text()
    assert await subscriptions(app) == {
        (MUNICIPALITY, "nizhny-tagil"),
        (MUNICIPALITY, "ekaterinburg"),
        (MUNICIPALITY, "nizhnyaya-salda"),
    }
    # A long message is not a place name: it leaves the list and is handled as usual.
    await chat.say("Подскажите пожалуйста, когда в нашем доме наконец включат горячую воду?")
    assert "Чтобы сообщить о проблеме" in chat.text() and "Главное меню" in chat.text()
    assert "Продолжить черновик" not in " ".join(buttons(chat))
    assert await app.services.state.get("tg:1001") is None
    assert len(await subscriptions(app)) == 3


async def test_search_waits_for_an_open_report(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    chat = Chat(app)
    await consent(chat)
    await chat.say("/report")
    await chat.say(HEATING)
    await chat.say("/notices")
    await chat.press("Муниципалитеты")
    # The buttons work, but a typed text still belongs to the report draft.
    assert "написать название" not in chat.text()
    await chat.press("Алапаевск")
    assert (MUNICIPALITY, "alapaevsk") in await subscriptions(app)
    state = await app.services.state.get("tg:1001")
    assert state is not None and state["step"] == "i.photos"
    await chat.press("Назад")
    await chat.press("Меню")
    await chat.press("Продолжить черновик")
    assert "Приложите фото" in chat.text()


async def test_own_report_municipalities_come_first(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    chat = Chat(app)
    await consent(chat)
    await chat.say("/report")
    await chat.say(ROADS)
    await chat.press("Без фото")
    await chat.say("Ревда, улица Мира 5")
    await chat.press("Дороги")
    await chat.press("Пропустить")
    await chat.press("Отправить")
    await chat.say("/notices")
    await chat.press("Муниципалитеты")
    first = [b for b in buttons(chat) if b not in ("🌐 Вся область",)]
    assert first[0] == "Ревда"


async def test_sectors(database_url: str, app_factory: Any) -> None:
    app: App = await app_factory(database_url)
    chat = Chat(app)
    await consent(chat)
    await chat.say("/subscribe")
    await chat.press("Темы")
    assert "Выбрано: пока ничего" in chat.text()
    assert "Другое" not in buttons(chat) and "Все темы" in buttons(chat)
    assert len(button_ids(chat)) <= 10
    await chat.press("Дороги")
    await chat.press("ЖКХ")
    assert {"✅ Дороги", "✅ ЖКХ"} <= set(buttons(chat)) and "Выбрано: Дороги, ЖКХ" in chat.text()
    await chat.press("✅ Дороги")
    assert await subscriptions(app) == {(SECTOR, "housing")}
    await chat.press("Все темы")
    assert "✅ Все темы" in buttons(chat) and "✅ ЖКХ" not in buttons(chat)
    assert await subscriptions(app) == {(SECTOR, ALL)}
    await chat.press("Энергетика")
    assert await subscriptions(app) == {(SECTOR, "energy")}
    await chat.press("Назад")
    assert "Муниципалитеты: вся область" in chat.text() and "Темы: Энергетика" in chat.text()


async def test_quiet_hours(database_url: str, app_factory: Any) -> None:
    app: App = await app_factory(database_url)
    chat = Chat(app)
    await consent(chat)
    await chat.say("/notices")
    await chat.press("Тихие часы")
    assert "✅ 22:00–08:00" in buttons(chat)
    await chat.press("23:00–07:00")
    assert "Тихие часы: 23:00–07:00" in chat.text()
    row = await citizen_row(app)
    assert (row.quiet_from, row.quiet_to) == (23, 7)
    await chat.press("Тихие часы")
    assert "✅ 23:00–07:00" in buttons(chat)
    await chat.press("Без тихих часов")
    assert "Тихие часы выключены" in chat.text() and "Тихие часы: выключены" in chat.text()
    row = await citizen_row(app)
    assert (row.quiet_from, row.quiet_to) == (None, None)
    await chat.press("Тихие часы")
    assert "✅ 🔔 Без тихих часов" in buttons(chat)
    await chat.press("21:00–09:00")
    row = await citizen_row(app)
    assert (row.quiet_from, row.quiet_to) == (21, 9)


async def test_offer_after_the_first_report_only(database_url: str, app_factory: Any) -> None:
    app: App = await app_factory(database_url)
    chat, other = Chat(app), Chat(app, user_id="1002")
    await consent(chat)
    text = await file_report(chat)
    assert f"{OFFER} о плановых отключениях, авариях и новостях в муниципалитете «Екатеринбург»" in text
    assert "Главное меню" in text
    await chat.press("Да")
    assert "Вы подписаны на уведомления: Екатеринбург, все темы" in chat.text()
    assert await subscriptions(app) == {(MUNICIPALITY, "ekaterinburg"), (SECTOR, ALL)}
    assert (await citizen_row(app)).notices_offered_at is not None
    assert OFFER not in await file_report(chat, ROADS)

    # Declined: never offered again either.
    await consent(other)
    assert OFFER in await file_report(other)
    await other.press("Нет, спасибо")
    assert "Хорошо, не будем" in other.text()
    assert OFFER not in await file_report(other, ROADS)
    assert await subscriptions(app, "1002") == set()


async def test_offer_keeps_chosen_topics(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    chat = Chat(app)
    await consent(chat)
    await chat.say("/notices")
    await chat.press("Темы")
    await chat.press("Транспорт")
    # Subscribed to a topic only = every municipality already: nothing to offer.
    assert OFFER not in await file_report(chat)
    await chat.press_id("ns:yes:revda")  # an accepted offer, even an old one, only adds
    assert await subscriptions(app) == {(MUNICIPALITY, "revda"), (SECTOR, "transport")}


async def test_unsubscribe_from_a_notice_when_idle(database_url: str, app_factory: Any) -> None:
    app: App = await app_factory(database_url)
    chat = Chat(app)
    await consent(chat)
    await chat.say("/notices")
    await chat.press("Муниципалитеты")
    await chat.say("Ревда")
    await chat.press("Назад")
    await chat.press("Темы")
    await chat.press("Дороги")
    await chat.say("/menu")
    assert len(await subscriptions(app)) == 2

    await chat.press_id(UNSUBSCRIBE)
    assert "Вы отписаны от уведомлений" in chat.text()
    assert await subscriptions(app) == set()
    # Tapping it twice (an older notice) is no error.
    await chat.press_id("ns:off")
    assert "Вы отписаны от уведомлений" in chat.text()
    await chat.press("Подписаться снова")
    assert "не подписаны" in chat.text()
    # The screen's own button does the same.
    await chat.press("Муниципалитеты")
    await chat.press("Екатеринбург")
    await chat.press("Назад")
    await chat.press("Отписаться от всех")
    assert "Вы отписаны" in chat.text() and await subscriptions(app) == set()


async def test_unsubscribe_mid_report_keeps_the_draft(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    chat = Chat(app)
    await consent(chat)
    await chat.say("/notices")
    await chat.press("Темы")
    await chat.press("Все темы")
    await chat.say("/report")
    await chat.say(HEATING)
    before = await app.services.state.get("tg:1001")
    assert before is not None and before["step"] == "i.photos"

    await chat.press_id("ns:off")
    assert "Вы отписаны от уведомлений" in chat.text()
    assert await subscriptions(app) == set()
    after = await app.services.state.get("tg:1001")
    assert after is not None and after["step"] == "i.photos" and after["data"] == before["data"]
    await chat.press("Продолжить черновик")
    assert "Приложите фото" in chat.text()
    await chat.press("Без фото")
    await chat.location(*EKB)
    assert "Место: Екатеринбург" in chat.text()


async def test_unsubscribe_covers_linked_accounts(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    telegram, vkontakte = Chat(app), Chat(app, user_id="7001", platform="vk")
    await consent(telegram)
    await consent(vkontakte)
    await telegram.say("/notices")
    await telegram.press("Муниципалитеты")
    await telegram.press("Екатеринбург")
    await telegram.say("/link")
    code = re.search(r"/link ([A-Z0-9]{8})", telegram.text())
    assert code
    await vkontakte.say(f"/link {code.group(1)}")
    assert "Аккаунты связаны" in vkontakte.text()
    # One person: the VK screen shows the Telegram choice, and quiet hours go to both accounts.
    await vkontakte.say("/notices")
    assert "Муниципалитеты: Екатеринбург" in vkontakte.text()
    await vkontakte.press("Тихие часы")
    await vkontakte.press("23:00–07:00")
    assert ((await citizen_row(app)).quiet_from, (await citizen_row(app)).quiet_to) == (23, 7)
    await vkontakte.press("Муниципалитеты")
    await vkontakte.say("Ревда")
    assert (MUNICIPALITY, "revda") in await subscriptions(app, "7001", "vk")
    await vkontakte.press_id("ns:off")
    assert await subscriptions(app) == set() and await subscriptions(app, "7001", "vk") == set()


async def test_forged_and_outdated_ids(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    chat = Chat(app)
    # Before consent nothing is stored and the consent is asked for.
    await chat.press_id("ns:off")
    assert "согласие" in chat.text()
    await consent(chat)
    await chat.say("/notices")
    await chat.press("Муниципалитеты")
    await chat.press("Екатеринбург")
    forged = [
        "ns:mt:0:moscow",
        "ns:mt:x:revda",
        "ns:mt:12345:revda",
        "ns:mt:0:",
        "ns:st:other",
        "ns:st:nope",
        "ns:st:",
        "ns:qs:3-4",
        "ns:qs:",
        "ns:m:",
        "ns:m:-1",
        "ns:yes:nowhere",
        "ns:off:all",
        "ns:show:x",
        "ns:bogus",
        "ns:",
        "ns",
        "ns.find:whatever",
    ]
    for button_id in forged:
        await chat.press_id(button_id)
        assert OUTDATED in chat.text(), button_id
    assert await subscriptions(app) == {(MUNICIPALITY, "ekaterinburg")}
    row = await citizen_row(app)
    assert (row.quiet_from, row.quiet_to) == (22, 8)


async def test_english(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    chat = Chat(app, user_id="3003", language_hint="en")
    await consent(chat, "I agree")
    await chat.say("/help")
    assert "/notices" in chat.text()
    await chat.press_id("menu:home")
    await chat.press("🔔 Notices")
    assert "not subscribed" in chat.text() and "Quiet hours: 22:00–08:00" in chat.text()
    await chat.press("Topics")
    await chat.press("Roads")
    assert "✅ Roads" in buttons(chat)
    await chat.press("Back")
    assert "Topics: Roads" in chat.text() and "Municipalities: the whole oblast" in chat.text()
    await chat.press("Municipalities")
    assert "page 1 of" in chat.text()
    await chat.say("Ревда")
    assert "Subscribed: Ревда" in chat.text()
    await chat.press("Back")
    await chat.press("Quiet hours")
    await chat.press("No quiet hours")
    assert "Quiet hours: off" in chat.text()
    await chat.press_id("ns:off")
    assert "You are unsubscribed from notices" in chat.text()


def test_button_ids_fit_and_names_are_short(tmp_path: Any) -> None:
    from bot.services.geo import MunicipalityDirectory

    directory = MunicipalityDirectory.load()
    longest = max(len(m.id.encode()) for m in directory.all())
    assert len(f"ns:mt:999:{longest * 'x'}".encode()) <= MAX_BUTTON_ID_BYTES
    assert max(len(short_name(m.name)) for m in directory.all()) <= 40
    assert short_name("Муниципальное образование Алапаевское") == "МО Алапаевское"
    assert short_name("Арамильский городской округ") == "Арамильский ГО"


async def test_service_rules(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    chat = Chat(app)
    await consent(chat)
    citizen_id = (await citizen_row(app)).id
    service: SubscriptionService = app.services.subscriptions
    assert await service.of(citizen_id) == Subscriptions()
    assert await service.toggle(citizen_id, SECTOR, "roads") is True
    assert await service.toggle(citizen_id, SECTOR, "roads") is False
    await service.subscribe(citizen_id, MUNICIPALITY, ALL)
    await service.subscribe(citizen_id, MUNICIPALITY, ALL)
    subs = await service.of(citizen_id)
    assert subs.municipalities == {ALL} and subs.all_sectors and subs.covers_municipality("revda")
    for scope, value in (("place", "revda"), (MUNICIPALITY, "moscow"), (SECTOR, "nope"), (SECTOR, "")):
        with pytest.raises(ValueError):
            await service.toggle(citizen_id, scope, value)
    for hours in ((22, 22), (24, 8), (-1, 8)):
        with pytest.raises(ValueError):
            await service.set_quiet(citizen_id, hours)
    await service.set_quiet(citizen_id, None)
    assert (await service.of(citizen_id)).quiet is None
    assert await service.offer_once(citizen_id) is True
    assert await service.offer_once(citizen_id) is False
    assert await service.unsubscribe_all(citizen_id) == 1
    assert await service.offer_once(10**9) is False
