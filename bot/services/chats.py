"""Operator chats bound to bodies: the one module that reads and writes `OperatorChat` and
`CommsChat`, so it alone says which chat works which body's queue.

`ChatBindings` is the checked way to change them (Telegram commands and the CLI alike); the bare
`bind_chat` below is for test set-up."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock, SystemClock
from bot.core.messages import Text, View
from bot.delivery.postbox import to_official
from bot.services.catalog import Catalog
from bot.services.staff.audit import AuditAction, record
from bot.services.staff.registry import StaffService
from bot.services.staff.roles import Grant, Principal, Right
from storage.db import Database
from storage.models import CommsChat, OperatorChat

TSUR_BODY = "tsur"
# Staff chats are told about bindings in Russian, as operators work.
STAFF_LANG = "ru"


@dataclass(frozen=True)
class Binding:
    """A chat that works one body's queue, as it is now."""

    body_id: str
    chat_id: int
    strict: bool
    # Signed into the chat's buttons: a new binding gets a new nonce, voiding the old buttons.
    nonce: str

    @property
    def members_may_act(self) -> bool:
        """Non-strict: every member of the chat acts (being there is the credential). The ЦУР chat,
        which acts on every report, is always strict."""
        return not self.strict and self.body_id != TSUR_BODY


def new_nonce() -> str:
    return secrets.token_hex(4)


def _binding(row: OperatorChat | None) -> Binding | None:
    return None if row is None else Binding(row.body_id, row.chat_id, row.strict, row.nonce)


async def binding_of_chat(session: AsyncSession, chat_id: int) -> Binding | None:
    """The body this chat works, if any."""
    return _binding(await session.scalar(select(OperatorChat).where(OperatorChat.chat_id == chat_id)))


async def binding_of_body(session: AsyncSession, body_id: str) -> Binding | None:
    """The chat that works this body's queue, if any."""
    return _binding(await session.get(OperatorChat, body_id))


async def comms_nonce(session: AsyncSession, chat_id: int) -> str | None:
    """The nonce of a comms chat's binding; None when the chat is no comms chat."""
    row = await session.get(CommsChat, chat_id)
    return None if row is None else row.nonce


async def bind_chat(db: Database, body_id: str, chat_id: int, by: str) -> None:
    """Make `chat_id` the operator chat of `body_id` (one chat per body, one body per chat).

    No checks: callers are the admin-checked binding flow and test set-up."""
    async with db.session() as session:
        for row in await session.scalars(
            select(OperatorChat).where((OperatorChat.body_id == body_id) | (OperatorChat.chat_id == chat_id))
        ):
            await session.delete(row)
        await session.flush()
        session.add(OperatorChat(body_id=body_id, chat_id=chat_id, bound_by=by, nonce=new_nonce()))


async def is_comms_chat(db: Database, chat_id: int) -> bool:
    """True when members of `chat_id` may compose notices there (a `/comms` chat)."""
    async with db.session() as session:
        return await session.get(CommsChat, chat_id) is not None


# ------------------------------------------------------------------------------ the binding service


class Outcome(StrEnum):
    DONE = "done"
    # Something would move (another chat's body, this chat's body): nothing changed, ask first.
    CONFIRM = "confirm"
    UNCHANGED = "unchanged"
    NOT_BOUND = "not_bound"


@dataclass(frozen=True)
class Change:
    """What a bind or unbind does, or would do once confirmed."""

    outcome: Outcome
    body_id: str
    chat_id: int
    # The chat that served `body_id` before (None when none, or it was `chat_id` itself).
    old_chat_id: int | None = None
    # The body `chat_id` served before (None when none, or it was `body_id` itself).
    old_body_id: str | None = None


