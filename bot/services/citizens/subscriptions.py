"""Citizens' subscriptions to notices (информирование) and their quiet hours.

A subscription is one row per choice: scope "municipality" or "sector", value an id or "*" (all of
them). bot/services/notices/content.py reads them per scope: a scope with no rows counts as "all"
as long as the other scope has some, so "Ekaterinburg" alone means every topic there, and "roads" alone means
roads anywhere in the oblast. "*" and particular values of one scope never coexist: choosing "*"
drops the particular ones, choosing a particular one drops "*".

A person's linked accounts (Telegram + VK, see bot/services/citizens/accounts.py) are one audience
to the notices: they get one delivery, with the union of the group's subscriptions and the quiet hours of the
account it goes to. So every change here applies to the whole group: reading shows the union,
unsubscribing removes the value from every account, quiet hours are set on every account, and
one tap under a notice ends them all.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.services.catalog import Catalog
from bot.services.citizens.accounts import linked_ids
from storage.db import Database
from storage.models import Citizen, Report, Subscription

MUNICIPALITY = "municipality"
SECTOR = "sector"
SCOPES = (MUNICIPALITY, SECTOR)
ALL = "*"
# The model's default (Citizen.quiet_from / quiet_to): local hours [from, to).
DEFAULT_QUIET = (22, 8)
MAX_VALUE_CHARS = 64


@dataclass(frozen=True)
class Subscriptions:
    """What a person is subscribed to; empty sets and no quiet hours when nothing is chosen."""

    municipalities: frozenset[str] = frozenset()
    sectors: frozenset[str] = frozenset()
    # Local hours (from, to) when non-urgent notices wait; None = no quiet hours.
    quiet: tuple[int, int] | None = DEFAULT_QUIET

    @property
    def active(self) -> bool:
        """Subscribed to anything at all (otherwise no notice is sent, whatever the audience)."""
        return bool(self.municipalities or self.sectors)

    @property
    def all_municipalities(self) -> bool:
        return self.active and (ALL in self.municipalities or not self.municipalities)

    @property
    def all_sectors(self) -> bool:
        return self.active and (ALL in self.sectors or not self.sectors)

    def of_scope(self, scope: str) -> frozenset[str]:
        return self.municipalities if scope == MUNICIPALITY else self.sectors

    def covers_municipality(self, municipality_id: str) -> bool:
        """Notices about this municipality reach the person already."""
        return self.all_municipalities or municipality_id in self.municipalities


class SubscriptionService:
    """Reads and changes subscriptions; values are checked against the catalog when one is given."""

    def __init__(self, db: Database, clock: Clock, catalog: Catalog | None = None) -> None:
        self._db = db
        self._clock = clock
        self._catalog = catalog

    def is_valid(self, scope: str, value: str) -> bool:
        """A known scope and "*" or a value of it (any short value when no catalog was given)."""
        if scope not in SCOPES or not value or len(value) > MAX_VALUE_CHARS:
            return False
        if value == ALL or self._catalog is None:
            return True
        if scope == MUNICIPALITY:
            return self._catalog.municipalities.get(value) is not None
        return value in self._catalog.sectors

    def _check(self, scope: str, value: str) -> None:
        if not self.is_valid(scope, value):
            raise ValueError(f"not a subscription: {scope}={value!r}")

    async def of(self, citizen_id: int) -> Subscriptions:
        """The person's subscriptions (all linked accounts) and this account's quiet hours."""
        async with self._db.session() as session:
            rows = (
                await session.execute(
                    select(Subscription.scope, Subscription.value).where(
                        Subscription.citizen_id.in_(linked_ids(citizen_id))
                    )
                )
            ).all()
            hours = (
                await session.execute(
                    select(Citizen.quiet_from, Citizen.quiet_to).where(Citizen.id == citizen_id)
                )
            ).first()
        quiet = _quiet(hours[0], hours[1]) if hours is not None else DEFAULT_QUIET
        return Subscriptions(
            municipalities=frozenset(v for s, v in rows if s == MUNICIPALITY),
            sectors=frozenset(v for s, v in rows if s == SECTOR),
            quiet=quiet,
        )

    async def toggle(self, citizen_id: int, scope: str, value: str) -> bool:
        """Subscribe when not subscribed, else unsubscribe; True when subscribed now."""
        self._check(scope, value)
        async with self._db.session() as session:
            group = linked_ids(citizen_id)
            have = set(
                await session.scalars(
                    select(Subscription.value).where(
                        Subscription.citizen_id.in_(group), Subscription.scope == scope
                    )
                )
            )
            if value in have:
                await session.execute(
                    delete(Subscription).where(
                        Subscription.citizen_id.in_(group),
                        Subscription.scope == scope,
                        Subscription.value == value,
                    )
                )
                return False
            await self._add(session, citizen_id, scope, value)
            return True

    async def subscribe(self, citizen_id: int, scope: str, value: str) -> None:
        """Make sure the person is subscribed to `value` (a particular value replaces "*")."""
        self._check(scope, value)
        async with self._db.session() as session:
            have = await session.scalar(
                select(func.count())
                .select_from(Subscription)
                .where(
                    Subscription.citizen_id.in_(linked_ids(citizen_id)),
                    Subscription.scope == scope,
                    Subscription.value == value,
                )
            )
            if not have:
                await self._add(session, citizen_id, scope, value)

    async def _add(self, session: AsyncSession, citizen_id: int, scope: str, value: str) -> None:
        # "*" and particular values of a scope exclude each other (see the module docstring).
        replaced = Subscription.value != ALL if value == ALL else Subscription.value == ALL
        await session.execute(
            delete(Subscription).where(
                Subscription.citizen_id.in_(linked_ids(citizen_id)), Subscription.scope == scope, replaced
            )
        )
        session.add(
            Subscription(citizen_id=citizen_id, scope=scope, value=value, created_at=self._clock.now())
        )
        await session.flush()

    async def unsubscribe_all(self, citizen_id: int) -> int:
        """Drop every subscription of the person; returns how many there were."""
        async with self._db.session() as session:
            result = await session.execute(
                delete(Subscription).where(Subscription.citizen_id.in_(linked_ids(citizen_id)))
            )
            return int(getattr(result, "rowcount", 0) or 0)

    async def set_quiet(self, citizen_id: int, hours: tuple[int, int] | None) -> None:
        """Quiet hours (local, [from, to)) on every linked account; None switches them off."""
        if hours is not None:
            start, end = hours
            if not (0 <= start <= 23 and 0 <= end <= 23) or start == end:
                raise ValueError(f"not quiet hours: {hours!r}")
        start_value, end_value = hours if hours is not None else (None, None)
        async with self._db.session() as session:
            await session.execute(
                update(Citizen)
                .where(Citizen.id.in_(linked_ids(citizen_id)))
                .values(quiet_from=start_value, quiet_to=end_value)
            )

    async def offer_once(self, citizen_id: int) -> bool:
        """True the first time only (per person): notices are offered once, whatever the answer."""
        async with self._db.session() as session:
            me = await session.get(Citizen, citizen_id, with_for_update=True)
            if me is None or me.notices_offered_at is not None:
                return False
            offered_elsewhere = await session.scalar(
                select(func.count())
                .select_from(Citizen)
                .where(Citizen.id.in_(linked_ids(citizen_id)), Citizen.notices_offered_at.is_not(None))
            )
            me.notices_offered_at = self._clock.now()
            return not offered_elsewhere

    async def report_municipalities(self, citizen_id: int, limit: int = 6) -> list[str]:
        """Municipalities of the person's reports, the most recent first."""
        async with self._db.session() as session:
            latest = func.max(Report.id)
            rows = await session.execute(
                select(Report.municipality_id, latest)
                .where(Report.citizen_id.in_(linked_ids(citizen_id)), Report.municipality_id.is_not(None))
                .group_by(Report.municipality_id)
                .order_by(latest.desc())
                .limit(limit)
            )
            return [str(municipality_id) for municipality_id, _ in rows]


def _quiet(start: int | None, end: int | None) -> tuple[int, int] | None:
    if start is None or end is None or start == end:
        return None
    return (start, end)
