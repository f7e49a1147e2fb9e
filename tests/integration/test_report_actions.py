"""Operator actions and citizen follow-ups without any messenger: lifecycle, permissions, and the
outbox rows each change writes in its own transaction."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.app.wiring import App
from bot.services.chats import bind_chat
from bot.services.reports.access import ActionRefused, Actor
from bot.services.staff.roles import Principal
from storage.models import OutboxMessage, Report
from tests.harness.chat import Chat
from tests.harness.filing import file_directly

OPS_CHAT = -100_1
TSUR_CHAT = -100_2
OTHER_CHAT = -100_3
TEXT = "Во дворе дома неделю не вывозят мусор, контейнеры переполнены, крысы бегают"


async def outbox(app: App, kind: str | None = None) -> list[OutboxMessage]:
    async with app.db.session() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind is not None:
            query = query.where(OutboxMessage.kind == kind)
        return list(await session.scalars(query))


async def status(app: App, report_id: int) -> str:
    async with app.db.session() as session:
        report = await session.get(Report, report_id)
        assert report is not None
        return report.status


async def file(app: App, user_id: str = "1001", sector: str = "housing") -> tuple[int, int]:
    return await file_directly(app, user_id, TEXT, sector=sector)


@pytest.fixture
async def app(database_url: str, app_factory: Any) -> App:
    built: App = await app_factory(database_url)
    body = built.services.catalog.route("housing", "ekaterinburg")
    await bind_chat(built.db, body, OPS_CHAT, "tg:1")
    await bind_chat(built.db, "tsur", TSUR_CHAT, "tg:1")
    other = next(b for b in built.services.catalog.bodies if b not in (body, "tsur"))
    await bind_chat(built.db, other, OTHER_CHAT, "tg:1")
    return built


OPERATOR = Actor("700", "Ольга", OPS_CHAT)


async def test_filing_queues_the_card_in_the_same_transaction(app: App) -> None:
    report_id, _ = await file(app)
    [card] = await outbox(app, "report_card")
    assert card.report_id == report_id and card.target == await _body(app, report_id)
    # Filing the same draft again queues nothing new.
    await file(app)
    assert len(await outbox(app, "report_card")) == 1


async def _body(app: App, report_id: int) -> str:
    async with app.db.session() as session:
        report = await session.get(Report, report_id)
        assert report is not None
        return report.body_id


async def test_take_notifies_citizen_and_refreshes_card(app: App) -> None:
    report_id, _ = await file(app)
    await app.actions.take(report_id, OPERATOR)
    assert await status(app, report_id) == "in_progress"
    [note] = await outbox(app, "citizen")
    assert note.target == "1001" and note.report_id == report_id
    assert note.payload["views"][0]["lines"][0]["key"] == "notify-status"
    assert len(await outbox(app, "report_card")) == 2
    with pytest.raises(ActionRefused, match="op-already-yours"):
        await app.actions.take(report_id, OPERATOR)


async def test_only_the_bodys_chat_or_tsur_may_act(app: App) -> None:
    report_id, _ = await file(app)
    with pytest.raises(ActionRefused, match="op-not-your-report"):
        await app.actions.take(report_id, Actor("701", "Чужой", OTHER_CHAT))
    with pytest.raises(ActionRefused, match="op-chat-not-bound"):
        await app.actions.take(report_id, Actor("702", "Никто", -999))
    # The ЦУР chat is strict: its registered operators act on every report.
    await app.staff.add(Principal.shell(), "703", "operator", "tsur")
    await app.actions.take(report_id, Actor("703", "ЦУР", TSUR_CHAT))
    assert await status(app, report_id) == "in_progress"


async def test_clarify_reply_answer_reopen_and_close(app: App) -> None:
    report_id, _ = await file(app)
    await app.actions.ask_clarification(report_id, OPERATOR, "Какой номер дома?")
    assert await status(app, report_id) == "needs_info"
    chat = Chat(app)
    await chat.say("Дом 15, второй подъезд")
    assert "Передал" in chat.text()
    assert await status(app, report_id) == "in_progress"
    [relay] = await outbox(app, "topic")
    assert relay.target == f"report:{report_id}"
    assert relay.payload["views"][0]["lines"][1]["args"]["text"] == "Дом 15, второй подъезд"

    await app.actions.answer(report_id, OPERATOR, "Контейнеры вывезены")
    assert await status(app, report_id) == "answered"
    await chat.press_id(f"fb:no:{report_id}")
    assert "возвращено в работу" in chat.text()
    assert await status(app, report_id) == "in_progress"
    await app.actions.answer(report_id, OPERATOR, "Вывезли повторно, график изменён")
    await chat.press_id(f"fb:yes:{report_id}")
    assert "закрыто" in chat.text()
    assert await status(app, report_id) == "closed"
    # A closed report accepts neither actions nor feedback.
    with pytest.raises(ActionRefused):
        await app.actions.answer(report_id, OPERATOR, "ещё")
    await chat.press_id(f"fb:yes:{report_id}")
    assert "не ожидается" in chat.text()


async def test_feedback_on_someone_elses_report_is_refused(app: App) -> None:
    report_id, _ = await file(app)
    await app.actions.answer(report_id, OPERATOR, "Готово")
    stranger = Chat(app, user_id="555")
    await app.services.citizens.give_consent("tg", "555", "ru")
    await stranger.press_id(f"fb:yes:{report_id}")
    assert "не ожидается" in stranger.text()
    assert await status(app, report_id) == "answered"


async def test_reject_tells_the_reason(app: App) -> None:
    report_id, _ = await file(app)
    await app.actions.reject(report_id, OPERATOR, "competence", None)
    assert await status(app, report_id) == "rejected"
    [note] = await outbox(app, "citizen")
    keys = [line["key"] for line in note.payload["views"][0]["lines"]]
    assert keys == ["notify-rejected", "reject-reason-competence"]


async def test_operator_relay_and_forgotten_citizen(app: App) -> None:
    report_id, citizen_id = await file(app)
    await app.actions.relay_to_citizen(report_id, OPERATOR, "Бригада выехала", ("photo-1",), (), 42)
    [note] = await outbox(app, "citizen")
    assert note.payload["photos"] == ["photo-1"]
    # The same Telegram message relayed twice (a redelivered update) is queued once.
    await app.actions.relay_to_citizen(report_id, OPERATOR, "Бригада выехала", ("photo-1",), (), 42)
    assert len(await outbox(app, "citizen")) == 1
    # Once forgotten, the relay not yet delivered is dropped and nothing new is queued for them.
    await app.services.citizens.forget(citizen_id)
    await app.actions.take(report_id, OPERATOR)
    assert await outbox(app, "citizen") == []


async def test_several_open_reports_ask_which(app: App) -> None:
    first, _ = await file(app, sector="housing")
    second, _ = await file(app, sector="waste")
    chat = Chat(app)
    await chat.say("Дополнение: проблема повторилась сегодня утром")
    assert "К какому обращению" in chat.text()
    await chat.press_id(f"r.pick:{second}")
    assert "Передал" in chat.text()
    [relay] = await outbox(app, "topic")
    assert relay.report_id == second
    await chat.press_id(f"r.pick:{first}")
    assert "неактуальна" in chat.text()


async def test_transfer_routes_again_with_fresh_deadlines(app: App) -> None:
    report_id, _ = await file(app)
    await app.actions.take(report_id, OPERATOR)
    async with app.db.session() as session:
        before = await session.get(Report, report_id)
        assert before is not None
    await app.actions.transfer(report_id, OPERATOR, "health")
    async with app.db.session() as session:
        report = await session.get(Report, report_id)
        assert report is not None
    assert report.status == "routed" and report.sector_id == "health"
    assert report.body_id == app.services.catalog.route("health", "ekaterinburg") != before.body_id
    assert report.assignee_id is None and report.first_reaction_at is None
    cards = await outbox(app, "report_card")
    assert cards[-1].target == report.body_id
    with pytest.raises(ActionRefused):
        await app.actions.transfer(report_id, OPERATOR, "no-such-sector")
    # The old body no longer acts on it.
    with pytest.raises(ActionRefused, match="op-not-your-report"):
        await app.actions.take(report_id, OPERATOR)


async def test_rating_after_closing_with_optional_comment(app: App) -> None:
    report_id, _ = await file(app)
    await app.actions.answer(report_id, OPERATOR, "Сделано")
    chat = Chat(app)
    await chat.press_id(f"rate:{report_id}:5")
    assert "не ожидается" in chat.text()  # not closed yet
    await chat.press_id(f"fb:yes:{report_id}")
    assert "от 1 до 5" in chat.text()
    await chat.press("4 ⭐")
    assert "комментарий" in chat.text()
    await chat.say("Быстро и вежливо, спасибо")
    assert "Комментарий сохранён" in chat.text() and "Главное меню" in chat.text()
    async with app.db.session() as session:
        report = await session.get(Report, report_id)
        assert report is not None
    assert (report.rating, report.rating_comment) == (4, "Быстро и вежливо, спасибо")
    await chat.press_id(f"rate:{report_id}:9")
    assert "неактуальна" in chat.text()