class BindingRefused(Exception):
    """A request the binding service will not carry out; `reason` is a locale key."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ChatBindings:
    """Binds operator and comms chats: admins only (or the server's shell), audited, never silently.

    A rebinding that takes a body from another chat, or a chat from another body, only happens
    once confirmed. Every chat that loses or gains something is told: the one the admin is
    speaking in (`from_chat`) by the caller's own reply, every other one through the outbox, in
    the transaction of the change."""

    def __init__(self, db: Database, staff: StaffService, clock: Clock, catalog: Catalog) -> None:
        self._db = db
        self._staff = staff
        self._clock = clock
        self._catalog = catalog

    @property
    def clock(self) -> Clock:
        return self._clock

    async def require(self, who: Principal) -> Grant:
        """NotAllowed unless `who` may bind chats (for answers that show nothing of a chat)."""
        return await self._staff.require(who, Right.BIND_CHAT)

    def knows(self, body_id: str) -> bool:
        return body_id in self._catalog.bodies

    async def binding_of(self, chat_id: int) -> Binding | None:
        """What this chat is bound to now, if anything."""
        async with self._db.session() as session:
            return await binding_of_chat(session, chat_id)

    def body_name(self, body_id: str) -> str:
        body = self._catalog.bodies.get(body_id)
        return body.name_ru if body is not None else body_id

    async def bind(
        self, who: Principal, body_id: str, chat_id: int, *, confirmed: bool, from_chat: int | None = None
    ) -> Change:
        """Make `chat_id` the operator chat of `body_id`; NotAllowed unless `who` may bind chats."""
        if body_id not in self._catalog.bodies:
            raise BindingRefused("bind-usage")
        now = self._clock.now()
        async with self._db.session() as session:
            grant = await self._staff.require(who, Right.BIND_CHAT, session=session)
            rows = list(
                await session.scalars(
                    select(OperatorChat)
                    .where((OperatorChat.body_id == body_id) | (OperatorChat.chat_id == chat_id))
                    .with_for_update()
                )
            )
            old_chat = next((r.chat_id for r in rows if r.body_id == body_id and r.chat_id != chat_id), None)
            old_body = next((r.body_id for r in rows if r.chat_id == chat_id and r.body_id != body_id), None)
            if any(r.body_id == body_id and r.chat_id == chat_id for r in rows):
                return Change(Outcome.UNCHANGED, body_id, chat_id)
            change = Change(Outcome.CONFIRM, body_id, chat_id, old_chat, old_body)
            if (old_chat is not None or old_body is not None) and not confirmed:
                return change
            # Strict mode belongs to the body: it follows the queue to its new chat.
            strict = any(r.strict for r in rows if r.body_id == body_id)
            for row in rows:
                await session.delete(row)
            await session.flush()
            nonce = new_nonce()
            session.add(
                OperatorChat(
                    body_id=body_id,
                    chat_id=chat_id,
                    bound_by=who.label,
                    bound_at=now,
                    strict=strict,
                    nonce=nonce,
                )
            )
            await record(
                session,
                actor=who.label,
                role=grant.role,
                chat_id=from_chat,
                action=AuditAction.BIND,
                subject=body_id,
                detail={"old_chat": old_chat, "new_chat": chat_id, "old_body": old_body},
                at=now,
            )
            tell = f"bind:{body_id}:{nonce}"
            if old_chat is not None:
                await self._tell(session, f"{tell}:old", old_chat, "bind-moved-away", body_id, now)
            if chat_id != from_chat:
                await self._tell(session, f"{tell}:new", chat_id, "bind-done", body_id, now)
                if old_body is not None:
                    await self._tell(session, f"{tell}:lost", chat_id, "bind-moved-away", old_body, now)
            return replace(change, outcome=Outcome.DONE)

    async def unbind(
        self,
        who: Principal,
        *,
        body_id: str | None = None,
        chat_id: int | None = None,
        confirmed: bool,
        from_chat: int | None = None,
    ) -> Change:
        """Stop a chat working a body's queue (named by either); its reports go to the ЦУР chat."""
        if (body_id is None) == (chat_id is None):
            raise ValueError("unbind takes a body or a chat")
        now = self._clock.now()
        async with self._db.session() as session:
            grant = await self._staff.require(who, Right.BIND_CHAT, session=session)
            where = (
                OperatorChat.body_id == body_id if body_id is not None else OperatorChat.chat_id == chat_id
            )
            row = await session.scalar(select(OperatorChat).where(where).with_for_update())
            if row is None:
                return Change(Outcome.NOT_BOUND, body_id or "", chat_id or 0)
            change = Change(Outcome.CONFIRM, row.body_id, row.chat_id)
            if not confirmed:
                return change
            await session.delete(row)
            await record(
                session,
                actor=who.label,
                role=grant.role,
                chat_id=from_chat,
                action=AuditAction.UNBIND,
                subject=row.body_id,
                detail={"old_chat": row.chat_id},
                at=now,
            )
            if row.chat_id != from_chat:
                key = f"unbind:{row.body_id}:{row.nonce}"
                await self._tell(session, key, row.chat_id, "unbind-done", row.body_id, now)
            return replace(change, outcome=Outcome.DONE)

    async def set_strict(
        self, who: Principal, body_id: str, on: bool, *, from_chat: int | None = None
    ) -> Change:
        """Strict mode: only registered operators of the body (and admins) act in its chat."""
        if body_id == TSUR_BODY and not on:
            # The ЦУР chat acts on every body's reports: membership there can never be enough.
            raise BindingRefused("strict-tsur-always")
        now = self._clock.now()
        async with self._db.session() as session:
            grant = await self._staff.require(who, Right.BIND_CHAT, session=session)
            row = await session.get(OperatorChat, body_id, with_for_update=True)
            if row is None:
                return Change(Outcome.NOT_BOUND, body_id, 0)
            if row.strict == on:
                return Change(Outcome.UNCHANGED, body_id, row.chat_id)
            row.strict = on
            await record(
                session,
                actor=who.label,
                role=grant.role,
                chat_id=from_chat,
                action=AuditAction.STRICT,
                subject=body_id,
                detail={"strict": on, "chat": row.chat_id},
                at=now,
            )
            if row.chat_id != from_chat:
                key = f"strict:{body_id}:{row.nonce}:{now.isoformat()}"
                await self._tell(session, key, row.chat_id, "strict-on" if on else "strict-off", body_id, now)
            return Change(Outcome.DONE, body_id, row.chat_id)

    async def bind_comms(self, who: Principal, chat_id: int, *, from_chat: int | None = None) -> Change:
        """Make `chat_id` a comms chat (its `comms` members compose notices there)."""
        return await self._comms(who, chat_id, True, from_chat)

    async def unbind_comms(self, who: Principal, chat_id: int, *, from_chat: int | None = None) -> Change:
        return await self._comms(who, chat_id, False, from_chat)

    async def _comms(self, who: Principal, chat_id: int, on: bool, from_chat: int | None) -> Change:
        now = self._clock.now()
        async with self._db.session() as session:
            grant = await self._staff.require(who, Right.BIND_CHAT, session=session)
            row = await session.get(CommsChat, chat_id, with_for_update=True)
            if (row is not None) == on:
                return Change(Outcome.UNCHANGED if on else Outcome.NOT_BOUND, "", chat_id)
            nonce = new_nonce()
            if on:
                session.add(CommsChat(chat_id=chat_id, bound_by=who.label[:64], bound_at=now, nonce=nonce))
            else:
                assert row is not None
                nonce = row.nonce
                await session.delete(row)
            await record(
                session,
                actor=who.label,
                role=grant.role,
                chat_id=from_chat,
                action=AuditAction.COMMS_BIND if on else AuditAction.COMMS_UNBIND,
                subject=str(chat_id),
                at=now,
            )
            if chat_id != from_chat:
                key = f"comms:{chat_id}:{nonce}:{'on' if on else 'off'}"
                await self._tell(
                    session, key, chat_id, "chat-comms-bound" if on else "chat-comms-unbound", "", now
                )
            return Change(Outcome.DONE, "", chat_id)

    async def _tell(
        self, session: AsyncSession, key: str, chat_id: int, text_key: str, body_id: str, now: datetime
    ) -> None:
        """A message to a chat the admin is not in, queued with the change itself."""
        view = View((Text(text_key, {"body": self.body_name(body_id) if body_id else ""}),))
        await to_official(session, chat_id=chat_id, key=key, views=[view], lang=STAFF_LANG, now=now)


async def chat_bindings(db: Database, clock: Clock | None = None) -> ChatBindings:
    """The binding service on its own (the CLI), with the catalog and registry it needs."""
    clock = clock or SystemClock()
    catalog = await Catalog.load(db)
    return ChatBindings(db, StaffService(db, clock, catalog.staff_scopes()), clock, catalog)
