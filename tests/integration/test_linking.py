"""Linking one citizen's Telegram and VK accounts: transcripts of both chats on one app, then what
the database holds."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from bot.app.wiring import App
from bot.core.clock import ManualClock
from bot.services.citizens.accounts import LINK_ALPHABET, LinkResult, normalize_code
from storage.models import Citizen, LinkCode, OutboxMessage, Report
from tests.harness.chat import Chat

HEATING = (
    "В квартире уже неделю нет отопления, батареи ледяные, дома +14. "
    "Управляющая компания на звонки не отвечает, дети болеют."
)
ROADS = "На перекрёстке огромная яма, машины бьют колёса, уже месяц никто не ремонтирует дорогу"
EKB = (56.8389, 60.6057)
CODE = re.compile(r"/link ([A-Z0-9]{8})")
WRONG = "Код не подошёл"


def tg(app: App, user_id: str = "1001") -> Chat:
    return Chat(app, user_id=user_id, platform="tg")


def vk(app: App, user_id: str = "7001") -> Chat:
    return Chat(app, user_id=user_id, platform="vk")


async def consent(chat: Chat) -> None:
    await chat.consent()
    assert "Главное меню" in chat.text()


async def file_report(chat: Chat, text: str = HEATING) -> str:
    return await chat.file_report(text)


async def code_from_screen(chat: Chat) -> str:
    """Open the link screen from the main menu and read the code off it."""
    await chat.say("/menu")
    await chat.press("Связать Telegram и VK")
    found = CODE.search(chat.text())
    assert found, chat.text()
    return found.group(1)


async def link(code_chat: Chat, other: Chat) -> None:
    code = await code_from_screen(code_chat)
    await other.say(f"/link {code}")
    assert "Аккаунты связаны" in other.text(), other.text()


async def my_reports(chat: Chat) -> str:
    """The "my reports" screen: its text and its buttons (one per report)."""
    await chat.say("/my")
    return "\n".join([chat.text(), *(b for s in chat.last for b in s.buttons)])


async def citizens(app: App) -> dict[str, Citizen]:
    async with app.db.session() as session:
        rows = await session.scalars(select(Citizen))
        return {f"{c.platform}:{c.platform_user_id}": c for c in rows}


async def test_reports_from_telegram_show_in_vk_and_back(database_url: str, app_factory: Any) -> None:
    app: App = await app_factory(database_url)
    telegram, vkontakte = tg(app), vk(app)
    await consent(telegram)
    tg_number = await file_report(telegram)
    await consent(vkontakte)
    assert "нет обращений" in await my_reports(vkontakte)

    code = await code_from_screen(telegram)
    assert set(code) <= set(LINK_ALPHABET) and len(code) == 8
    assert "ни с чем не связан" in telegram.text() and "10 минут" in telegram.text()
    await vkontakte.say(f"/link {code}")
    assert "Аккаунты связаны: Telegram" in vkontakte.text()
    assert "Главное меню" in vkontakte.text()

    assert f"№ {tg_number}" in await my_reports(vkontakte)
    await vkontakte.press(tg_number)
    assert f"Обращение № {tg_number}" in vkontakte.text() and "Статус:" in vkontakte.text()

    vk_number = await file_report(vkontakte, ROADS)
    listing = await my_reports(telegram)
    assert f"№ {tg_number}" in listing and f"№ {vk_number}" in listing and "из 2" in listing

    # Both screens now say who is linked with whom.
    await code_from_screen(vkontakte)
    assert "(VK) связан с: Telegram" in vkontakte.text()
    await code_from_screen(telegram)
    assert "(Telegram) связан с: VK" in telegram.text()

    rows = await citizens(app)
    tg_row, vk_row = rows["tg:1001"], rows["vk:7001"]
    assert tg_row.person_id == vk_row.person_id == min(tg_row.id, vk_row.id)
    # The code was used up; only the codes just shown on the two screens exist.
    async with app.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(LinkCode)) == 2


async def test_follow_up_from_the_linked_messenger_reaches_the_report(
    sqlite_url: str, app_factory: Any
) -> None:
    app: App = await app_factory(sqlite_url)
    telegram, vkontakte = tg(app), vk(app)
    await consent(telegram)
    await file_report(telegram)
    await consent(vkontakte)
    await link(telegram, vkontakte)
    await vkontakte.say("Добавлю: в соседнем подъезде тоже холодно.")
    assert "Передал ваше сообщение" in vkontakte.text()
    async with app.db.session() as session:
        relayed = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "topic")
        )
    assert relayed == 1


async def test_code_typed_on_the_enter_step(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    telegram, vkontakte = tg(app), vk(app)
    await consent(telegram)
    await consent(vkontakte)
    code = await code_from_screen(telegram)

    await vkontakte.say("/link")
    assert CODE.search(vkontakte.text())
    await vkontakte.press("Ввести код")
    assert "Отправьте код" in vkontakte.text()
    # Back returns to the link screen (with a fresh code), not to nowhere.
    await vkontakte.press("Назад")
    assert CODE.search(vkontakte.text()) and await app.services.state.get("vk:7001") is None
    await vkontakte.press("Ввести код")
    await vkontakte.photos("photo-x")
    assert "текстовым сообщением" in vkontakte.text()
    await vkontakte.say("ZZZZ-ZZZZ")
    assert WRONG in vkontakte.text() and "Отправьте код" in vkontakte.text()
    # Case, spaces and dashes do not matter.
    await vkontakte.say(f" {code[:4].lower()}-{code[4:].lower()} ")
    assert "Аккаунты связаны: Telegram" in vkontakte.text() and "Главное меню" in vkontakte.text()
    assert await app.services.state.get("vk:7001") is None


async def test_enter_step_cancel_and_typed_cancel(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    chat = vk(app)
    await consent(chat)
    await chat.say("/link")
    await chat.press("Ввести код")
    await chat.say("✖️ Отмена")
    assert "Отменено" in chat.text() and "Главное меню" in chat.text()
    assert await app.services.state.get("vk:7001") is None


async def test_an_unfinished_report_is_not_dropped(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    telegram, vkontakte = tg(app), vk(app)
    await consent(telegram)
    await consent(vkontakte)
    code = await code_from_screen(telegram)
    await vkontakte.say("/report")
    await vkontakte.say(HEATING)
    await vkontakte.say("/link")
    await vkontakte.press("Ввести код")
    assert "завершите или отмените" in vkontakte.text() and "Приложите фото" in vkontakte.text()
    # /link CODE works in the middle of a report and leaves the draft where it was.
    await vkontakte.say(f"/link {code}")
    assert "Аккаунты связаны" in vkontakte.text()
    assert any("Продолжить черновик" in b for s in vkontakte.last for b in s.buttons)
    state = await app.services.state.get("vk:7001")
    assert state is not None and state["step"] == "i.photos"


async def test_expired_code_is_refused(database_url: str, app_factory: Any, clock: ManualClock) -> None:
    app: App = await app_factory(database_url)
    telegram, vkontakte = tg(app), vk(app)
    await consent(telegram)
    await consent(vkontakte)
    code = await code_from_screen(telegram)
    clock.advance(timedelta(minutes=11))
    await vkontakte.say(f"/link {code}")
    assert WRONG in vkontakte.text()
    await link(telegram, vkontakte)


async def test_own_code_is_refused_and_stays_usable(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    telegram, vkontakte = tg(app), vk(app)
    await consent(telegram)
    await consent(vkontakte)
    code = await code_from_screen(telegram)
    await telegram.say(f"/link {code}")
    assert "код этого же аккаунта" in telegram.text()
    await vkontakte.say(f"/link {code}")
    assert "Аккаунты связаны" in vkontakte.text()


async def test_code_from_the_same_messenger_is_refused(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    first, second, vkontakte = tg(app), tg(app, "1002"), vk(app)
    for chat in (first, second, vkontakte):
        await consent(chat)
    code = await code_from_screen(first)
    await second.say(f"/link {code}")
    assert "в этом же мессенджере" in second.text()
    assert all(c.person_id is None for c in (await citizens(app)).values())
    # Refusing it did not use it up.
    await vkontakte.say(f"/link {code}")
    assert "Аккаунты связаны" in vkontakte.text()


async def test_code_works_once_and_a_new_code_replaces_the_old(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    telegram, vkontakte, other_vk = tg(app), vk(app), vk(app, "7002")
    for chat in (telegram, vkontakte, other_vk):
        await consent(chat)
    old = await code_from_screen(telegram)
    new = await code_from_screen(telegram)
    await vkontakte.say(f"/link {old}")
    assert WRONG in vkontakte.text()
    await vkontakte.say(f"/link {new}")
    assert "Аккаунты связаны" in vkontakte.text()
    await other_vk.say(f"/link {new}")
    assert WRONG in other_vk.text()
    assert (await citizens(app))["vk:7002"].person_id is None


async def test_already_linked(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    telegram, vkontakte = tg(app), vk(app)
    await consent(telegram)
    await consent(vkontakte)
    await link(telegram, vkontakte)
    code = await code_from_screen(vkontakte)
    await telegram.say(f"/link {code}")
    assert "уже связаны" in telegram.text()


async def test_wrong_codes_are_limited_across_restarts(
    database_url: str, app_factory: Any, clock: ManualClock
) -> None:
    app: App = await app_factory(database_url)
    telegram, vkontakte = tg(app), vk(app)
    await consent(telegram)
    await consent(vkontakte)
    # Text that cannot be a code uses no attempt.
    await vkontakte.say("/link hello")
    assert WRONG in vkontakte.text()
    for _ in range(5):
        await vkontakte.say("/link ZZZZZZZZ")
        assert WRONG in vkontakte.text()
    code = await code_from_screen(telegram)
    await vkontakte.say(f"/link {code}")
    assert "Слишком много неверных кодов" in vkontakte.text()

    # The count is in the database: a restarted bot still refuses.
    restarted: App = await app_factory(database_url)
    again = vk(restarted)
    await again.say(f"/link {code}")
    assert "Слишком много неверных кодов" in again.text()

    clock.advance(timedelta(minutes=61))
    await link(tg(restarted), again)


async def test_unlink(database_url: str, app_factory: Any) -> None:
    app: App = await app_factory(database_url)
    telegram, vkontakte = tg(app), vk(app)
    await consent(telegram)
    number = await file_report(telegram)
    await consent(vkontakte)
    await link(telegram, vkontakte)
    assert number in await my_reports(vkontakte)

    await code_from_screen(vkontakte)
    await vkontakte.press("Отвязать этот аккаунт")
    assert "Отвязать этот аккаунт от: Telegram?" in vkontakte.text()
    await vkontakte.press("Не отвязывать")
    assert "связь сохранена" in vkontakte.text()
    assert number in await my_reports(vkontakte)

    await code_from_screen(vkontakte)
    await vkontakte.press("Отвязать этот аккаунт")
    await vkontakte.press("✂️ Отвязать", contains=False)
    assert "Аккаунт отвязан" in vkontakte.text()
    assert "нет обращений" in await my_reports(vkontakte)
    assert number in await my_reports(telegram)
    assert all(c.person_id is None for c in (await citizens(app)).values())
    # An outdated confirmation changes nothing.
    await vkontakte.press_id("link:unlink-yes")
    assert "ни с чем не связан" in vkontakte.text()
    await code_from_screen(telegram)
    assert "Отвязать" not in " ".join(b for s in telegram.last for b in s.buttons)


async def test_forgetting_one_account_keeps_the_others(database_url: str, app_factory: Any) -> None:
    app: App = await app_factory(database_url)
    first, vkontakte, second = tg(app), vk(app), tg(app, "1002")
    for chat in (first, vkontakte, second):
        await consent(chat)
    first_number = await file_report(first)
    vk_number = await file_report(vkontakte, ROADS)
    second_number = await file_report(second)
    await link(first, vkontakte)
    # A second Telegram account joins through the VK account's code: one group of three.
    await link(vkontakte, second)
    listing = await my_reports(second)
    assert all(n in listing for n in (first_number, vk_number, second_number))
    first_id = (await citizens(app))["tg:1001"].id
    await code_from_screen(first)  # leaves a live code that must go with the account

    await first.say("/forget")
    await first.press("Удалить")
    assert "удалены" in first.text()

    rows = await citizens(app)
    assert "tg:1001" not in rows
    vk_row, second_row = rows["vk:7001"], rows["tg:1002"]
    # The group stays whole, labelled by a living member.
    assert vk_row.person_id == second_row.person_id == min(vk_row.id, second_row.id)
    for chat in (vkontakte, second):
        listing = await my_reports(chat)
        assert vk_number in listing and second_number in listing and first_number not in listing
    async with app.db.session() as session:
        assert (
            await session.scalar(
                select(func.count()).select_from(LinkCode).where(LinkCode.citizen_id == first_id)
            )
            == 0
        )
        report = await session.scalar(select(Report).where(Report.number == first_number))
        assert report is not None and report.citizen_id is None

    # Coming back makes a new, unlinked account.
    await consent(first)
    assert "нет обращений" in await my_reports(first)

    # The last two part: nobody is left in a group of one.
    await vkontakte.say("/link")
    await vkontakte.press("Отвязать этот аккаунт")
    await vkontakte.press("✂️ Отвязать", contains=False)
    assert all(c.person_id is None for c in (await citizens(app)).values())
    assert vk_number not in await my_reports(second)


async def test_linking_needs_consent(sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    stranger = vk(app)
    await stranger.say("/link ABCD2345")
    assert "согласие" in stranger.text()
    await stranger.press_id("link:enter")
    assert "согласие" in stranger.text()
    async with app.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Citizen)) == 0


def test_codes_are_normalised() -> None:
    assert normalize_code(" abcd-2345 ") == "ABCD2345"
    assert normalize_code("ABCD 2345") == "ABCD2345"
    assert normalize_code("abcd–2345") == "ABCD2345"
    assert {r.value for r in LinkResult} == {
        "linked",
        "already_linked",
        "invalid",
        "same_account",
        "same_platform",
        "too_many_attempts",
    }


async def test_an_expired_code_step_ends_quietly(
    sqlite_url: str, app_factory: Any, clock: ManualClock
) -> None:
    # The expiry warning is about unfinished reports; a side question just ends without one.
    app: App = await app_factory(sqlite_url, dialog_ttl_minutes=30)
    vkontakte = vk(app)
    await consent(vkontakte)
    await vkontakte.say("/link")
    await vkontakte.press("Ввести код")
    clock.advance(timedelta(minutes=31))
    await vkontakte.say("Здравствуйте, у меня вопрос")
    assert "устарел" not in vkontakte.text()
    assert await app.services.state.get("vk:7001") is None
