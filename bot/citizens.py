"""Citizens: consent to personal-data processing (152-ФЗ), language, and erasure on request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from bot.clock import Clock
from storage.db import Database
from storage.models import Citizen, Report


@dataclass(frozen=True)
class CitizenInfo:
    id: int
    platform: str
    platform_user_id: str
    language: str
    consent_at: datetime


def _info(row: Citizen) -> CitizenInfo:
    return CitizenInfo(row.id, row.platform, row.platform_user_id, row.language, row.consent_at)


class CitizenService:
    """Only citizens who gave consent exist here; nothing is stored about anyone else."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def find(self, platform: str, user_id: str) -> CitizenInfo | None:
        async with self._db.session() as session:
            row = await session.scalar(
                select(Citizen).where(Citizen.platform == platform, Citizen.platform_user_id == user_id)
            )
            return None if row is None else _info(row)

    async def give_consent(self, platform: str, user_id: str, language: str) -> CitizenInfo:
        """Record consent (idempotent: a second tap keeps the first consent time)."""
        async with self._db.session() as session:
            row = await session.scalar(
                select(Citizen).where(Citizen.platform == platform, Citizen.platform_user_id == user_id)
            )
            if row is None:
                now = self._clock.now()
                row = Citizen(
                    platform=platform,
                    platform_user_id=user_id,
                    language=language,
                    consent_at=now,
                    created_at=now,
                )
                session.add(row)
                await session.flush()
            return _info(row)

    async def set_language(self, citizen_id: int, language: str) -> None:
        async with self._db.session() as session:
            await session.execute(update(Citizen).where(Citizen.id == citizen_id).values(language=language))

    async def forget(self, citizen_id: int) -> int:
        """Erase the citizen and the personal data in their reports; returns how many reports kept.

        The reports themselves stay (bodies must answer them), but no longer point to anyone and
        lose the phone number, so nothing links them to the person. The dialog runner drops the
        citizen's dialog state through its state store (SQL or Redis) in the same update.
        """
        async with self._db.session() as session:
            citizen = await session.get(Citizen, citizen_id)
            if citizen is None:
                return 0
            result = await session.execute(
                update(Report).where(Report.citizen_id == citizen_id).values(citizen_id=None, phone=None)
            )
            await session.delete(citizen)
            return int(getattr(result, "rowcount", 0) or 0)
