"""Citizen transcripts, written once and run on Telegram and on VK through the real libraries.

Same inputs, same outcome in the database: only the platform column differs.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app.wiring import App
from storage.models import Citizen, Report, StatusChange
from tests.harness.citizens import Citizen as CitizenClient
from tests.harness.citizens import messenger

HEATING = (
    "Добрый день! В доме по улице Малышева, 30 уже неделю нет горячей воды и отопления, "
    "батареи холодные. УК не отвечает. Просим принять меры."
)
EKB = (56.8389, 60.6057)

PLATFORMS = pytest.mark.parametrize("platform", ["tg", "vk"])


async def consent_and_describe(citizen: CitizenClient) -> None:
    assert "персональных данных" in await citizen.command("/start")
    assert "Главное меню" in await citizen.press("✅ Согласен(на)")
    assert "Опишите проблему" in await citizen.press("📝 Сообщить о проблеме")
    assert "Приложите фото" in await citizen.say(HEATING)


@PLATFORMS
async def test_full_intake(platform: str, database_url: str, app_factory: Any) -> None:
    app: App = await app_factory(database_url)
    async with messenger(platform, app) as chat:
        citizen = chat.citizen(1)
        await consent_and_describe(citizen)
        # Two photos, one dialog step, one answer (an album on Telegram, one message on VK).
        assert "Сейчас приложено: 2" in await citizen.photos(2)
        await citizen.press("➡️ Далее")
        text = await citizen.location(*EKB)
        assert "Место: Екатеринбург" in text and "Похоже, это: ЖКХ" in text
        await citizen.press("ЖКХ", contains=True)
        summary = await citizen.phone("+79120000001")
        assert "Проверьте обращение" in summary and "Фото: 2" in summary
        final = await citizen.press("✅ Отправить")
        assert "принято" in final
        assert "Ваши обращения (1–1 из 1)" in await citizen.command("/my")
    async with app.db.session() as session:
        report = await session.scalar(select(Report))
        assert report is not None
        changes = list(await session.scalars(select(StatusChange).where(StatusChange.report_id == report.id)))
        owner = await session.get(Citizen, report.citizen_id)
    assert report.platform == platform and owner is not None and owner.platform_user_id == citizen.user_id
    assert report.number is not None and report.number in final
    assert report.sector_id == "housing" and report.municipality_id == "ekaterinburg"
    assert report.body_id == app.services.catalog.route("housing", "ekaterinburg")
    assert len(report.photos) == 2
    assert report.phone == "+79120000001"
    assert [c.to_status for c in changes] == ["new", "routed"]


@PLATFORMS
async def test_typed_address_and_no_phone(platform: str, sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    async with messenger(platform, app) as chat:
        citizen = chat.citizen(2)
        await consent_and_describe(citizen)
        await citizen.press("➡️ Без фото")
        assert "Каменск-Уральский" in await citizen.say("г. Каменск-Уральский, ул. Ленина 5")
        await citizen.press("ЖКХ", contains=True)
        assert "без телефона" in await citizen.press("Пропустить")
        assert "принято" in await citizen.press("✅ Отправить")
    async with app.db.session() as session:
        report = await session.scalar(select(Report))
    assert report is not None and report.address == "г. Каменск-Уральский, ул. Ленина 5"
    assert report.municipality_id is not None and "kamensk" in report.municipality_id
    assert report.phone is None and report.platform == platform


@PLATFORMS
async def test_cancel_midway(platform: str, sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    async with messenger(platform, app) as chat:
        citizen = chat.citizen(3)
        await consent_and_describe(citizen)
        await citizen.press("➡️ Без фото")
        assert "Отменено" in await citizen.press("✖️ Отмена")
    async with app.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 0


@PLATFORMS
async def test_english(platform: str, sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    async with messenger(platform, app) as chat:
        citizen = chat.citizen(4, lang="en")
        assert "consent" in await citizen.command("/start")
        await citizen.press("✅ I agree")
        await citizen.press("📝 Report a problem")
        await citizen.say("There is a huge pothole on the road near the bus stop, cars damage wheels")
        await citizen.press("➡️ No photos")
        assert "Place: Екатеринбург" in await citizen.location(*EKB)
        await citizen.press("Roads", contains=True)
        await citizen.press("Skip")
        assert "Report No." in await citizen.press("✅ Send")
    async with app.db.session() as session:
        report = await session.scalar(select(Report))
    assert report is not None and report.language == "en" and report.sector_id == "roads"


@PLATFORMS
async def test_bad_input(platform: str, sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    async with messenger(platform, app) as chat:
        citizen = chat.citizen(5)
        await citizen.command("/start")
        await citizen.press("✅ Согласен(на)")
        await citizen.press("📝 Сообщить о проблеме")
        assert "Стикер" in await citizen.sticker()
        assert "неизвестна" in await citizen.command("/whatever")
        long_text = ("Течёт крыша над подъездом, вода льётся по стенам до первого этажа. " * 200)[:10_000]
        assert "Приложите фото" in await citizen.say(long_text)
    async with app.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 0
        assert await session.scalar(select(func.count()).select_from(Citizen)) == 1


@PLATFORMS
async def test_menu_help_language_and_my_reports(platform: str, sqlite_url: str, app_factory: Any) -> None:
    app: App = await app_factory(sqlite_url)
    async with messenger(platform, app) as chat:
        citizen = chat.citizen(6)
        await citizen.command("/start")
        menu = await citizen.press("✅ Согласен(на)")
        assert "Главное меню" in menu
        assert "Команды:" in await citizen.press("❓ Помощь")
        assert "нет обращений" in (await citizen.command("/my")).lower()
        await citizen.command("/language")
        assert "Main menu" in await citizen.press("🇬🇧 English")
        assert "Describe the problem" in await citizen.press("📝 Report a problem")
        assert "Cancelled" in await citizen.command("/cancel")
    async with app.db.session() as session:
        owner = await session.scalar(select(Citizen))
    assert owner is not None and owner.language == "en" and owner.platform == platform
