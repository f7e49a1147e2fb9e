"""Notices from the comms team (информирование): what a notice is, who its audience selects, how it looks.

`bot.notice_plans.NoticePlans` stores and plans notices; `bot.notice_service.NoticeService` is the
checked API over it (only `comms` staff compose, four-eyes above a size).

A confirmed notice becomes one outbox row per recipient (key "notice:<notice>:<citizen>"), so the
delivery workers send it with the same guarantees as every other message: persisted before it is
sent, rate-limited, retried, never planned twice. The row holds only the citizen's language and
quiet hours; the text is the notice's, rendered when the row is sent.

Who receives a notice (only consented citizens the messenger has not refused, i.e.
`Citizen.unreachable_at IS NULL`; every stored citizen has consented):
- `reports` given: the citizens who filed those reports (they get news about their own problem
  without subscribing), filtered by `platforms` if given;
- otherwise subscribers only (at least one `Subscription`): `everyone` = every subscriber;
  `municipalities` = a municipality subscription among them or "*" (someone subscribed to sectors
  only counts as subscribed to all municipalities); `sectors` likewise (municipalities only = all
  sectors); both given = both must match; `platforms` filters by messenger;
- `platforms` alone chooses nobody: an audience with nothing but a platform is empty and refused,
  so a slip never sends to everyone.
- A person is a linked group of accounts (one `coalesce(person_id, id)`): the group's subscriptions
  (and reports) are the union of its accounts', and it gets ONE delivery, on its reachable account
  (of the chosen platforms) with the smallest id. So a person whose Telegram account blocked the
  bot still hears on VK, and nobody hears twice.
The selection is one SQL query (one GROUP BY per linked group, see `recipients_query`), fast for
100,000 citizens on SQLite and PostgreSQL; planning inserts the rows in multi-row batches.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from bot.core.buttons import UNSUBSCRIBE
from bot.core.messages import Button, Text, View
from bot.delivery.outbox import envelope
from bot.delivery.ports import Delivery
from storage.models import Citizen, Notice, OutboxMessage, Report, Subscription

TEXT_LIMIT = 3500
# A report number as the bot issues it ("26-000042"; older ones had a four-digit year). Typed
# numbers are checked by this shape only: whether a number exists is never told.
REPORT_NUMBER_FORMAT = re.compile(r"^\d{2,4}-\d{1,12}$")


class NoticeKind(StrEnum):
    INFO = "info"
    OUTAGE = "outage"
    EMERGENCY = "emergency"
    FACTCHECK = "factcheck"


class NoticeStatus(StrEnum):
    DRAFT = "draft"
    # Confirmed by its composer, waiting for a second person's approval (four-eyes).
    AWAITING = "awaiting"
    SENDING = "sending"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"


@dataclass(frozen=True)
class Audience:
    """Who a notice is for; see the module docstring for how the filters combine."""

    everyone: bool = False
    municipalities: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    reports: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "everyone": self.everyone,
            "municipalities": list(self.municipalities),
            "sectors": list(self.sectors),
            "platforms": list(self.platforms),
            "reports": list(self.reports),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Audience:
        return cls(
            everyone=bool(data.get("everyone", False)),
            municipalities=tuple(str(v) for v in data.get("municipalities") or ()),
            sectors=tuple(str(v) for v in data.get("sectors") or ()),
            platforms=tuple(str(v) for v in data.get("platforms") or ()),
            reports=tuple(str(v) for v in data.get("reports") or ()),
        )

    def is_empty(self) -> bool:
        """Nothing chosen at all: refused, so a slip never sends to everyone."""
        return not (self.everyone or self.municipalities or self.sectors or self.reports)


@dataclass(frozen=True)
class NoticeDraft:
    kind: NoticeKind
    text: str
    audience: Audience
    # A fact-check: the false claim, the facts (the text) and where they come from.
    claim: str | None = None
    source: str | None = None
    photo: str | None = None
    send_at: datetime | None = None


@dataclass(frozen=True)
class NoticeStats:
    notice_id: int
    status: str
    total: int
    sent: int
    failed: int
    unreachable: int
    waiting: int
    paused: int
    cancelled: int
    rate_per_minute: float
    eta_seconds: float | None = field(default=None)

    @property
    def finished(self) -> bool:
        return self.waiting == 0 and self.paused == 0


def notice_views(kind: str, text: str, claim: str | None, source: str | None) -> list[View]:
    """Exactly what a citizen sees: the kind's header, the body, and the unsubscribe button."""
    lines: list[Text] = [Text(f"notice-head-{kind}")]
    if kind == NoticeKind.FACTCHECK:
        lines += [
            Text("notice-factcheck-claim"),
            Text.raw(claim or "—"),
            Text("notice-factcheck-facts"),
            Text.raw(text),
            Text("notice-factcheck-source", {"source": source or "—"}),
        ]
    else:
        lines.append(Text.raw(text))
    return [View(tuple(lines), ((Button(UNSUBSCRIBE, Text("btn-notice-unsubscribe")),),))]


