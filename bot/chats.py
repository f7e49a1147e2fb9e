"""Operator chats bound to bodies: the one place that says which chat works which body's queue."""

from __future__ import annotations

from sqlalchemy import select

from storage.db import Database
from storage.models import OperatorChat


async def bind_chat(db: Database, body_id: str, chat_id: int, by: str) -> None:
    """Make `chat_id` the operator chat of `body_id` (one chat per body, one body per chat)."""
    async with db.session() as session:
        for row in await session.scalars(
            select(OperatorChat).where((OperatorChat.body_id == body_id) | (OperatorChat.chat_id == chat_id))
        ):
            await session.delete(row)
        await session.flush()
        session.add(OperatorChat(body_id=body_id, chat_id=chat_id, bound_by=by))
