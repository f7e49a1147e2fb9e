"""The outbox: every message a citizen (or an operator chat) is sent, persisted before it is sent.

A service calls `enqueue` inside the transaction that causes the message, so the message exists if
and only if the change does. An `OutboxWorker` later claims due rows, hands them to the platform's
`Messenger` and records what happened. Delivery is at least once: a worker killed mid-send leaves
its rows leased, and they are sent again once the lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import and_, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.messages import Ask, Button, Text, View
from bot.core.redaction import redact
from storage.db import TRANSIENT_ERRORS, Database
from storage.models import Citizen, OutboxMessage, Report

log = logging.getLogger(__name__)

PENDING = "pending"
SENT = "sent"
DEAD = "dead"

# Long enough for a slow, rate-limited send; a worker killed mid-batch delays its rows this much.
LEASE = timedelta(seconds=60)
# Stop starting new sends this close to the lease's end, so another worker cannot take them too.
LEASE_MARGIN = timedelta(seconds=10)
MAX_BACKOFF_SECONDS = 600.0
UNREACHABLE = "unreachable"
# Where a messenger's progress through a multi-part message is kept between attempts.
DONE_PARTS = "done_parts"
ERROR_LIMIT = 500


class Kind(StrEnum):
    """Who a message is for: a citizen, a forum topic, an official directly, or a report's card."""

    CITIZEN = "citizen"
    TOPIC = "topic"
    DIRECT = "direct"
    REPORT_CARD = "report_card"


KINDS = frozenset(kind.value for kind in Kind)


# ------------------------------------------------------------------------------- payloads


def _text_json(text: Text) -> dict[str, Any]:
    return {"key": text.key, "args": dict(text.args)}


def envelope(
    views: Sequence[View], lang: str, photos: Sequence[str] = (), documents: Sequence[str] = ()
) -> dict[str, Any]:
    """A JSON-able payload holding platform-neutral views, their language and attachments."""
    return {
        "lang": lang,
        "views": [
            {
                "lines": [_text_json(line) for line in view.lines],
                "buttons": [
                    [{"id": b.id, "key": b.label.key, "args": dict(b.label.args)} for b in row]
                    for row in view.buttons
                ],
                "ask": view.ask.value,
                "remove_keyboard": view.remove_keyboard,
            }
            for view in views
        ],
        "photos": list(photos),
        "documents": list(documents),
    }


def views_of(payload: dict[str, Any]) -> list[View]:
    """The views an `envelope` payload holds (the inverse of `envelope`)."""
    return [
        View(
            lines=tuple(Text(line["key"], dict(line.get("args") or {})) for line in raw.get("lines", [])),
            buttons=tuple(
                tuple(Button(b["id"], Text(b["key"], dict(b.get("args") or {}))) for b in row)
                for row in raw.get("buttons", [])
            ),
            ask=Ask(raw.get("ask", Ask.NONE.value)),
            remove_keyboard=bool(raw.get("remove_keyboard", False)),
        )
        for raw in payload.get("views", [])
    ]


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    platform: str,
    kind: Kind,
    target: str,
    payload: dict[str, Any],
    report_id: int | None = None,
    not_before: datetime | None = None,
    now: datetime,
) -> bool:
    """Add a message in the caller's transaction; False when `key` was queued before (a no-op)."""
    exists = await session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key))
    if exists is not None:
        return False
    values: dict[str, Any] = {
        "idempotency_key": key,
        "platform": platform,
        "kind": kind.value,
        "target": target,
        "report_id": report_id,
        "payload": payload,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": not_before or now,
        "created_at": now,
    }
    # Two transactions racing with one key: ON CONFLICT DO NOTHING keeps the loser's transaction
    # alive. A SAVEPOINT would do on PostgreSQL, but on SQLite (pysqlite opens transactions lazily)
    # a savepoint that is the first write becomes the outer transaction and RELEASE commits it,
    # so the message would survive a rollback of the change that caused it.
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(OutboxMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[OutboxMessage.idempotency_key])
        .returning(OutboxMessage.id)
    )
    inserted = (await session.execute(statement)).scalar_one_or_none()
    return inserted is not None


