"""/forget, checked the way an auditor would: after it, nothing anywhere in the database (or in
Redis) holds the citizen's phone, e-mail or messenger id, while the report itself stays for the
body that must answer it, its card refreshed."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import select

from bot.app.wiring import App
from bot.delivery.ports import Delivery, Outcome, Sent
from bot.services.chats import bind_chat
from bot.services.citizens.contacts_mask import mask_contacts
from bot.services.reports.access import Actor
from storage.models import Base, LinkCode, OutboxMessage, Report, StatusChange, Subscription
from tests.harness.chat import Chat
from tests.harness.stores import redis_url

USER_ID = "555123"
PHONE = "+79120000001"
EMAIL = "ivan.petrov@example.com"
OPS_CHAT = -100_77
OPERATOR = Actor("700", "Ольга", OPS_CHAT)
PROBLEM = (
    "В подъезде дома на Малышева, 30 неделю не горит свет, лампы перегорели. "
    f"Звоните +7 (912) 000-00-01 или пишите {EMAIL}"
)
# Every way the phone could have been written down or normalised.
PHONE_FORMS = ("+79120000001", "79120000001", "9120000001", "912) 000-00-01", "000-00-01")


@dataclass
class Recorder:
    """The Telegram side of delivery, reduced to "sent": what is sent matters here, not how."""

    platform: str = "tg"
    delivered: list[Delivery] = field(default_factory=list)

    async def deliver(self, delivery: Delivery) -> Outcome:
        self.delivered.append(delivery)
        return Sent()


@pytest.fixture(params=["sql", "redis"])
async def app(request: pytest.FixtureRequest, database_url: str, app_factory: Any) -> App:
    """The embedded setup (dialog state in SQL) and the scaled one (state and flood in Redis)."""
    if request.param == "sql":
        return await app_factory(database_url)  # type: ignore[no-any-return]
    url = redis_url()
    if url is None:
        pytest.skip("Redis not configured (REDIS_URL)")
    redis = Redis.from_url(url)
    await redis.flushdb()
    await redis.aclose()
    return await app_factory(database_url, redis_url=url)  # type: ignore[no-any-return]


async def file_with_phone(chat: Chat) -> int:
    await chat.say("/report")
    await chat.say(PROBLEM)
    await chat.press("Без фото")
    await chat.location(56.8389, 60.6057)
    await chat.press("Все темы")
    await chat.press("ЖКХ")
    await chat.contact(PHONE)
    assert "Проверьте обращение" in chat.text() and PHONE in chat.text()
    await chat.press("Отправить")
    assert "принято" in chat.text()
    async with chat.app.db.session() as session:
        report = await session.scalar(select(Report))
        assert report is not None and report.phone == PHONE
        return report.id


async def database_dump(app: App) -> str:
    """Every value of every row of every table, as text."""
    lines = []
    async with app.db.session() as session:
        for table in Base.metadata.sorted_tables:
            for row in await session.execute(select(table)):
                lines.append(f"{table.name}: " + " | ".join(str(value) for value in row))
    return "\n".join(lines)


async def outbox_payloads(app: App) -> str:
    async with app.db.session() as session:
        rows = await session.scalars(select(OutboxMessage))
        return "\n".join(json.dumps(row.payload, ensure_ascii=False) for row in rows)


async def redis_dump(app: App) -> str:
    assert app.redis is not None
    lines = []
    async for key in app.redis.scan_iter(match="*"):
        value = await app.redis.get(key) if await app.redis.type(key) == b"string" else b""
        lines.append(f"{key!r} = {value!r}")
    return "\n".join(lines)


async def count(app: App, model: type[Base]) -> int:
    async with app.db.session() as session:
        return len(list(await session.scalars(select(model))))


async def test_forget_leaves_nothing_that_reaches_the_person(app: App) -> None:
    body = app.services.catalog.route("housing", "ekaterinburg")
    await bind_chat(app.db, body, OPS_CHAT, "tg:1")
    worker = app.outbox_worker({"tg": Recorder()})
    chat = Chat(app, user_id=USER_ID)
    await chat.consent()
    report_id = await file_with_phone(chat)
    # Offered notices after the first report: yes.
    await chat.press("Да")
    assert await count(app, Subscription) >= 1
    await chat.say("/link")
    assert await count(app, LinkCode) == 1

    # Work on the report: a status message and a follow-up into the topic go out...
    await app.actions.take(report_id, OPERATOR)
    await chat.say("Дополнение: свет не горит и на втором этаже")
    assert "Передал" in chat.text()
    while await worker.run_once():
        pass
    # ...then a question waits for delivery, and the answer (with the phone again) waits too.
    await app.actions.ask_clarification(report_id, OPERATOR, "Уточните, пожалуйста, номер квартиры")
    await chat.say(f"Квартира 12, мой второй номер 8 912 000-00-01, почта {EMAIL}")
    async with app.db.session() as session:
        statuses = {(row.kind, row.status) for row in await session.scalars(select(OutboxMessage))}
    assert {("citizen", "sent"), ("citizen", "pending"), ("topic", "sent"), ("topic", "pending")} <= statuses
    before = await database_dump(app)
    assert USER_ID in before and "79120000001" in before and EMAIL in before

    await chat.say("/forget")
    await chat.press("Удалить")
    assert "удалены" in chat.text()

    everything = await database_dump(app) + "\n" + await outbox_payloads(app)
    for secret in (*PHONE_FORMS, EMAIL, "ivan.petrov", USER_ID):
        assert secret not in everything, f"{secret!r} survived /forget:\n{everything}"
    if app.redis is not None:
        keys = await redis_dump(app)
        assert USER_ID not in keys, keys

    # The report stays, with its words and no way back to the person; its card is queued again.
    async with app.db.session() as session:
        report = await session.get(Report, report_id)
        assert report is not None and report.citizen_id is None and report.phone is None
        assert report.text.endswith("Звоните *** или пишите ***@***")
        comments = [c.comment for c in await session.scalars(select(StatusChange)) if c.comment]
        assert "Квартира 12, мой второй номер ***, почта ***@***" in comments
        pending = {
            (row.kind, row.target)
            for row in await session.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending"))
        }
    assert pending == {("report_card", body)}
    assert await count(app, Subscription) == 0 and await count(app, LinkCode) == 0


@pytest.mark.parametrize(
    ("typed", "masked"),
    [
        ("Звоните +7 912 000-00-01!", "Звоните ***!"),
        ("тел. 8 (912) 000 00 01, 89120000001 или +7-912-000-0001", "тел. ***, *** или ***"),
        ("79120000001", "***"),
        ("пишите Ivan.Petrov+tsur@mail.example.ru или почта@мвд.рф", "пишите ***@*** или ***@***"),
        # Not phones: house numbers, years, postcodes, a short local number.
        (
            "дом 30, кв. 12, с 2024 года, индекс 620014, 123-45-67",
            "дом 30, кв. 12, с 2024 года, индекс 620014, 123-45-67",
        ),
    ],
)
def test_mask_contacts(typed: str, masked: str) -> None:
    assert mask_contacts(typed) == masked
    assert not re.search(r"\d{10}", mask_contacts(typed))
