"""Operator chats bound to bodies: the one module that reads and writes `OperatorChat` and
`CommsChat`, so it alone says which chat works which body's queue."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import CommsChat, OperatorChat

TSUR_BODY = "tsur"


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
