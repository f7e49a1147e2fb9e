"""Repeated reports through the real aiogram and vkbottle code against the local Bot API and VK API
servers: three citizens (two on Telegram, one on VK) report the same dark street minutes apart, the
second and third join the first report, the operator answers once in its topic, all three get the
answer and their own "Solved?", and the one who says "no" gets a report of their own back.
Then merging and splitting from the operator chat's card buttons."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.app.wiring import App
from bot.sandbox.telegram import FakeTelegramServer
from bot.sandbox.vk import FakeVkServer
from bot.services.staff.roles import Principal
from storage.models import Report, ReportThread
from tests.harness.citizens import Citizen, TgCitizen, vk_long_poll
from tests.harness.incidents import answered, operator_side
from tests.harness.pipeline import settled

DARK = "Не горят фонари на улице, вечером совсем темно, страшно идти"
DARK_AGAIN = "Темно на улице, не работает уличное освещение уже третий день"
DARK_THIRD = "Уличные фонари не горят, на улице темно"
OFFERED = "Похоже, об этом уже сообщили"


async def describe(
    citizen: Citizen, text: str, address: str, sector: str = "ЖКХ", *, consent: bool = True
) -> str:
    """Consent, the text, no photo, a typed address, the sector: the screen after the sector."""
    if consent:
        await citizen.command("/start")
        await citizen.press("✅ Согласен(на)")
    await citizen.press("📝 Сообщить о проблеме")
    await citizen.say(text)
    await citizen.press("Без фото", contains=True)
    await citizen.say(address)
    return await citizen.press(sector, contains=True)


async def send(citizen: Citizen) -> str:
    await citizen.press("Пропустить", contains=True)
    return await citizen.press("✅ Отправить")


async def reports(app: App) -> list[Report]:
    async with app.db.session() as session:
        return list(await session.scalars(select(Report).order_by(Report.id)))


async def thread_of(app: App, report_id: int) -> ReportThread | None:
    async with app.db.session() as session:
        return await session.get(ReportThread, report_id)


async def test_three_reporters_one_answer_on_both_messengers(database_url: str, app_factory: Any) -> None:
    app: App = await app_factory(database_url)
    async with (
        FakeTelegramServer() as tg,
        FakeVkServer() as vk_server,
        operator_side(app, tg) as side,
        vk_long_poll(app, vk_server, photo_bot=side.bot) as vk,
    ):
        ops, admin, body_id = side.ops, side.admin, side.body_id
        first = TgCitizen(tg.user(501))
        assert OFFERED not in await describe(first, DARK, "Екатеринбург, ул. Ленина 24")
        assert "принято" in await send(first)
        await settled(app)
        [lead] = await reports(app)

        second = TgCitizen(tg.user(502))
        offer = await describe(second, DARK_AGAIN, "Екатеринбург, улица Ленина, д. 30")
        assert OFFERED in offer and f"№ {lead.number} · ЖКХ: ул. Ленина" in offer
        await second.press("Это моя проблема", contains=True)
        assert f"присоединено к № {lead.number}" in await send(second)

        third = vk.citizen(1)
        offer = await describe(third, DARK_THIRD, "Екатеринбург, Ленина 12")
        assert OFFERED in offer and "2 человека уже сообщили" in offer
        await third.press("Это моя проблема", contains=True)
        assert f"присоединено к № {lead.number}" in await send(third)
        await settled(app)

        _, joined_tg, joined_vk = await reports(app)
        # The joined reports have no topic of their own; their words are in the lead's topic.
        assert await thread_of(app, joined_tg.id) is None and await thread_of(app, joined_vk.id) is None
        thread = await thread_of(app, lead.id)
        assert thread is not None
        topic = [m.text or "" for m in ops.messages(thread.thread_id)]
        assert any(DARK_AGAIN in t for t in topic) and any(DARK_THIRD in t for t in topic)
        card = next(m for m in reversed(ops.messages(thread.thread_id)) if m.inline_buttons)
        assert "Сообщили: 3 чел." in (card.text or "")

        await ops.press(admin, "✅ Ответить", message_thread_id=thread.thread_id)
        await ops.replies()
        await ops.send_text(admin, "Линию освещения починили", message_thread_id=thread.thread_id)
        await ops.replies()
        await settled(app)
        assert "Линию освещения починили" in "\n".join(m.text or "" for m in first.user.messages())
        assert "Линию освещения починили" in "\n".join(m.text or "" for m in second.user.messages())
        to_vk = "\n".join(m.text for m in vk_server.messages_to(third.user.user_id))
        assert "Линию освещения починили" in to_vk and "решена" in to_vk

        # Each has their own "Solved?": the second says no and gets a report of their own back.
        assert "возвращено в работу" in await second.press("❌ Нет, не решена")
        await settled(app)
        split = next(r for r in await reports(app) if r.id == joined_tg.id)
        assert split.incident_id is None and split.status == "in_progress" and split.body_id == body_id
        own = await thread_of(app, split.id)
        assert own is not None and own.thread_id != thread.thread_id
        assert any("отделено" in (m.text or "") for m in ops.messages(thread.thread_id))
        assert "закрыто" in await first.press("✅ Да, решена")
        assert "закрыто" in await third.press("✅ Да, решена")
    statuses = {r.id: r.status for r in await reports(app)}
    assert statuses == {lead.id: "closed", joined_tg.id: "in_progress", joined_vk.id: "closed"}
    assert vk_server.max_rps <= 20


async def test_merge_and_split_from_the_operator_chat(database_url: str, app_factory: Any) -> None:
    app: App = await app_factory(database_url)
    async with FakeTelegramServer() as tg, operator_side(app, tg) as side:
        ops, admin = side.ops, side.admin
        first = TgCitizen(tg.user(501))
        await describe(first, DARK, "Екатеринбург, ул. Ленина 24")
        await send(first)
        second = TgCitizen(tg.user(502))
        assert OFFERED in await describe(second, DARK_AGAIN, "Екатеринбург, ул. Ленина 28")
        await second.press("Нет, другое", contains=True)
        assert "принято" in await send(second)
        await settled(app)
        lead, other = await reports(app)
        own = await thread_of(app, other.id)
        assert own is not None
        card = next(m for m in reversed(ops.messages(own.thread_id)) if m.inline_buttons)
        assert f"Похоже на: №{lead.number}" in (card.text or "")

        await ops.press(
            admin, f"Объединить с № {lead.number}", contains=True, message_thread_id=own.thread_id
        )
        await answered(tg, "Объединено.")
        await settled(app)
        lead, other = await reports(app)
        assert other.incident_id is not None and other.incident_id == lead.incident_id
        assert lead.answer_due <= other.answer_due
        assert any("объединено" in (m.text or "").lower() for m in second.user.messages())
        merged_card = next(m for m in ops.messages(own.thread_id) if m.message_id == card.message_id)
        assert f"Объединено с № {lead.number}" in (merged_card.text or "")
        assert merged_card.inline_buttons == ["↩️ Отделить"]
        lead_thread = await thread_of(app, lead.id)
        assert lead_thread is not None
        lead_card = next(m for m in reversed(ops.messages(lead_thread.thread_id)) if m.inline_buttons)
        assert "Сообщили: 2 чел." in (lead_card.text or "")

        await ops.press(admin, "↩️ Отделить", message_thread_id=own.thread_id)
        await answered(tg, "Отделено")
        await settled(app)
        _, other = await reports(app)
        assert other.incident_id is None
        back = next(m for m in ops.messages(own.thread_id) if m.message_id == card.message_id)
        assert "✅ Ответить" in back.inline_buttons


async def test_tsur_opens_an_incident_by_hand_and_a_citizen_joins_it(
    database_url: str, app_factory: Any
) -> None:
    app: App = await app_factory(database_url)
    await app.staff.add(Principal.shell(), "800", "operator", "tsur")
    async with FakeTelegramServer() as tg, operator_side(app, tg, "energy") as side:
        energy, body_id = side.ops, side.body_id
        nobody = TgCitizen(tg.user(555))
        refused = await nobody.command("/incident energy ekaterinburg Нет света, ул. Ленина")
        assert "Инцидент" not in refused and (await reports(app)) == []

        anna = TgCitizen(tg.user(800, first_name="Анна"))
        opened = await anna.command("/incident energy ekaterinburg Нет света, ул. Ленина")
        assert "Инцидент № " in opened and "открыт" in opened
        await settled(app)
        [lead] = await reports(app)
        assert lead.citizen_id is None and lead.body_id == body_id
        assert any("Нет света" in (m.text or "") for m in energy.messages())

        citizen = TgCitizen(tg.user(501))
        offer = await describe(
            citizen,
            "Нет света во всём доме и на улице, отключили электричество",
            "Екатеринбург, ул. Ленина 5",
        )
        assert OFFERED not in offer  # ЖКХ is another sector
        await citizen.command("/cancel")
        offer = await describe(
            citizen,
            "Нет света во всём доме и на улице, отключили электричество",
            "Екатеринбург, ул. Ленина 5",
            "Энергетика",
            consent=False,
        )
        assert OFFERED in offer and "Нет света, ул. Ленина" in offer
        await citizen.press("Это моя проблема", contains=True)
        assert f"присоединено к № {lead.number}" in await send(citizen)
