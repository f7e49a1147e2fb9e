"""Reference data (sectors, municipalities, bodies, routing rules): seeded from bot/data into the
database, where it stays editable, and read back into memory for fast lookups."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import REFERENCE_DATA_DIR
from bot.services.geo import MunicipalityDirectory
from bot.services.reports import routing
from storage import models
from storage.db import Database

DATA_DIR = REFERENCE_DATA_DIR
OTHER_SECTOR = "other"
# The one row of reference_versions this module keeps.
CATALOG_VERSION = "catalog"


@dataclass(frozen=True)
class SectorInfo:
    id: str
    name_ru: str
    name_en: str
    first_reaction_hours: float
    answer_days: int
    position: int

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_ru


@dataclass(frozen=True)
class BodyInfo:
    id: str
    name_ru: str
    name_en: str
    kind: str
    municipality_id: str | None

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_ru


def load_sector_specs(path: Path | None = None) -> list[SectorInfo]:
    """Sectors as declared in sectors.yaml, in menu order."""
    raw = yaml.safe_load((path or DATA_DIR / "sectors.yaml").read_text(encoding="utf-8"))
    return [
        SectorInfo(
            id=str(item["id"]),
            name_ru=str(item["name_ru"]),
            name_en=str(item["name_en"]),
            first_reaction_hours=float(item["first_reaction_hours"]),
            answer_days=int(item["answer_days"]),
            position=index,
        )
        for index, item in enumerate(raw["sectors"])
    ]


async def seed_catalog(db: Database, directory: MunicipalityDirectory | None = None) -> None:
    """Insert reference rows the database lacks; rows already there (maybe edited) are left alone."""
    sectors = load_sector_specs()
    directory = directory or MunicipalityDirectory.load()
    bodies = routing.load_bodies()
    rules = routing.load_routing_rules(
        municipalities=[m.id for m in directory.all()], bodies=[b.id for b in bodies]
    )
    async with db.session() as session:
        have = set(await session.scalars(select(models.Sector.id)))
        for s in sectors:
            if s.id not in have:
                session.add(
                    models.Sector(
                        id=s.id,
                        name_ru=s.name_ru,
                        name_en=s.name_en,
                        first_reaction_hours=s.first_reaction_hours,
                        answer_days=s.answer_days,
                        position=s.position,
                        active=True,
                    )
                )
        have = set(await session.scalars(select(models.Municipality.id)))
        for m in directory.all():
            if m.id not in have:
                session.add(
                    models.Municipality(
                        id=m.id,
                        oktmo=m.oktmo,
                        name=m.name,
                        kind=m.kind,
                        centre=m.centre,
                        lat=m.lat,
                        lon=m.lon,
                        population=m.population,
                    )
                )
        await session.flush()
        have = set(await session.scalars(select(models.Body.id)))
        for b in bodies:
            if b.id not in have:
                session.add(
                    models.Body(
                        id=b.id,
                        name_ru=b.name_ru,
                        name_en=b.name_en,
                        kind=b.kind,
                        municipality_id=b.municipality_id,
                    )
                )
        await session.flush()
        # A (sector, municipality) pair someone already routed by hand keeps its rule.
        covered = {
            (row.sector_id, row.municipality_id) for row in await session.scalars(select(models.RoutingRule))
        }
        for r in rules:
            if (r.sector_id, r.municipality_id) not in covered:
                session.add(
                    models.RoutingRule(
                        sector_id=r.sector_id,
                        municipality_id=r.municipality_id,
                        body_id=r.body_id,
                        priority=r.priority,
                    )
                )


class Catalog:
    """In-memory view of the reference data, read from the database."""

    def __init__(
        self,
        sectors: list[SectorInfo],
        bodies: dict[str, BodyInfo],
        rules: list[routing.RoutingRule],
        municipalities: MunicipalityDirectory,
        version: int = 0,
    ) -> None:
        self.version = version
        self.sectors = {s.id: s for s in sorted(sectors, key=lambda s: s.position)}
        self.bodies = bodies
        self.rules = rules
        self.routing = routing.RoutingTable(rules)
        self.municipalities = municipalities

    @classmethod
    async def load(cls, db: Database, municipalities: MunicipalityDirectory | None = None) -> Catalog:
        """Read sectors, bodies and routing rules from the database."""
        async with db.session() as session:
            version = await reference_version(session)
            sector_rows = await session.scalars(
                select(models.Sector).where(models.Sector.active.is_(True)).order_by(models.Sector.position)
            )
            sectors = [
                SectorInfo(
                    id=row.id,
                    name_ru=row.name_ru,
                    name_en=row.name_en,
                    first_reaction_hours=row.first_reaction_hours,
                    answer_days=row.answer_days,
                    position=row.position,
                )
                for row in sector_rows
            ]
            bodies = {
                row.id: BodyInfo(row.id, row.name_ru, row.name_en, row.kind, row.municipality_id)
                for row in await session.scalars(select(models.Body))
            }
            rules = [
                routing.RoutingRule(row.sector_id, row.municipality_id, row.body_id, row.priority)
                for row in await session.scalars(select(models.RoutingRule))
            ]
        return cls(sectors, bodies, rules, municipalities or MunicipalityDirectory.load(), version)

    async def refresh(self, db: Database) -> bool:
        """Reload in place when another process edited the reference data; True if it did.

        Services hold this object, so every field is swapped at once, with no await between them.
        """
        async with db.session() as session:
            version = await reference_version(session)
        if version == self.version:
            return False
        fresh = await Catalog.load(db, self.municipalities)
        vars(self).update(vars(fresh))
        return True

    def sector(self, sector_id: str) -> SectorInfo:
        return self.sectors.get(sector_id) or self.sectors[OTHER_SECTOR]

    def body(self, body_id: str) -> BodyInfo:
        return self.bodies[body_id]

    def municipality_name(self, municipality_id: str | None) -> str | None:
        if municipality_id is None:
            return None
        found = self.municipalities.get(municipality_id)
        return found.name if found else None

    def staff_scopes(self) -> dict[str, list[str]]:
        """The ids a staff role's scope may name, by kind (body, sector, municipality)."""
        return {
            "body": list(self.bodies),
            "sector": list(self.sectors),
            "municipality": [m.id for m in self.municipalities.all()],
        }

    def route(self, sector_id: str | None, municipality_id: str | None) -> str:
        """The body whose queue gets a report of this sector and place."""
        return self.routing.route(sector_id, municipality_id)


async def reference_version(session: AsyncSession) -> int:
    """The counter edits of the reference data bump (0 before the first edit)."""
    found = await session.scalar(
        select(models.ReferenceVersion.version).where(models.ReferenceVersion.name == CATALOG_VERSION)
    )
    return found or 0


async def bump_reference_version(session: AsyncSession) -> int:
    """Move the counter on in the caller's transaction (the edit's); returns the new value."""
    bumped = await session.execute(
        update(models.ReferenceVersion)
        .where(models.ReferenceVersion.name == CATALOG_VERSION)
        .values(version=models.ReferenceVersion.version + 1)
    )
    if bumped.rowcount == 0:  # type: ignore[attr-defined]
        session.add(models.ReferenceVersion(name=CATALOG_VERSION, version=1))
        await session.flush()
    return await reference_version(session)
