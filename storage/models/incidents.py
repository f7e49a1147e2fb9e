"""Repeated reports: an incident (many reports of one problem, answered once) and the spike alerts
the detector raised."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, utcnow


class Incident(Base):
    """A group of reports about one problem. Its lead report carries the one status, SLA clock, card
    and topic; the other reports (`Report.incident_id`) follow it and keep their own history."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Not a foreign key: reports point at incidents, and a cycle of keys would make every table
    # rebuild (SQLite) and every erasure order-dependent. Retention drops an incident whose lead is gone.
    lead_report_id: Mapped[int] = mapped_column(Integer, unique=True)
    # A neutral title an operator set ("Нет света, ул. Ленина"); None = the sector and the street.
    title: Mapped[str | None] = mapped_column(String(200))
    # Who opened it: "citizen" (a citizen joined a report), "operator:<id>" (a merge), or a staff
    # member opening it by hand (an outage known before anyone reports it).
    opened_by: Mapped[str] = mapped_column(String(64))
    manual: Mapped[bool] = mapped_column(default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SpikeAlert(Base):
    """One alert per cluster: a sector in a place (a municipality, a settlement or a street) with
    improbably many reports in one hour; later hours of the same burst extend it instead of alerting."""

    __tablename__ = "spike_alerts"
    __table_args__ = (UniqueConstraint("cluster", "opened_hour", name="uq_spike_cluster_hour"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # "<sector>|<municipality>[|<settlement or street key>]"
    cluster: Mapped[str] = mapped_column(String(300), index=True)
    sector_id: Mapped[str] = mapped_column(String(32))
    municipality_id: Mapped[str] = mapped_column(String(32))
    opened_hour: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    count: Mapped[int] = mapped_column(Integer)
    expected: Mapped[float] = mapped_column(Float)
    p_value: Mapped[float] = mapped_column(Float)
    # open | incident | notified | ignored
    state: Mapped[str] = mapped_column(String(16), default="open")
    decided_by: Mapped[str | None] = mapped_column(String(64))
    report_ids: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
