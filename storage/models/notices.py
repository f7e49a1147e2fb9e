"""Notices the comms team sends to citizens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, utcnow


class Notice(Base):
    """A message from the comms team to an audience of citizens (информирование)."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # info | outage | emergency | factcheck
    kind: Mapped[str] = mapped_column(String(16))
    # draft | sending | paused | cancelled | done
    status: Mapped[str] = mapped_column(String(16), default="draft")
    text: Mapped[str] = mapped_column(Text, default="")
    # A fact-check has its own layout: the false claim, the facts, and where they come from.
    claim: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(500))
    photo: Mapped[str | None] = mapped_column(String(500))
    # {"everyone": bool, "municipalities": [...], "sectors": [...], "platforms": [...], "reports": [...]}
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    author: Mapped[str] = mapped_column(String(200))
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Not before this moment (a scheduled send); None = at once.
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Where its progress is shown (a comms chat message, edited in place).
    progress_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None] = mapped_column(Integer)
    # Four-eyes: who approved, when, and the hash of what they saw (text, photo, kind, audience).
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approval_hash: Mapped[str | None] = mapped_column(String(64))
