"""The binding service without any messenger: who may bind, what needs confirming, what is told to
which chat (outbox rows in the change's own transaction), and the audit trail."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app.wiring import App
from bot.delivery.outbox import views_of
from bot.services.chats import (
    BindingRefused,
    ChatBindings,
    Outcome,
    binding_of_body,
    binding_of_chat,
    comms_nonce,
    is_comms_chat,
)
from bot.services.staff.audit import AuditQuery, audit_events
from bot.services.staff.roles import NotAllowed, Principal
from storage.models import OutboxMessage

ADMIN = Principal.telegram(900, "Ольга")
OLD_CHAT, NEW_CHAT, COMMS_CHAT = -100_10, -100_20, -100_30


@pytest.fixture
async def app(database_url: str, app_factory: Any) -> App:
    built: App = await app_factory(database_url)
    await built.staff.add(Principal.shell(), "900", "admin")
    await built.staff.add(Principal.shell(), "901", "operator", "tsur")
    return built


def service(app: App) -> ChatBindings:
    return ChatBindings(app.db, app.staff, app.services.clock, app.services.catalog)


async def told(app: App) -> list[tuple[str, str]]:
    """(chat, message key) of every message queued for a chat."""
    async with app.db.session() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [(row.target, views_of(row.payload)[0].lines[0].key) for row in rows]


async def test_only_admins_and_the_shell_bind(app: App) -> None:
    bindings = service(app)
    body = app.services.catalog.route("housing", "ekaterinburg")
    for who in (
        Principal.telegram(555, "Чужой"),
        Principal.telegram(901, "Оператор ЦУР"),
        Principal.telegram(900, "Ольга", anonymous=True),
    ):
        with pytest.raises(NotAllowed):
            await bindings.bind(who, body, OLD_CHAT, confirmed=True)
        with pytest.raises(NotAllowed):
            await bindings.bind_comms(who, COMMS_CHAT)
        with pytest.raises(NotAllowed):
            await bindings.set_strict(who, body, True)
    async with app.db.session() as session:
        assert await binding_of_body(session, body) is None
    assert not await is_comms_chat(app.db, COMMS_CHAT)
    assert await audit_events(app.db, AuditQuery(action="bind")) == []

    change = await bindings.bind(Principal.shell(), body, OLD_CHAT, confirmed=False)
    assert change.outcome is Outcome.DONE
    # The shell speaks in no chat: the chat hears of its binding through the outbox.
    assert await told(app) == [(str(OLD_CHAT), "bind-done")]
    [event] = await audit_events(app.db, AuditQuery(action="bind"))
    assert (event.actor, event.role, event.subject) == ("cli", "shell", body)
    with pytest.raises(BindingRefused):
        await bindings.bind(ADMIN, "no-such-body", NEW_CHAT, confirmed=True)


async def test_moving_a_body_asks_first_then_tells_both_chats(app: App) -> None:
    bindings = service(app)
    body = app.services.catalog.route("housing", "ekaterinburg")
    other = app.services.catalog.route("health", "ekaterinburg")
    await bindings.bind(ADMIN, body, OLD_CHAT, confirmed=False, from_chat=OLD_CHAT)
    async with app.db.session() as session:
        first = await binding_of_body(session, body)
    assert first is not None and first.chat_id == OLD_CHAT
    assert await told(app) == []  # the admin was answered in the chat itself

    asked = await bindings.bind(ADMIN, body, NEW_CHAT, confirmed=False, from_chat=NEW_CHAT)
    assert (asked.outcome, asked.old_chat_id, asked.old_body_id) == (Outcome.CONFIRM, OLD_CHAT, None)
    async with app.db.session() as session:
        assert await binding_of_body(session, body) == first
    assert await told(app) == []

    moved = await bindings.bind(ADMIN, body, NEW_CHAT, confirmed=True, from_chat=NEW_CHAT)
    assert moved.outcome is Outcome.DONE and moved.old_chat_id == OLD_CHAT
    async with app.db.session() as session:
        now = await binding_of_body(session, body)
        assert await binding_of_chat(session, OLD_CHAT) is None
    assert now is not None and now.chat_id == NEW_CHAT and now.nonce != first.nonce
    assert await told(app) == [(str(OLD_CHAT), "bind-moved-away")]
    assert (await bindings.bind(ADMIN, body, NEW_CHAT, confirmed=False)).outcome is Outcome.UNCHANGED

    # A chat serving one body asked to serve another: confirmed too.
    swap = await bindings.bind(ADMIN, other, NEW_CHAT, confirmed=False, from_chat=NEW_CHAT)
    assert (swap.outcome, swap.old_chat_id, swap.old_body_id) == (Outcome.CONFIRM, None, body)
    events = await audit_events(app.db, AuditQuery(action="bind"))
    assert [(e.subject, e.detail["old_chat"], e.detail["new_chat"]) for e in events] == [
        (body, None, OLD_CHAT),
        (body, OLD_CHAT, NEW_CHAT),
    ]


async def test_unbind_strict_and_comms(app: App) -> None:
    bindings = service(app)
    body = app.services.catalog.route("housing", "ekaterinburg")
    await bindings.bind(ADMIN, body, OLD_CHAT, confirmed=False, from_chat=OLD_CHAT)

    assert (await bindings.set_strict(ADMIN, body, True, from_chat=OLD_CHAT)).outcome is Outcome.DONE
    assert (await bindings.set_strict(ADMIN, body, True)).outcome is Outcome.UNCHANGED
    with pytest.raises(BindingRefused) as refused:
        await bindings.set_strict(ADMIN, "tsur", False)
    assert refused.value.reason == "strict-tsur-always"
    # Strict mode belongs to the body: moving its chat keeps it.
    await bindings.bind(ADMIN, body, NEW_CHAT, confirmed=True, from_chat=NEW_CHAT)
    async with app.db.session() as session:
        moved = await binding_of_body(session, body)
    assert moved is not None and moved.strict and not moved.members_may_act

    asked = await bindings.unbind(ADMIN, chat_id=NEW_CHAT, confirmed=False, from_chat=NEW_CHAT)
    assert asked.outcome is Outcome.CONFIRM and asked.body_id == body
    done = await bindings.unbind(Principal.shell(), body_id=body, confirmed=True)
    assert done.outcome is Outcome.DONE
    assert (await bindings.unbind(ADMIN, chat_id=NEW_CHAT, confirmed=True)).outcome is Outcome.NOT_BOUND
    assert (str(NEW_CHAT), "unbind-done") in await told(app)

    assert (await bindings.bind_comms(ADMIN, COMMS_CHAT, from_chat=COMMS_CHAT)).outcome is Outcome.DONE
    async with app.db.session() as session:
        nonce = await comms_nonce(session, COMMS_CHAT)
    assert nonce
    assert (await bindings.bind_comms(ADMIN, COMMS_CHAT)).outcome is Outcome.UNCHANGED
    assert (await bindings.unbind_comms(ADMIN, COMMS_CHAT)).outcome is Outcome.DONE
    assert not await is_comms_chat(app.db, COMMS_CHAT)
    assert (await bindings.bind_comms(ADMIN, COMMS_CHAT)).outcome is Outcome.DONE
    async with app.db.session() as session:
        assert await comms_nonce(session, COMMS_CHAT) != nonce
        count = await session.scalar(select(func.count()).select_from(OutboxMessage))
    assert count == len(await told(app))
    actions = [e.action for e in await audit_events(app.db, AuditQuery())]
    assert actions == [
        "staff_add",
        "staff_add",
        "bind",
        "strict",
        "bind",
        "unbind",
        "comms_bind",
        "comms_unbind",
        "comms_bind",
    ]
