"""Operator and comms chats bound to bodies, and the operators seen in them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, utcnow


class OperatorChat(Base):
    """A body's operator chat: a Telegram supergroup with topics, the bot an admin."""

    __tablename__ = "operator_chats"

    body_id: Mapped[str] = mapped_column(ForeignKey("bodies.id"), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    bound_by: Mapped[str | None] = mapped_column(String(64))
    # Strict: only registered operators of the body (and admins) act; otherwise any member of the chat.
    strict: Mapped[bool] = mapped_column(default=False, server_default="0")
    # A fresh random value per binding, signed into every button: a rebinding voids old buttons.
    nonce: Mapped[str] = mapped_column(String(16), default="", server_default="")


class Operator(Base):
    """Bookkeeping of who acted in a body's chat (a report's assignee); grants nothing: rights come
    from the staff registry (`StaffRole`) and the chat's binding only."""

    __tablename__ = "operators"
    __table_args__ = (UniqueConstraint("platform_user_id", "body_id", name="uq_operator_user_body"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform_user_id: Mapped[str] = mapped_column(String(64), index=True)
    body_id: Mapped[str] = mapped_column(ForeignKey("bodies.id"))
    # Kept for old rows; always "operator" now, and never read as a right.
    role: Mapped[str] = mapped_column(String(16), default="operator")
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CommsChat(Base):
    """A Telegram chat whose members compose and send notices."""

    __tablename__ = "comms_chats"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    bound_by: Mapped[str] = mapped_column(String(64))
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    nonce: Mapped[str] = mapped_column(String(16), default="", server_default="")
