"""Labelled examples for the sector classifier, learnt from operators' decisions on reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class SectorExample(Base):
    """A report's text (contacts and names masked) and the sector an operator gave it: by a
    transfer, or the sector it had when closed. One per report; gone with the report."""

    __tablename__ = "sector_examples"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), unique=True)
    # Kept to cap the examples one citizen contributes and to erase them on /forget.
    citizen_id: Mapped[int | None] = mapped_column(Integer, index=True)
    text: Mapped[str] = mapped_column(Text)
    sector_id: Mapped[str] = mapped_column(String(32))
    # The model's first guess when the report was filed, shown to the bench beside the label.
    guessed_sector: Mapped[str | None] = mapped_column(String(32))
    # The sector the citizen filed under: for the bench only (a citizen could steer a model with it).
    citizen_sector: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))  # transfer | closed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
