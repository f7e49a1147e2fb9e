"""The staff registry: members, their roles, invites, and the audit trail of what they did."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, UTCDateTime, utcnow


class StaffMember(Base):
    """A person in the staff registry; rights come only from their active roles."""

    __tablename__ = "staff_members"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id", name="uq_staff_member_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(16), default="tg")
    platform_user_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    roles: Mapped[list[StaffRole]] = relationship(back_populates="member", order_by="StaffRole.id")


class StaffRole(Base):
    """One role a member holds (or held: revoked rows stay for the record)."""

    __tablename__ = "staff_roles"
    __table_args__ = (Index("ix_staff_roles_member", "member_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"))
    # admin | operator | head | curator | comms | mcu
    role: Mapped[str] = mapped_column(String(16))
    # A body (operator), a sector (head, curator), a municipality (mcu); "" for admin and comms.
    scope: Mapped[str] = mapped_column(String(64), default="", server_default="")
    granted_by: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    member: Mapped[StaffMember] = relationship(back_populates="roles")


class StaffInvite(Base):
    """A one-time code that grants one role and scope; only its hash is stored."""

    __tablename__ = "staff_invites"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(64), default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_by: Mapped[str | None] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEvent(Base):
    """A staff action, for the record: who, in which role and chat, did what, to what, when."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_actor", "actor", "at"),
        Index("ix_audit_events_report", "report_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # "tg:<user id>" for a person, "cli" for the server's shell, "system" for the bot itself.
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(16))
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(32))
    # What the action was about: a body, a role, a notice ("notice:12"), a report ("report:5").
    subject: Mapped[str] = mapped_column(String(128), default="")
    # Not a foreign key: the record outlives the report and must survive its deletion.
    report_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