def notice_payload(notice: Notice, lang: str) -> dict[str, Any]:
    """The outbox payload of a notice in one language."""
    views = notice_views(notice.kind, notice.text, notice.claim, notice.source)
    return envelope(views, lang, photos=[notice.photo] if notice.photo else [])


def quiet_until(now: datetime, quiet_from: int | None, quiet_to: int | None, tz: ZoneInfo) -> datetime | None:
    """When the quiet hours [from:00, to:00) around `now` end (UTC), or None outside them."""
    if quiet_from is None or quiet_to is None or quiet_from == quiet_to:
        return None
    local = now.astimezone(tz)
    hour = local.hour
    inside = quiet_from <= hour < quiet_to if quiet_from < quiet_to else hour >= quiet_from or hour < quiet_to
    if not inside:
        return None
    end = local.replace(hour=quiet_to, minute=0, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(UTC)


class NoticeDeliveryPolicy:
    """The delivery worker's view of notices: quiet hours hold a row back (emergencies excepted),
    and a row says the notice rendered in its recipient's language."""

    def __init__(self, timezone: ZoneInfo) -> None:
        self._timezone = timezone
        # Notices do not change once confirmed: their rendered payloads are cached per language.
        self._payloads: dict[tuple[int, str], dict[str, Any]] = {}

    def held_until(self, delivery: Delivery, now: datetime) -> datetime | None:
        """When the recipient's quiet hours end, if this non-urgent notice row falls inside them."""
        quiet = delivery.payload.get("quiet")
        if delivery.payload.get("urgent") or not quiet:
            return None
        return quiet_until(now, quiet[0], quiet[1], self._timezone)

    async def payload(self, session: AsyncSession, row: OutboxMessage) -> dict[str, Any]:
        """A notice row's payload: the notice rendered in the row's language, plus the row's own keys."""
        assert row.notice_id is not None
        lang = str(row.payload.get("lang", "ru"))
        cached = self._payloads.get((row.notice_id, lang))
        if cached is None:
            notice = await session.get(Notice, row.notice_id)
            if notice is None:
                return dict(row.payload)
            cached = self._payloads[(row.notice_id, lang)] = notice_payload(notice, lang)
        return {**cached, **row.payload}


def recipients_query(audience: Audience) -> Select[Any]:
    """Ids of the recipients: one reachable account per chosen person.

    One GROUP BY over accounts (outer-joined to their subscriptions, or to the chosen reports) per
    linked group: the HAVING clause decides whether the group is chosen, and the smallest reachable
    account id (of the chosen platforms) is where it hears. A single level of hash join and hash
    aggregate, so no planner estimate can turn it into a nested loop over 100,000 accounts.
    """
    person = func.coalesce(Citizen.person_id, Citizen.id)
    reachable: list[ColumnElement[bool]] = [Citizen.unreachable_at.is_(None)]
    if audience.platforms:
        reachable.append(Citizen.platform.in_(list(audience.platforms)))
    recipient = func.min(case((and_(*reachable), Citizen.id), else_=None))
    chosen: list[ColumnElement[bool]] = [recipient.is_not(None)]
    query = select(recipient.label("id")).select_from(Citizen)
    if audience.reports:
        filed = and_(Report.citizen_id == Citizen.id, Report.number.in_(list(audience.reports)))
        query = query.outerjoin(Report, filed)
        chosen.append(func.count(Report.id) > 0)
    else:
        query = query.outerjoin(Subscription, Subscription.citizen_id == Citizen.id)
        chosen.append(func.count(Subscription.id) > 0)
        # A scope with no subscription at all counts as "all of them"; otherwise one of its values
        # must be among the chosen (or be "*").
        for scope, values in (("municipality", audience.municipalities), ("sector", audience.sectors)):
            if not values:
                continue
            of_scope = Subscription.scope == scope
            matching = and_(of_scope, Subscription.value.in_([*values, "*"]))
            chosen.append(
                or_(
                    func.max(case((matching, 1), else_=0)) == 1,
                    func.max(case((of_scope, 1), else_=0)) == 0,
                )
            )
    return query.group_by(person).having(and_(*chosen))


def content_hash(
    kind: str, text: str, claim: str | None, source: str | None, photo: str | None, audience: dict[str, Any]
) -> str:
    """sha256 of everything an approver approves; any edit gives another hash."""
    canonical = {
        "kind": kind,
        "text": text,
        "claim": claim,
        "source": source,
        "photo": photo,
        # Normalised, so the same audience always hashes the same whatever stored it.
        "audience": Audience.from_json(audience).to_json(),
    }
    encoded = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


def notice_hash(notice: Notice) -> str:
    """The approval hash of a stored notice as it is now."""
    return content_hash(notice.kind, notice.text, notice.claim, notice.source, notice.photo, notice.audience)


def malformed_report_numbers(numbers: Iterable[str]) -> list[str]:
    """The numbers not shaped like a report number (existence is not looked up)."""
    return [number for number in numbers if not REPORT_NUMBER_FORMAT.match(number)]
