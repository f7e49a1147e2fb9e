"""Citizens: consent to personal-data processing (152-ФЗ), language, erasure on request, and
linking one person's Telegram and VK accounts so each shows all their reports."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Select, and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, selectinload

from bot.core.clock import Clock
from bot.delivery.outbox import DEAD, SENT, Kind, erase_citizen_messages
from bot.inbound.queue import erase_citizen_updates
from bot.services.citizens.contacts_mask import mask_contacts
from bot.services.reports.cards import CITIZEN_RELAY_KEY, queue_card
from bot.services.reports.sector_examples import forget_examples
from storage.db import Database
from storage.models import Citizen, LinkCode, OutboxMessage, Report, Subscription

# No 0/O, 1/I: a code is read on one screen and typed on another.
LINK_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
LINK_CODE_LENGTH = 8
LINK_CODE_TTL = timedelta(minutes=10)
# Wrong codes allowed per account per window: 5 of 32**8 codes make guessing hopeless.
LINK_MAX_FAILURES = 5
LINK_FAILURE_WINDOW = timedelta(hours=1)
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—_.]+")
_CODE_SHAPE = re.compile(f"[{LINK_ALPHABET}]{{{LINK_CODE_LENGTH}}}")
# How report_actions.relay_to_topic keys a citizen's follow-up into the report's topic.


class LinkResult(StrEnum):
    """What redeeming a link code did."""

    LINKED = "linked"
    ALREADY_LINKED = "already_linked"
    # Unknown, expired or already used: one answer, so codes cannot be probed.
    INVALID = "invalid"
    SAME_ACCOUNT = "same_account"
    # Linking joins different messengers; a code from another account here is refused.
    SAME_PLATFORM = "same_platform"
    TOO_MANY_ATTEMPTS = "too_many_attempts"


def normalize_code(raw: str) -> str:
    """A typed code as stored: upper case, without spaces or dashes."""
    return _SEPARATORS.sub("", raw).upper()


def linked_ids(citizen_id: int) -> Select[int]:
    """Ids of every account in the citizen's linked group, the citizen included (a subquery)."""
    me = aliased(Citizen)
    my_person = select(me.person_id).where(me.id == citizen_id).scalar_subquery()
    # person_id = NULL is never true, so an unlinked citizen's group is the citizen alone.
    return select(Citizen.id).where(or_(Citizen.id == citizen_id, Citizen.person_id == my_person))


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

        The reports themselves stay (bodies must answer them), but no longer point to anyone, lose
        the phone number, and have phones and e-mails masked in their texts and history; their
        cards are refreshed so operators no longer see them. Messages not yet sent to them, or not
        yet relayed from them into a topic, are dropped; sent ones lose their address and content.
        Messages already relayed into Telegram topics stay in Telegram: the bot cannot recall them.
        The dialog runner drops the citizen's dialog state and flood counter (SQL or Redis) in the
        same update.
        """
        async with self._db.session() as session:
            citizen = await session.get(Citizen, citizen_id)
            if citizen is None:
                return 0
            reports = list(
                await session.scalars(
                    select(Report)
                    .where(Report.citizen_id == citizen_id)
                    .options(selectinload(Report.history))
                    .order_by(Report.id)
                )
            )
            for report in reports:
                _mask_report(report)
            person_id = citizen.person_id
            await erase_citizen_messages(session, citizen.platform, citizen.platform_user_id)
            await erase_citizen_updates(session, citizen.platform, citizen.platform_user_id)
            await _erase_relays(session, [report.id for report in reports])
            # Explicit, not left to ON DELETE CASCADE: erasure must not depend on a pragma.
            await session.execute(delete(Subscription).where(Subscription.citizen_id == citizen_id))
            await session.execute(delete(LinkCode).where(LinkCode.citizen_id == citizen_id))
            await forget_examples(session, citizen_id)
            await session.delete(citizen)
            await session.flush()
            # The other accounts of the group stay linked to one another (their codes and
            # reports untouched).
            if person_id is not None:
                await _relabel(session, person_id)
            await _refresh_cards(session, reports, self._clock.now())
            return len(reports)

    # Linking accounts --------------------------------------------------------------------------

    async def issue_link_code(self, citizen_id: int) -> str:
        """A fresh one-time code for this account, valid LINK_CODE_TTL; an earlier one stops working."""
        now = self._clock.now()
        for _ in range(5):
            code = "".join(secrets.choice(LINK_ALPHABET) for _ in range(LINK_CODE_LENGTH))
            try:
                async with self._db.session(savepoint=True) as session:
                    # Housekeeping: expired codes of anyone are of no further use.
                    await session.execute(
                        delete(LinkCode).where(
                            or_(LinkCode.citizen_id == citizen_id, LinkCode.expires_at <= now)
                        )
                    )
                    session.add(
                        LinkCode(
                            code=code, citizen_id=citizen_id, created_at=now, expires_at=now + LINK_CODE_TTL
                        )
                    )
                    await session.flush()
                return code
            except IntegrityError:
                # The same code drawn twice (about 1 in 10**12), or a concurrent issue for this
                # account: draw again.
                continue
        raise RuntimeError("could not issue a unique link code")

    async def redeem_link_code(self, citizen_id: int, raw_code: str) -> LinkResult:
        """Link this account with the account that issued `raw_code` (and with their groups)."""
        code = normalize_code(raw_code)
        now = self._clock.now()
        async with self._db.session() as session:
            # Locked (on PostgreSQL) so parallel attempts of one account cannot lose a failure count.
            me = await session.get(Citizen, citizen_id, with_for_update=True)
            if me is None:
                return LinkResult.INVALID
            if me.link_failures_since is not None and now - me.link_failures_since >= LINK_FAILURE_WINDOW:
                me.link_failures, me.link_failures_since = 0, None
            if me.link_failures >= LINK_MAX_FAILURES:
                return LinkResult.TOO_MANY_ATTEMPTS
            if not _CODE_SHAPE.fullmatch(code):
                # Not a code at all (a typo, a sentence): it cannot hit one, so no attempt is used.
                return LinkResult.INVALID
            row = await session.get(LinkCode, code)
            if row is None or row.expires_at <= now:
                # The counter lives on the citizen row, so the limit holds across restarts and
                # workers; it is written in this transaction, which commits on return.
                if me.link_failures_since is None:
                    me.link_failures_since = now
                me.link_failures += 1
                if row is not None:
                    await session.delete(row)
                return LinkResult.INVALID
            if row.citizen_id == citizen_id:
                return LinkResult.SAME_ACCOUNT
            other = await session.get(Citizen, row.citizen_id)
            if other is None:
                return LinkResult.INVALID
            if other.platform == me.platform:
                return LinkResult.SAME_PLATFORM
            # Single use: only the transaction that deletes the row goes on, whatever races it.
            deleted = await session.execute(delete(LinkCode).where(LinkCode.code == code))
            if int(getattr(deleted, "rowcount", 0) or 0) != 1:
                return LinkResult.INVALID
            mine = me.person_id if me.person_id is not None else me.id
            theirs = other.person_id if other.person_id is not None else other.id
            if mine == theirs:
                return LinkResult.ALREADY_LINKED
            # Merge both groups under the smaller label: each is its group's smallest member id.
            members = or_(
                Citizen.id.in_((me.id, other.id)),
                Citizen.person_id.in_([p for p in (me.person_id, other.person_id) if p is not None]),
            )
            await session.execute(update(Citizen).where(members).values(person_id=min(mine, theirs)))
            return LinkResult.LINKED

    async def unlink(self, citizen_id: int) -> bool:
        """Detach this account from its group; the others stay linked. False if it was not linked."""
        async with self._db.session() as session:
            me = await session.get(Citizen, citizen_id)
            if me is None or me.person_id is None:
                return False
            person_id = me.person_id
            me.person_id = None
            await session.flush()
            await _relabel(session, person_id)
            return True

    async def linked_accounts(self, citizen_id: int) -> list[CitizenInfo]:
        """The other accounts linked with this one (empty when it is not linked)."""
        async with self._db.session() as session:
            rows = await session.scalars(
                select(Citizen)
                .where(Citizen.id.in_(linked_ids(citizen_id)), Citizen.id != citizen_id)
                .order_by(Citizen.id)
            )
            return [_info(row) for row in rows]


def _mask_report(report: Report) -> None:
    report.citizen_id = None
    report.phone = None
    report.text = mask_contacts(report.text)
    if report.address:
        report.address = mask_contacts(report.address)
    if report.rating_comment:
        report.rating_comment = mask_contacts(report.rating_comment)
    for change in report.history:
        if change.comment:
            change.comment = mask_contacts(change.comment)


async def _erase_relays(session: AsyncSession, report_ids: list[int]) -> None:
    """The citizen's own words on their way into report topics: unsent ones dropped, sent ones emptied."""
    if not report_ids:
        return
    relays = and_(
        OutboxMessage.kind == Kind.TOPIC.value,
        OutboxMessage.report_id.in_(report_ids),
        OutboxMessage.idempotency_key.like(f"{CITIZEN_RELAY_KEY}%"),
    )
    await session.execute(delete(OutboxMessage).where(relays, OutboxMessage.status.not_in([SENT, DEAD])))
    await session.execute(
        update(OutboxMessage).where(relays).values(payload={}).execution_options(synchronize_session=False)
    )


async def _refresh_cards(session: AsyncSession, reports: list[Report], now: datetime) -> None:
    """Queue each report's card again, so its topic shows the masked text and no phone (erasure
    changes no state of the report, so the refresh is keyed by its own reason)."""
    for report in reports:
        await queue_card(session, report, now, refresh=f"erased:{now.timestamp():.0f}")


async def _relabel(session: AsyncSession, person_id: int) -> None:
    """After a member left group `person_id`: keep its label the smallest living member's id, and
    clear it when one account is left alone (a group of one is no group)."""
    members = list(
        await session.scalars(select(Citizen.id).where(Citizen.person_id == person_id).order_by(Citizen.id))
    )
    if not members:
        return
    label = members[0] if len(members) > 1 else None
    if label != person_id:
        await session.execute(update(Citizen).where(Citizen.person_id == person_id).values(person_id=label))