# ------------------------------------------------------------------------------- ports


@dataclass(frozen=True)
class Delivery:
    """One claimed outbox row, as a messenger sees it."""

    id: int
    platform: str
    kind: Kind
    target: str
    report_id: int | None
    payload: dict[str, Any]
    attempts: int
    key: str
    # Set for a notice's delivery: the payload is then the notice's, rendered in the citizen's language.
    notice_id: int | None = None


@dataclass(frozen=True)
class Sent:
    """Delivered."""


@dataclass(frozen=True)
class RetryAfter:
    """The platform asked to wait (flood control); not the message's fault, so no attempt is counted.

    `done_parts`: how many parts of a multi-part message already went out (resume after them)."""

    seconds: float
    done_parts: int = 0


@dataclass(frozen=True)
class Unreachable:
    """The recipient cannot be reached (blocked the bot, left, chat gone): give up for good."""

    reason: str


@dataclass(frozen=True)
class Failed:
    """Something went wrong; try again later with backoff, up to the worker's max attempts."""

    error: str
    done_parts: int = 0


Outcome = Sent | RetryAfter | Unreachable | Failed


class Messenger(Protocol):
    """Sends deliveries of one platform and reports the outcome; never raises for API errors."""

    platform: str

    async def deliver(self, delivery: Delivery) -> Outcome: ...


class BatchMessenger(Messenger, Protocol):
    """A messenger that can send one message to many recipients in one call (VK: 100 peer_ids)."""

    batch_limit: int

    async def deliver_many(self, deliveries: Sequence[Delivery]) -> list[Outcome]:
        """Outcomes in the order of `deliveries`, which all carry the same payload."""
        ...


OnUnreachable = Callable[[AsyncSession, Delivery, datetime], Awaitable[None]]


# ------------------------------------------------------------------------------- worker


def _target_of(row: OutboxMessage) -> tuple[str, str]:
    return row.platform, row.target


def recipient_id(platform: str, target: str) -> str:
    """The user or chat id of a citizen's or an official's row (old rows wrote "<platform>:<id>")."""
    prefix = f"{platform}:"
    return target[len(prefix) :] if target.startswith(prefix) else target


# What a forgotten citizen's past messages are addressed to: the rows stay for the notices' totals.
FORGOTTEN_TARGET = "forgotten"


async def erase_citizen_messages(session: AsyncSession, platform: str, user_id: str) -> None:
    """A citizen asked to be forgotten: nothing more is sent to them and no row keeps their address."""
    theirs = and_(
        OutboxMessage.kind == Kind.CITIZEN.value,
        OutboxMessage.platform == platform,
        OutboxMessage.target.in_([user_id, f"{platform}:{user_id}"]),
    )
    await session.execute(delete(OutboxMessage).where(theirs, OutboxMessage.status.not_in([SENT, DEAD])))
    await session.execute(
        update(OutboxMessage)
        .where(theirs)
        .values(target=FORGOTTEN_TARGET, payload={})
        .execution_options(synchronize_session=False)
    )


class NoticePolicy(Protocol):
    """What the worker needs to know of notices, injected so delivery knows no domain: when a
    notice row must wait (the recipient's quiet hours), and what a notice row says."""

    def held_until(self, delivery: Delivery, now: datetime) -> datetime | None: ...

    async def payload(self, session: AsyncSession, row: OutboxMessage) -> dict[str, Any]: ...


class NoNotices:
    """No notices to deliver: nothing is held, a row says what its payload says."""

    def held_until(self, delivery: Delivery, now: datetime) -> datetime | None:
        return None

    async def payload(self, session: AsyncSession, row: OutboxMessage) -> dict[str, Any]:
        return dict(row.payload)


@dataclass(frozen=True, slots=True)
class Claim:
    """Rows one pass leased (until `lease_until`), and how many it settled without sending."""

    deliveries: list[Delivery]
    handled: int
    lease_until: datetime


