"""Repeated reports become one incident: citizens offered the same problem join it, the operator's
answer reaches every reporter with their own "Solved?", and a "no" goes on alone."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.app.wiring import App
from bot.services.reports.access import Actor
from storage.models import Incident, OutboxMessage, Report
from tests.harness.chat import Chat
from tests.harness.incidents import OPS_CHAT, bind_operator_chats, describe_at, finish

DARK = "Не горят фонари на улице, вечером совсем темно, страшно идти"
DARK_AGAIN = "Темно на улице, не работает уличное освещение уже третий день"
DARK_THIRD = "Уличные фонари не горят, на улице темно"
OPERATOR = Actor("700", "Ольга", OPS_CHAT)


@pytest.fixture
async def app(database_url: str, app_factory: Any) -> App:
    built: App = await app_factory(database_url)
    await bind_operator_chats(built)
    return built


async def reports(app: App) -> list[Report]:
    async with app.db.session() as session:
        return list(await session.scalars(select(Report).order_by(Report.id)))


async def to_citizens(app: App) -> list[OutboxMessage]:
    async with app.db.session() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "citizen").order_by(OutboxMessage.id)
        )
        return list(rows)


async def test_three_citizens_one_dark_street_one_answer(app: App) -> None:
    first = Chat(app, "1001")
    await first.consent()
    await describe_at(first, DARK, "Екатеринбург, ул. Ленина 24")
    assert "Похоже, об этом уже сообщили" not in first.text()
    number = await finish(first)

    second = Chat(app, "1002")
    await second.consent()
    await describe_at(second, DARK_AGAIN, "Екатеринбург, улица Ленина, д. 30")
    offer = second.text()
    assert "Похоже, об этом уже сообщили" in offer
    assert f"№ {number} · ЖКХ: ул. Ленина · 1 человек уже сообщил · направлено в орган" in offer
    # A neutral title only: no house, no words of the first citizen.
    assert "24" not in offer.replace(number, "") and "страшно" not in offer
    await second.press("Это моя проблема")
    joined = await finish(second)
    assert f"присоединено к № {number}" in second.text()

    third = Chat(app, "2001", platform="vk")
    await third.consent()
    await describe_at(third, DARK_THIRD, "Екатеринбург, Ленина 12")
    assert "2 человека уже сообщили" in third.text()
    await third.press("Это моя проблема")
    await finish(third)

    lead, follower, vk_follower = await reports(app)
    assert follower.incident_id == lead.incident_id == vk_follower.incident_id is not None
    async with app.db.session() as session:
        incident = await session.scalar(select(Incident))
        assert incident is not None and incident.lead_report_id == lead.id

    await app.actions.take(lead.id, OPERATOR)
    await app.actions.answer(lead.id, OPERATOR, "Линию освещения починили, фонари горят.")
    answers = [m for m in await to_citizens(app) if "починили" in str(m.payload)]
    assert sorted(m.target for m in answers) == ["1001", "1002", "2001"]
    assert {m.platform for m in answers} == {"tg", "vk"}
    assert {(await status_of(app, r.id)) for r in (lead, follower, vk_follower)} == {"answered"}

    # The second citizen says it is not solved: their report goes on alone with the same body.
    await second.press_id(f"fb:no:{follower.id}")
    assert "снова" in second.text().lower() or "работ" in second.text().lower()
    split = await report(app, follower.id)
    assert split.incident_id is None and split.status == "in_progress" and split.body_id == lead.body_id
    assert joined == split.number
    # The others keep their own "Solved?".
    await first.press_id(f"fb:yes:{lead.id}")
    assert (await status_of(app, lead.id)) == "closed"
    assert (await status_of(app, vk_follower.id)) == "answered"


async def status_of(app: App, report_id: int) -> str:
    return (await report(app, report_id)).status


async def report(app: App, report_id: int) -> Report:
    async with app.db.session() as session:
        found = await session.get(Report, report_id)
        assert found is not None
        return found


async def test_only_open_routed_reports_are_offered_and_offers_are_rate_limited(app: App) -> None:
    first = Chat(app, "1001")
    await first.consent()
    await describe_at(first, DARK, "Екатеринбург, ул. Ленина 24")
    await finish(first)
    [lead] = await reports(app)

    nosy = Chat(app, "1003")
    await nosy.consent()
    seen = 0
    for _ in range(8):
        await describe_at(nosy, DARK_AGAIN, "Екатеринбург, ул. Ленина 26")
        if "Похоже, об этом уже сообщили" in nosy.text():
            seen += 1
        await nosy.say("/cancel")
    assert seen == 6  # then the street's reports are no longer listed to this citizen this hour

    other = Chat(app, "1004")
    await other.consent()
    await app.actions.reject(lead.id, OPERATOR, "spam", None)
    await describe_at(other, DARK_AGAIN, "Екатеринбург, ул. Ленина 26")
    assert "Похоже, об этом уже сообщили" not in other.text()


async def test_another_street_or_problem_is_not_offered(app: App) -> None:
    first = Chat(app, "1001")
    await first.consent()
    await describe_at(first, DARK, "Екатеринбург, ул. Ленина 24")
    await finish(first)
    other = Chat(app, "1005")
    await other.consent()
    await describe_at(other, DARK_AGAIN, "Екатеринбург, ул. Малышева 24")
    assert "Похоже, об этом уже сообщили" not in other.text()
    await other.say("/cancel")
    await describe_at(other, "В подъезде прорвало трубу, течёт вода по стенам", "Екатеринбург, ул. Ленина 24")
    assert "Похоже, об этом уже сообщили" not in other.text()
