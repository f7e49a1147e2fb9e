"""Citizens and their reports: the report, its status history, its operator topic and SLA events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, UTCDateTime, utcnow


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


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_body_status", "body_id", "status"),
        # The duplicate suggestion looks for open reports of one sector in one place.
        Index("ix_reports_place", "sector_id", "municipality_id", "status", "created_at"),
        Index("ix_reports_street", "sector_id", "municipality_id", "street_key", "status", "created_at"),
        Index("ix_reports_cell", "sector_id", "geo_cell", "status", "created_at"),
    )

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
    # The sector the citizen filed under (their pick or the guess they confirmed); transfers
    # change sector_id only. Shown to the bench, never trained on.
    filed_sector: Mapped[str | None] = mapped_column(String(32))
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
    # The typed address parsed at filing (bot/services/geo/addresses.py) and a ~1 km grid cell of the
    # pin, so reports of one place are found by index rather than by reading every address.
    street_key: Mapped[str | None] = mapped_column(String(200))
    house: Mapped[str | None] = mapped_column(String(32))
    settlement_key: Mapped[str | None] = mapped_column(String(100))
    geo_cell: Mapped[str | None] = mapped_column(String(32))
    # Set when the report follows an incident (joined or merged); None for a standalone report and
    # for nothing else: the incident's lead report has it too (`Incident.lead_report_id`).
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL", name="fk_report_incident"), index=True
    )
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


class ReportThread(Base):
    """Where a report lives in its body's operator chat (the Bot API cannot list topics)."""

    __tablename__ = "report_threads"

    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    thread_id: Mapped[int] = mapped_column(BigInteger)
    card_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SlaEvent(Base):
    """A deadline event that happened (reminder, overdue, escalation): unique, so never doubled."""

    __tablename__ = "sla_events"
    __table_args__ = (UniqueConstraint("report_id", "kind", name="uq_sla_event"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
