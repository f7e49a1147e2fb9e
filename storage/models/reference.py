"""Reference data loaded from bot/data: sectors, municipalities, bodies, routing rules, block contacts."""

from __future__ import annotations

from sqlalchemy import (
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


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


class BlockContact(Base):
    """The head and curator of a sector block, whom overdue reports escalate to (decree item 8)."""

    __tablename__ = "block_contacts"
    __table_args__ = (UniqueConstraint("sector_id", "level", name="uq_block_contact_level"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sector_id: Mapped[str] = mapped_column(ForeignKey("sectors.id"))
    level: Mapped[str] = mapped_column(String(16))  # head | curator
    name: Mapped[str] = mapped_column(String(200))
    platform_user_id: Mapped[str | None] = mapped_column(String(64))


class ReferenceVersion(Base):
    """A counter bumped in the transaction of every edit to the reference data: each process reads
    it every few seconds and reloads its in-memory catalog when it moved."""

    __tablename__ = "reference_versions"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
