"""Dialog state kept in SQL, and the inbound updates: queued until processed, then kept as seen."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, utcnow


class DialogStateRow(Base):
    """Dialog state for the embedded (SQL) backend, so a restart keeps half-finished dialogs."""

    __tablename__ = "dialog_states"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InboundUpdate(Base):
    """One update from a messenger, stored before it is acknowledged and processed from here.

    The unique `key` ("tg:<update_id>", "vk:<event_id>") is the de-duplication record: a
    redelivered update finds its row and is not queued twice. A processed row keeps its key and
    loses its payload (the citizen's words are no longer needed once handled).
    """

    __tablename__ = "inbound_updates"
    __table_args__ = (
        Index("ix_inbound_updates_due", "status", "next_attempt_at"),
        Index("ix_inbound_updates_conversation", "conversation", "status", "seq"),
        Index("ix_inbound_updates_album", "album"),
        Index("ix_inbound_updates_finished", "finished_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(96), unique=True)
    platform: Mapped[str] = mapped_column(String(8))
    # Updates of one conversation are processed one after another, in `seq` order.
    conversation: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # The photos of one album arrive as separate updates and are processed together.
    album: Mapped[str | None] = mapped_column(String(96), nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
