"""Database models (SQLAlchemy 2 declarative, typed)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Aware current UTC time."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware UTC datetimes; SQLite drops tzinfo, so it is restored on load."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Sector(Base):
    __tablename__ = "sectors"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_ru: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    first_reaction_hours: Mapped[float] = mapped_column(Float)
    answer_days: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(default=True)


class Municipality(Base):
    __tablename__ = "municipalities"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    oktmo: Mapped[str | None] = mapped_column(String(11))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    centre: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    population: Mapped[int | None] = mapped_column(Integer)


class Body(Base):
    __tablename__ = "bodies"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_ru: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(32))
    municipality_id: Mapped[str | None] = mapped_column(ForeignKey("municipalities.id"))


class RoutingRule(Base):
    __tablename__ = "routing_rules"
    __table_args__ = (UniqueConstraint("sector_id", "municipality_id", "body_id", name="uq_routing_rule"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sector_id: Mapped[str] = mapped_column(ForeignKey("sectors.id"))
    # NULL means "any municipality"; a row with a municipality overrides it.
    municipality_id: Mapped[str | None] = mapped_column(ForeignKey("municipalities.id"))
    body_id: Mapped[str] = mapped_column(ForeignKey("bodies.id"))
    priority: Mapped[int] = mapped_column(Integer, default=0)


class Citizen(Base):
    __tablename__ = "citizens"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id", name="uq_citizen_platform_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="ru")
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set when the messenger refuses delivery (the citizen blocked the bot); cleared when they write.
    unreachable_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The linked group (one person's Telegram and VK accounts) this account belongs to; None when
    # unlinked, so a group's identity is coalesce(person_id, id). bot/services/citizens/accounts.py
    # keeps it equal to the smallest living member's id and clears it when a member is left alone;
    # it is a label, not a foreign key, so erasing any one account never touches the others.
    person_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # Brute-force guard for link codes: wrong codes typed since `link_failures_since` (an hour-long
    # window). Kept on the row so the limit survives restarts and holds across workers.
    link_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    link_failures_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Quiet hours for non-urgent notices, local hours [from, to); both None = no quiet hours.
    quiet_from: Mapped[int | None] = mapped_column(Integer, default=22, server_default="22")
    quiet_to: Mapped[int | None] = mapped_column(Integer, default=8, server_default="8")
    # When notices were offered after the first report (offered once, whatever the answer).
    notices_offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    reports: Mapped[list[Report]] = relationship(back_populates="citizen")


class Subscription(Base):
    """A citizen's opt-in to notices: one municipality or one sector ("*" = all of them)."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("citizen_id", "scope", "value", name="uq_subscription"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id", ondelete="CASCADE"), index=True)
    # municipality | sector
    scope: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


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


class CommsChat(Base):
    """A Telegram chat whose members compose and send notices."""

    __tablename__ = "comms_chats"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    bound_by: Mapped[str] = mapped_column(String(64))
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    nonce: Mapped[str] = mapped_column(String(16), default="", server_default="")


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


class LinkCode(Base):
    """A one-time code to link two accounts of one citizen: issued in one messenger, sent in the other."""

    __tablename__ = "link_codes"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    # One live code per account: issuing a new one replaces the old.
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_body_status", "body_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Filled right after the insert from the id, so it is unique without a second sequence.
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    # One dialog draft can become one report only, whatever double taps or retries happen.
    intake_key: Mapped[str] = mapped_column(String(64), unique=True)
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id", ondelete="SET NULL"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(1000))
    municipality_id: Mapped[str | None] = mapped_column(ForeignKey("municipalities.id"))
    sector_id: Mapped[str] = mapped_column(ForeignKey("sectors.id"))
    classifier_sector: Mapped[str | None] = mapped_column(String(32))
    classifier_confidence: Mapped[float | None] = mapped_column(Float)
    body_id: Mapped[str] = mapped_column(ForeignKey("bodies.id"))
    status: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    first_reaction_due: Mapped[datetime] = mapped_column(UTCDateTime())
    answer_due: Mapped[datetime] = mapped_column(UTCDateTime())
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id", ondelete="SET NULL"))
    first_reaction_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    citizen: Mapped[Citizen | None] = relationship(back_populates="reports")
    history: Mapped[list[StatusChange]] = relationship(
        back_populates="report", order_by="StatusChange.id", cascade="all, delete-orphan"
    )


class StatusChange(Base):
    __tablename__ = "status_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)

    report: Mapped[Report] = relationship(back_populates="history")


class DialogStateRow(Base):
    """Dialog state for the embedded (SQL) backend, so a restart keeps half-finished dialogs."""

    __tablename__ = "dialog_states"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


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


class BlockContact(Base):
    """The head and curator of a sector block, whom overdue reports escalate to (decree item 8)."""

    __tablename__ = "block_contacts"
    __table_args__ = (UniqueConstraint("sector_id", "level", name="uq_block_contact_level"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sector_id: Mapped[str] = mapped_column(ForeignKey("sectors.id"))
    level: Mapped[str] = mapped_column(String(16))  # head | curator
    name: Mapped[str] = mapped_column(String(200))
    platform_user_id: Mapped[str | None] = mapped_column(String(64))


class ReportThread(Base):
    """Where a report lives in its body's operator chat (the Bot API cannot list topics)."""

    __tablename__ = "report_threads"

    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    thread_id: Mapped[int] = mapped_column(BigInteger)
    card_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutboxMessage(Base):
    """Every outgoing message, written in the transaction that causes it, delivered by a worker."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        # Per-target ordering looks up earlier pending rows of the same recipient.
        Index("ix_outbox_target", "platform", "target", "status"),
        # A notice's progress counts its rows by status; pause and cancel change them in bulk.
        Index("ix_outbox_notice", "notice_id", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Same key → same message: enqueueing twice (a retried transaction) sends once.
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    platform: Mapped[str] = mapped_column(String(16))
    # citizen | report_card | topic | direct
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(64))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    # A notice delivery: the payload holds only the language and quiet hours; the text is the notice's.
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # pending | sent | dead (gave up: unreachable or too many failures) | paused | cancelled (notices)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SlaEvent(Base):
    """A deadline event that happened (reminder, overdue, escalation): unique, so never doubled."""

    __tablename__ = "sla_events"
    __table_args__ = (UniqueConstraint("report_id", "kind", name="uq_sla_event"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProcessedUpdate(Base):
    """Seen webhook update ids, so a redelivered update is handled once."""

    __tablename__ = "processed_updates"

    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


__all__ = [
    "AuditEvent",
    "Base",
    "BlockContact",
    "Body",
    "Citizen",
    "DialogStateRow",
    "LinkCode",
    "Municipality",
    "Operator",
    "OperatorChat",
    "OutboxMessage",
    "ProcessedUpdate",
    "Report",
    "ReportThread",
    "RoutingRule",
    "Sector",
    "SlaEvent",
    "StaffInvite",
    "StaffMember",
    "StaffRole",
    "StatusChange",
    "utcnow",
]
