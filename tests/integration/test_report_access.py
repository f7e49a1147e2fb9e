"""Who may act on a report and see its phone, and the audit row each action leaves — without any
messenger: chats bound to bodies, strict mode, the ЦУР chat, and the staff registry."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.app.wiring import App
from bot.services.chats import bind_chat
from bot.services.reports.access import ActionRefused, Actor
from bot.services.staff.audit import AuditQuery, audit_events
from bot.services.staff.roles import Principal
from storage.models import AuditEvent, OperatorChat, OutboxMessage, Report
from tests.harness.filing import file_directly

OPS_CHAT = -100_11
TSUR_CHAT = -100_12
OTHER_CHAT = -100_13
PHONE = "+79120000077"
TEXT = "Во дворе дома неделю не вывозят мусор, контейнеры переполнены, крысы бегают"

MEMBER = Actor("700", "Ольга", OPS_CHAT)
TSUR_MEMBER = Actor("703", "Иван", TSUR_CHAT)


@pytest.fixture
async def app(database_url: str, app_factory: Any) -> App:
    built: App = await app_factory(database_url)
    await bind_chat(built.db, housing(built), OPS_CHAT, "tg:1")
    await bind_chat(built.db, "tsur", TSUR_CHAT, "tg:1")
    await bind_chat(built.db, other_body(built), OTHER_CHAT, "tg:1")
    return built


def housing(app: App) -> str:
    return app.services.catalog.route("housing", "ekaterinburg")


def other_body(app: App) -> str:
    return next(b for b in app.services.catalog.bodies if b not in (housing(app), "tsur"))


async def file(app: App, user_id: str = "1001", sector: str = "housing", phone: str | None = PHONE) -> int:
    report_id, _ = await file_directly(app, user_id, TEXT, sector=sector, phone=phone)
    return report_id


async def make_strict(app: App, body_id: str) -> None:
    async with app.db.session() as session:
        chat = await session.get(OperatorChat, body_id)
        assert chat is not None
        chat.strict = True


async def audit(app: App, action: str) -> list[AuditEvent]:
    return await audit_events(app.db, AuditQuery(action=action))


async def refused(reason: str, pending: Any) -> None:
    with pytest.raises(ActionRefused) as caught:
        await pending
    assert caught.value.reason == reason


async def test_every_report_action_writes_one_audit_row(app: App) -> None:
    first = await file(app)
    second = await file(app, user_id="1002")
    await app.actions.take(first, MEMBER)
    await app.actions.ask_clarification(first, MEMBER, "Какой номер дома?")
    await app.actions.relay_to_citizen(first, MEMBER, "Бригада выехала", (), (), 42)
    # The same Telegram message again (a redelivered update): relayed and recorded once.
    await app.actions.relay_to_citizen(first, MEMBER, "Бригада выехала", (), (), 42)
    await app.actions.answer(first, MEMBER, "Вывезли")
    await app.actions.reject(second, MEMBER, "duplicate", None)
    third = await file(app, sector="roads")
    await app.staff.add(Principal.shell(), "703", "operator", "tsur")
    await app.actions.transfer(third, TSUR_MEMBER, "housing")
    # A refused action leaves no row: it did not happen.
    await refused("op-illegal-transition", app.actions.answer(second, MEMBER, "ещё"))

    rows = await audit(app, "report_action")
    assert [(r.report_id, r.detail["action"]) for r in rows] == [
        (first, "take"),
        (first, "clarify"),
        (first, "relay"),
        (first, "answer"),
        (second, "reject"),
        (third, "transfer"),
    ]
    assert {(r.actor, r.role, r.chat_id) for r in rows[:5]} == {("tg:700", "chat_member", OPS_CHAT)}
    assert (rows[5].actor, rows[5].role, rows[5].chat_id) == ("tg:703", "operator", TSUR_CHAT)
    assert rows[4].detail == {"action": "reject", "reason": "duplicate"}
    assert rows[5].detail["sector"] == "housing"


async def test_strict_chat_admits_registered_operators_and_admins_only(app: App) -> None:
    report_id = await file(app)
    await make_strict(app, housing(app))
    await refused("op-not-registered", app.actions.take(report_id, MEMBER))
    await refused("op-not-registered", app.actions.check(report_id, MEMBER))
    # An operator of another body holds nothing here.
    await app.staff.add(Principal.shell(), "700", "operator", other_body(app))
    await refused("op-not-registered", app.actions.take(report_id, MEMBER))
    async with app.db.session() as session:
        report = await session.get(Report, report_id)
        assert report is not None and report.status == "routed"
    assert await audit(app, "report_action") == []

    await app.staff.add(Principal.shell(), "700", "operator", housing(app))
    await app.actions.take(report_id, MEMBER)
    await app.staff.add(Principal.shell(), "800", "admin")
    await app.actions.ask_clarification(report_id, Actor("800", "Админ", OPS_CHAT), "Подъезд?")
    rows = await audit(app, "report_action")
    assert [(r.actor, r.role) for r in rows] == [("tg:700", "operator"), ("tg:800", "admin")]
    # A revoked role is refused at once.
    await app.staff.revoke(Principal.shell(), "700", "operator", housing(app))
    await refused("op-not-registered", app.actions.answer(report_id, MEMBER, "Готово"))


async def test_tsur_chat_is_strict_and_anonymous_actors_are_refused(app: App) -> None:
    report_id = await file(app)
    await refused("op-not-registered", app.actions.take(report_id, TSUR_MEMBER))
    await app.staff.add(Principal.shell(), "703", "operator", "tsur")
    await app.actions.take(report_id, TSUR_MEMBER)
    anonymous = Actor("1087968824", "Group", OPS_CHAT, anonymous=True)
    await refused("op-anonymous", app.actions.relay_to_citizen(report_id, anonymous, "Привет", (), (), 7))


async def test_the_phone_is_shown_to_the_responsible_bodys_chat_and_audited(app: App) -> None:
    report_id = await file(app)
    assert await app.actions.reveal_phone(report_id, MEMBER) == PHONE
    assert await app.actions.reveal_phone(report_id, MEMBER) == PHONE
    shown = await audit(app, "phone_shown")
    assert [(r.actor, r.role, r.chat_id, r.report_id) for r in shown] == [
        ("tg:700", "chat_member", OPS_CHAT, report_id)
    ] * 2
    async with app.db.session() as session:
        every_row = list(await session.scalars(select(AuditEvent)))
    assert not any(PHONE in repr((r.subject, r.detail)) for r in every_row)

    # Another body's chat, and the ЦУР chat while the body has a chat of its own, see nothing.
    await refused(
        "op-not-your-report", app.actions.reveal_phone(report_id, Actor("701", "Чужой", OTHER_CHAT))
    )
    await app.staff.add(Principal.shell(), "703", "operator", "tsur")
    await refused("op-phone-elsewhere", app.actions.reveal_phone(report_id, TSUR_MEMBER))
    # Strict mode: the registry decides.
    await make_strict(app, housing(app))
    await refused("op-not-registered", app.actions.reveal_phone(report_id, MEMBER))
    await app.staff.add(Principal.shell(), "700", "operator", housing(app))
    assert await app.actions.reveal_phone(report_id, MEMBER) == PHONE
    assert len(await audit(app, "phone_shown")) == 3

    no_phone = await file(app, user_id="1002", phone=None)
    await refused("op-no-phone", app.actions.reveal_phone(no_phone, MEMBER))
    await app.actions.reject(report_id, MEMBER, "spam", None)
    await refused("op-phone-closed", app.actions.reveal_phone(report_id, MEMBER))


async def test_a_body_without_a_chat_shows_its_phone_to_tsur_operators_and_admins_only(app: App) -> None:
    report_id = await file(app)
    async with app.db.session() as session:
        chat = await session.get(OperatorChat, housing(app))
        assert chat is not None
        await session.delete(chat)
    await refused("op-not-registered", app.actions.reveal_phone(report_id, TSUR_MEMBER))
    await app.staff.add(Principal.shell(), "703", "operator", "tsur")
    assert await app.actions.reveal_phone(report_id, TSUR_MEMBER) == PHONE
    await app.staff.add(Principal.shell(), "800", "admin")
    assert await app.actions.reveal_phone(report_id, Actor("800", "Админ", TSUR_CHAT)) == PHONE
    shown = await audit(app, "phone_shown")
    assert [(r.actor, r.role) for r in shown] == [("tg:703", "operator"), ("tg:800", "admin")]


async def test_reposting_a_card_queues_it_once_a_day(app: App) -> None:
    report_id = await file(app)

    async def cards() -> int:
        async with app.db.session() as session:
            rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "report_card"))
            return len(list(rows))

    assert await cards() == 1
    await app.actions.repost_card(report_id, MEMBER)
    await app.actions.repost_card(report_id, MEMBER)
    assert await cards() == 2
    await refused("op-not-your-report", app.actions.repost_card(report_id, Actor("701", "Чужой", OTHER_CHAT)))
    assert await cards() == 2
