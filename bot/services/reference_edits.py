"""Edits to the reference data (routing rules): checked against the staff registry, audited, and
announced to every process by bumping the reference version in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.services.catalog import Catalog, bump_reference_version
from bot.services.reports.routing import DEFAULT_RULE_PRIORITY, OVERRIDE_RULE_PRIORITY
from bot.services.staff.audit import AuditAction, record
from bot.services.staff.registry import StaffService
from bot.services.staff.roles import Principal, Right
from storage.db import Database
from storage.models import RoutingRule


class ReferenceEditRefused(ValueError):
    """The edit names something the catalog does not know; the message says what."""


@dataclass(frozen=True)
class RouteChange:
    sector_id: str
    municipality_id: str | None
    old_body_id: str | None
    body_id: str
    version: int


class ReferenceEdits:
    """Who may change where reports go, and the change itself."""

    def __init__(self, db: Database, catalog: Catalog, staff: StaffService, clock: Clock) -> None:
        self._db = db
        self._catalog = catalog
        self._staff = staff
        self._clock = clock

    async def set_route(
        self, who: Principal, sector_id: str, municipality_id: str | None, body_id: str
    ) -> RouteChange:
        """Send reports of a sector (in one municipality, or anywhere when None) to `body_id`.

        NotAllowed unless `who` holds EDIT_REFERENCE; the rule replaces the pair's earlier ones.
        """
        self._check(sector_id, municipality_id, body_id)
        now = self._clock.now()
        async with self._db.session() as session:
            grant = await self._staff.require(who, Right.EDIT_REFERENCE, session=session)
            old = await _rule_body(session, sector_id, municipality_id)
            await session.execute(
                delete(RoutingRule).where(RoutingRule.sector_id == sector_id, _same_place(municipality_id))
            )
            priority = DEFAULT_RULE_PRIORITY if municipality_id is None else OVERRIDE_RULE_PRIORITY
            session.add(
                RoutingRule(
                    sector_id=sector_id, municipality_id=municipality_id, body_id=body_id, priority=priority
                )
            )
            version = await bump_reference_version(session)
            await record(
                session,
                actor=who.label,
                role=grant.role,
                action=AuditAction.ROUTE_SET,
                subject=f"{sector_id}:{municipality_id or '*'}",
                detail={"old_body": old, "new_body": body_id, "version": version},
                at=now,
            )
        return RouteChange(sector_id, municipality_id, old, body_id, version)

    def _check(self, sector_id: str, municipality_id: str | None, body_id: str) -> None:
        if sector_id not in self._catalog.sectors:
            raise ReferenceEditRefused(f"unknown sector {sector_id!r}")
        if body_id not in self._catalog.bodies:
            raise ReferenceEditRefused(f"unknown body {body_id!r}")
        if municipality_id is not None and self._catalog.municipalities.get(municipality_id) is None:
            raise ReferenceEditRefused(f"unknown municipality {municipality_id!r}")


def _same_place(municipality_id: str | None) -> ColumnElement[bool]:
    if municipality_id is None:
        return RoutingRule.municipality_id.is_(None)
    return RoutingRule.municipality_id == municipality_id


async def _rule_body(session: AsyncSession, sector_id: str, municipality_id: str | None) -> str | None:
    rows = await session.scalars(
        select(RoutingRule.body_id)
        .where(RoutingRule.sector_id == sector_id, _same_place(municipality_id))
        .order_by(RoutingRule.priority.desc())
    )
    return rows.first()