class OutboxWorker:
    """Claims due outbox rows, delivers them through the platform's messenger, records the outcome."""

    def __init__(
        self,
        db: Database,
        messengers: Mapping[str, Messenger],
        clock: Clock,
        *,
        batch: int = 200,
        max_attempts: int = 8,
        idle_seconds: float = 0.5,
        on_unreachable: OnUnreachable | None = None,
        concurrency: int = 32,
        notices: NoticePolicy | None = None,
    ) -> None:
        self._db = db
        self._messengers = dict(messengers)
        self._clock = clock
        self._batch = batch
        self._max_attempts = max_attempts
        self._idle_seconds = idle_seconds
        self._on_unreachable = on_unreachable
        # Sends to different recipients overlap (network latency would cap a sequential sender far
        # below the platform's rate); sends to one recipient stay in order.
        self._concurrency = concurrency
        self._notices: NoticePolicy = notices or NoNotices()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; a briefly unavailable database is waited out, never fatal."""
        ahead: asyncio.Task[Claim] | None = None
        try:
            while not stop.is_set():
                try:
                    task, ahead = ahead, None
                    claim = await task if task is not None else await self._claim_due()
                    if claim.deliveries:
                        # The next rows are claimed while these go out: the platform's rate budget
                        # is not left idle while the database works (thousands of notice rows a pass).
                        ahead = asyncio.create_task(self._claim_due(), name="outbox-claim-ahead")
                    handled = await self._deliver_claim(claim)
                except TRANSIENT_ERRORS as error:
                    log.warning("outbox: database unavailable (%s); retrying", error)
                    handled = 0
                except ExceptionGroup as group:
                    # Sends run in a task group: a database outage while recording arrives wrapped.
                    transient, rest = group.split(lambda error: isinstance(error, TRANSIENT_ERRORS))
                    if rest is not None:
                        log.exception("outbox: delivery pass failed", exc_info=rest)
                    elif transient is not None:
                        log.warning("outbox: database unavailable (%s); retrying", transient.exceptions[0])
                    handled = 0
                except Exception:
                    # A bug in one message must not stop every later message; its lease lets it retry.
                    log.exception("outbox: delivery pass failed")
                    handled = 0
                if handled == 0 and ahead is None:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=self._idle_seconds)
        finally:
            if ahead is not None:
                await self._give_back(ahead)

    async def _give_back(self, ahead: asyncio.Task[Claim]) -> None:
        """Rows claimed ahead but never sent are due again at once, not only when their lease ends."""
        try:
            claim = await ahead
            if claim.deliveries:
                await self._release([d.id for d in claim.deliveries], claim.lease_until)
        except Exception as error:
            # Their lease runs out and the next worker takes them: late, not lost.
            log.warning("outbox: could not give back rows claimed ahead (%s)", error)

    async def run_once(self) -> int:
        """One pass: claim due rows in id order, deliver them, record outcomes; returns rows handled."""
        return await self._deliver_claim(await self._claim_due())

    async def _claim_due(self) -> Claim:
        now = self._clock.now()
        lease_until = now + LEASE
        deliveries, handled = await self._claim(now, lease_until)
        return Claim(deliveries, handled, lease_until)

    async def _deliver_claim(self, claim: Claim) -> int:
        """Deliver what one claim leased and record the outcomes; returns rows handled."""
        lease_until, handled = claim.lease_until, claim.handled
        if not claim.deliveries:
            return handled
        deliveries, held = await self._hold(claim.deliveries, self._clock.now())
        chains: dict[tuple[str, str], list[Delivery]] = {}
        for delivery in deliveries:
            chains.setdefault((delivery.platform, delivery.target), []).append(delivery)
        units: list[list[Delivery]] = []
        batches: dict[tuple[str, int, str], list[Delivery]] = {}
        for chain in chains.values():
            first = chain[0]
            messenger = self._messengers[first.platform]
            if len(chain) == 1 and first.notice_id is not None and hasattr(messenger, "deliver_many"):
                lang = str(first.payload.get("lang", ""))
                batches.setdefault((first.platform, first.notice_id, lang), []).append(first)
            else:
                units.append(chain)
        results: list[tuple[Delivery, Outcome]] = []
        release: list[int] = []
        limit = asyncio.Semaphore(self._concurrency)

        async def run_chain(chain: list[Delivery]) -> None:
            async with limit:
                for index, delivery in enumerate(chain):
                    if self._clock.now() >= lease_until - LEASE_MARGIN:
                        release.extend(d.id for d in chain[index:])
                        return
                    outcome = await self._deliver(delivery)
                    # Recorded at once: a crash can then only repeat the sends still in flight.
                    await self._record([(delivery, outcome)])
                    results.append((delivery, outcome))
                    if not isinstance(outcome, Sent):
                        # A later message to this target must wait behind the one that did not go out.
                        release.extend(d.id for d in chain[index + 1 :])
                        return

        async def run_batch(group: list[Delivery]) -> None:
            async with limit:
                if self._clock.now() >= lease_until - LEASE_MARGIN:
                    release.extend(d.id for d in group)
                    return
                outcomes = list(zip(group, await self._deliver_many(group), strict=True))
                await self._record(outcomes)
                results.extend(outcomes)

        work = [run_chain(chain) for chain in units]
        for (platform, _notice, _lang), group in batches.items():
            size = max(1, int(getattr(self._messengers[platform], "batch_limit", 1)))
            work += [run_batch(group[i : i + size]) for i in range(0, len(group), size)]
        # A task group: if one send fails hard, the others are cancelled rather than left running.
        async with asyncio.TaskGroup() as jobs:
            for job in work:
                jobs.create_task(job)
        if release:
            await self._release(release, lease_until)
        return handled + len(results) + held

    async def _deliver(self, delivery: Delivery) -> Outcome:
        messenger = self._messengers[delivery.platform]
        try:
            return await messenger.deliver(delivery)
        except Exception as error:
            # Messengers map API errors to outcomes; anything else is a bug worth a retry and a log.
            log.exception("outbox: messenger %s raised on message %s", delivery.platform, delivery.id)
            return Failed(f"{type(error).__name__}: {error}")

    async def _deliver_many(self, group: list[Delivery]) -> list[Outcome]:
        messenger = self._messengers[group[0].platform]
        try:
            outcomes = list(await messenger.deliver_many(group))  # type: ignore[attr-defined]
        except Exception as error:
            log.exception("outbox: messenger %s raised on a batch of %s", group[0].platform, len(group))
            return [Failed(f"{type(error).__name__}: {error}") for _ in group]
        if len(outcomes) != len(group):
            return [Failed("messenger returned a wrong number of outcomes") for _ in group]
        return outcomes

    async def _hold(self, deliveries: list[Delivery], now: datetime) -> tuple[list[Delivery], int]:
        """Notice rows the policy holds (quiet hours) go back to wait until the moment it names."""
        if all(delivery.notice_id is None for delivery in deliveries):
            return deliveries, 0
        ready: list[Delivery] = []
        held: dict[datetime, list[int]] = {}
        for delivery in deliveries:
            until = self._notices.held_until(delivery, now) if delivery.notice_id is not None else None
            if until is not None:
                held.setdefault(until, []).append(delivery.id)
                continue
            ready.append(delivery)
        if held:
            async with self._db.session() as session:
                for until, ids in held.items():
                    await session.execute(
                        update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(next_attempt_at=until)
                    )
        return ready, sum(len(ids) for ids in held.values())

    async def _claim(self, now: datetime, lease_until: datetime) -> tuple[list[Delivery], int]:
        """Lease the due rows this worker may send now; rows for unreachable citizens die here."""
        async with self._db.session() as session:
            due = select(OutboxMessage).where(
                OutboxMessage.status == PENDING,
                OutboxMessage.next_attempt_at <= now,
                OutboxMessage.platform.in_(list(self._messengers)),
            )
            if not self._db.is_sqlite:
                # Several workers share the table: each takes rows nobody else is looking at.
                due = due.with_for_update(skip_locked=True)
            # Conversation first (answers, statuses), then notice rows: a message about a citizen's
            # report must not queue behind a notice to 100,000 people.
            rows = list(
                await session.scalars(
                    due.where(OutboxMessage.notice_id.is_(None)).order_by(OutboxMessage.id).limit(self._batch)
                )
            )
            if len(rows) < self._batch:
                notices = due.where(OutboxMessage.notice_id.is_not(None)).order_by(OutboxMessage.id)
                rows += await session.scalars(notices.limit(self._batch - len(rows)))
            if not rows:
                return [], 0
            dead = await self._unreachable_rows(session, rows)
            valid: list[OutboxMessage] = []
            for row in rows:
                if row.id in dead:
                    continue
                if row.kind not in KINDS:
                    dead[row.id] = f"unknown kind {row.kind!r}"
                    continue
                valid.append(row)
            for row_id, reason in dead.items():
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row_id)
                    .values(status=DEAD, last_error=reason[:ERROR_LIMIT])
                )
            eligible = await self._in_order(session, valid)
            leased: set[int] = set()
            if eligible:
                # Conditional on still being due: a second worker (SQLite has no row locks) that
                # read the same rows leases none of them.
                result = await session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.id.in_([row.id for row in eligible]),
                        OutboxMessage.status == PENDING,
                        OutboxMessage.next_attempt_at <= now,
                    )
                    .values(next_attempt_at=lease_until)
                    .returning(OutboxMessage.id)
                )
                leased = set(result.scalars())
            deliveries = [
                Delivery(
                    id=row.id,
                    platform=row.platform,
                    kind=Kind(row.kind),
                    target=row.target,
                    report_id=row.report_id,
                    payload=(
                        await self._notices.payload(session, row) if row.notice_id else dict(row.payload)
                    ),
                    attempts=row.attempts,
                    key=row.idempotency_key,
                    notice_id=row.notice_id,
                )
                for row in eligible
                if row.id in leased
            ]
        return deliveries, len(dead)

    async def _unreachable_rows(self, session: AsyncSession, rows: list[OutboxMessage]) -> dict[int, str]:
        """Citizen messages whose citizen already refused delivery: not to be attempted."""
        citizen_rows = [row for row in rows if row.kind == Kind.CITIZEN]
        if not citizen_rows:
            return {}
        users_by_platform: dict[str, set[str]] = {}
        for row in citizen_rows:
            users_by_platform.setdefault(row.platform, set()).add(recipient_id(row.platform, row.target))
        unreachable_users: set[tuple[str, str]] = set()
        for platform, users in users_by_platform.items():
            # One IN list per platform: a notice claims thousands of rows at once.
            found = await session.scalars(
                select(Citizen.platform_user_id).where(
                    Citizen.platform == platform,
                    Citizen.platform_user_id.in_(list(users)),
                    Citizen.unreachable_at.is_not(None),
                )
            )
            unreachable_users.update((platform, user_id) for user_id in found)
        report_ids = {row.report_id for row in citizen_rows if row.report_id is not None}
        unreachable_reports: set[int] = set()
        if report_ids:
            unreachable_reports = set(
                await session.scalars(
                    select(Report.id)
                    .join(Citizen, Citizen.id == Report.citizen_id)
                    .where(Report.id.in_(report_ids), Citizen.unreachable_at.is_not(None))
                )
            )
        return {
            row.id: UNREACHABLE
            for row in citizen_rows
            if (row.platform, recipient_id(row.platform, row.target)) in unreachable_users
            or row.report_id in unreachable_reports
        }

    async def _in_order(self, session: AsyncSession, rows: list[OutboxMessage]) -> list[OutboxMessage]:
        """The rows with no earlier pending message to the same target outside this batch.

        An earlier message may be waiting (429, backoff) or leased by another worker; a later one
        to the same chat must not overtake it. Notices are not part of a conversation, so an
        earlier notice never blocks.
        """
        if not rows:
            return []
        ours = {row.id for row in rows}
        targets = {_target_of(row) for row in rows}
        earlier = await session.execute(
            select(OutboxMessage.id, OutboxMessage.platform, OutboxMessage.target, OutboxMessage.notice_id)
            .where(
                OutboxMessage.status == PENDING,
                OutboxMessage.id <= max(ours),
                OutboxMessage.target.in_([target for _, target in targets]),
            )
            .order_by(OutboxMessage.id)
        )
        stopped: set[tuple[str, str]] = set()
        allowed: set[int] = set()
        for row_id, platform, target, notice_id in earlier.all():
            key = (platform, target)
            if key not in targets or key in stopped:
                continue
            if row_id in ours:
                allowed.add(row_id)
            elif notice_id is None:
                # A notice stands alone: one held back for quiet hours (or being sent elsewhere)
                # must not hold up an emergency or an answer about the citizen's report.
                stopped.add(key)
        return [row for row in rows if row.id in allowed]

    async def _record(self, results: list[tuple[Delivery, Outcome]]) -> None:
        """Store what the messengers reported, in one transaction."""
        if not results:
            return
        now = self._clock.now()
        async with self._db.session() as session:
            sent = [delivery.id for delivery, outcome in results if isinstance(outcome, Sent)]
            for start in range(0, len(sent), 500):
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(sent[start : start + 500]))
                    .values(status=SENT, sent_at=now, attempts=OutboxMessage.attempts + 1, last_error=None)
                )
            for delivery, outcome in results:
                if not isinstance(outcome, Sent):
                    await self._record_problem(session, delivery, outcome, now)

    async def _record_problem(
        self, session: AsyncSession, delivery: Delivery, outcome: Outcome, now: datetime
    ) -> None:
        row = await session.get(OutboxMessage, delivery.id)
        if row is None:
            return  # its report was deleted meanwhile (cascade)
        if isinstance(outcome, RetryAfter):
            row.next_attempt_at = now + timedelta(seconds=max(outcome.seconds, 0.0))
            row.last_error = f"retry after {outcome.seconds:g} s"
            self._keep_progress(row, outcome.done_parts)
        elif isinstance(outcome, Failed):
            row.attempts += 1
            row.last_error = redact(outcome.error)[:ERROR_LIMIT]
            self._keep_progress(row, outcome.done_parts)
            if row.attempts >= self._max_attempts:
                row.status = DEAD
                log.warning("outbox: message %s dead after %s attempts: %s", row.id, row.attempts, outcome)
            else:
                backoff = min(2.0**row.attempts, MAX_BACKOFF_SECONDS)
                row.next_attempt_at = now + timedelta(seconds=backoff)
        elif isinstance(outcome, Unreachable):
            row.status = DEAD
            row.attempts += 1
            row.last_error = f"{UNREACHABLE}: {redact(outcome.reason)}"[:ERROR_LIMIT]
            if delivery.kind is Kind.CITIZEN:
                await self._citizen_unreachable(session, delivery, now)

    @staticmethod
    def _keep_progress(row: OutboxMessage, done_parts: int) -> None:
        if done_parts > int(row.payload.get(DONE_PARTS, 0)):
            # A new dict: SQLAlchemy does not notice in-place changes of a JSON value.
            row.payload = {**row.payload, DONE_PARTS: done_parts}

    async def _citizen_unreachable(self, session: AsyncSession, delivery: Delivery, now: datetime) -> None:
        citizen: Citizen | None = None
        if delivery.report_id is not None:
            report = await session.get(Report, delivery.report_id)
            if report is not None and report.citizen_id is not None:
                citizen = await session.get(Citizen, report.citizen_id)
        if citizen is None:
            citizen = await session.scalar(
                select(Citizen).where(
                    Citizen.platform == delivery.platform,
                    Citizen.platform_user_id == recipient_id(delivery.platform, delivery.target),
                )
            )
        if citizen is not None and citizen.unreachable_at is None:
            citizen.unreachable_at = now
        if self._on_unreachable is not None:
            await self._on_unreachable(session, delivery, now)

    async def _release(self, ids: list[int], lease_until: datetime) -> None:
        """Give back rows this pass leased but did not send, so they are due again at once."""
        async with self._db.session() as session:
            await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_(ids),
                    OutboxMessage.status == PENDING,
                    OutboxMessage.next_attempt_at == lease_until,
                )
                .values(next_attempt_at=self._clock.now())
            )
