"""The weekly digest of repeated reports (issue #16): the top recurring problems per municipality,
to the ЦУР chat (every sector) and to each block head (their sector), once per ISO week.

The digest of a week is due from a configured weekday and hour in the region's time zone and covers
the seven days before that moment. Each recipient's message is one outbox row keyed by the week, so
a pass that runs twice, a process that restarts, or two processes racing queue it once. Only sector,
place (street and house, or the pin) and report numbers are shown: never a citizen's words.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.messages import Text, View
from bot.delivery.postbox import STAFF_LANGUAGE, to_official
from bot.services.chats import TSUR_BODY, binding_of_body
from bot.services.geo.addresses import CROSSROADS, UNKNOWN_TYPE, street_name
from bot.services.incidents.places import PlaceRule, place_rules
from bot.services.incidents.repeats import (
    REPEAT_WINDOW,
    PlacedReport,
    RecurringProblem,
    find_recurring,
    top_per_municipality,
)
from bot.services.periodic import every
from bot.services.reports.block_contacts import HEAD
from bot.services.staff.registry import role_holders
from bot.services.staff.roles import Role
from storage.db import Database
from storage.models import BlockContact, Municipality, OutboxMessage, ReportThread, Sector

log = logging.getLogger(__name__)

KEY_PREFIX = "digest"
DATE_FORMAT = "%d.%m.%Y"
PERIOD = timedelta(days=7)
# A Telegram supergroup id is -100 followed by the id its message links use.
_SUPERGROUP_PREFIX = "-100"
# What digest.ftl selects on for a part of a place the address does not name (Fluent cannot test
# for an empty string).
NONE = "none"


@dataclass(frozen=True)
class DigestPolicy:
    """When the digest goes out and how much it shows."""

    weekday: int = 0  # Monday (datetime.weekday()): the past week is fresh on its first working morning
    hour: int = 9  # local time: after the morning shift has started reading its chats
    top: int = 5  # problems per municipality
    max_municipalities: int = 10  # keeps the ЦУР's message readable: the worst municipalities first
    numbers_shown: int = 3  # the latest report numbers of a problem; the rest are counted
    window: timedelta = REPEAT_WINDOW

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6 or not 0 <= self.hour <= 23:
            raise ValueError(f"digest weekday 0-6 and hour 0-23, got {self.weekday} and {self.hour}")
        if min(self.top, self.max_municipalities, self.numbers_shown) < 1:
            raise ValueError("digest top, max_municipalities and numbers_shown must be at least 1")


@dataclass(frozen=True)
class Week:
    """One digest's week: its ISO label and the period [since, until) it covers (aware UTC)."""

    label: str  # "2026-W49"
    since: datetime
    until: datetime


@dataclass(frozen=True)
class Recipient:
    """Who gets one digest: the ЦУР chat (every sector) or one sector's head."""

    key: str  # the part of the outbox key that names the recipient
    chat_id: str
    sector_id: str | None  # None: every sector


def digest_week(now: datetime, tz: ZoneInfo, policy: DigestPolicy) -> Week | None:
    """The week whose digest is due at `now`, or None before this week's weekday and hour."""
    local = now.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    moment = datetime.combine(monday + timedelta(days=policy.weekday), time(policy.hour), tzinfo=tz)
    if local < moment:
        return None  # last week's digest was due last week; a late one would repeat what was read
    year, week, _ = monday.isocalendar()
    until = moment.astimezone(now.tzinfo)
    return Week(f"{year}-W{week:02d}", until - PERIOD, until)


def topic_link(chat_id: int, thread_id: int) -> str | None:
    """A t.me link to a forum topic (for members of the chat); None for a chat that is no supergroup."""
    raw = str(chat_id)
    if not raw.startswith(_SUPERGROUP_PREFIX) or len(raw) <= len(_SUPERGROUP_PREFIX):
        return None
    return f"https://t.me/c/{raw[len(_SUPERGROUP_PREFIX) :]}/{thread_id}"


def place_args(report: PlacedReport, kind: str = "point") -> dict[str, str]:
    """How a problem's place is shown under its sector's rule `kind`: the street and house (or the
    pin) of a spot, the street, the settlement, or the whole municipality."""
    if kind in ("municipality", "settlement"):
        # One address of a town-wide problem would mislead: the rule compared no streets.
        named = _title(report.settlement_key or "") if kind == "settlement" else ""
        return {"kind": "area", "settlement": named or NONE}
    key = report.street_key
    if key is not None and key.startswith(CROSSROADS + ":"):
        return {"kind": "crossroads", "street": " / ".join(_title(s) for s in street_name(key).split("|"))}
    if key is not None:
        street_type, _, _ = key.partition(":")
        street = _title(street_name(key))
        # "Ленина" reads as a street by itself; other types are named ("проспект Ленина").
        place = street if street_type in ("улица", UNKNOWN_TYPE) else f"{street_type} {street}"
        house = report.house if kind == "point" and report.house else NONE
        return {"kind": "street", "street": place, "house": house}
    if report.lat is not None and report.lon is not None:
        return {"kind": "pin", "lat": f"{report.lat:.4f}", "lon": f"{report.lon:.4f}"}
    return {"kind": "area", "settlement": _title(report.settlement_key or "") or NONE}


def _title(words: str) -> str:
    return " ".join(part[:1].upper() + part[1:] for part in words.split())


def digest_view(
    problems: Sequence[RecurringProblem],
    *,
    week: Week,
    tz: ZoneInfo,
    policy: DigestPolicy,
    sector_names: Mapping[str, str],
    municipality_names: Mapping[str, str],
    links: Mapping[int, str],
    sector_id: str | None,
) -> View:
    """The digest of ranked `problems` for one recipient (all sectors when `sector_id` is None)."""
    period = {
        "week": week.label,
        "start": week.since.astimezone(tz).strftime(DATE_FORMAT),
        "end": (week.until.astimezone(tz) - timedelta(seconds=1)).strftime(DATE_FORMAT),
        "days": policy.window.days,
    }
    lines: list[Text] = []
    if sector_id is None:
        lines.append(Text("digest-title-all", period))
    else:
        lines.append(
            Text("digest-title-sector", {**period, "sector": sector_names.get(sector_id, sector_id)})
        )
    chosen = [p for p in problems if sector_id is None or p.sector_id == sector_id]
    if not chosen:
        lines.append(Text("digest-empty", period))
        return View(tuple(lines))
    by_municipality = top_per_municipality(chosen, policy.top)
    # The municipalities with the most repeats first; then by name so the order is stable.
    order = sorted(
        by_municipality,
        key=lambda m: (-sum(p.repeats for p in by_municipality[m]), municipality_names.get(m, m)),
    )
    for municipality_id in order[: policy.max_municipalities]:
        lines.append(
            Text("digest-municipality", {"name": municipality_names.get(municipality_id, municipality_id)})
        )
        for rank, problem in enumerate(by_municipality[municipality_id], start=1):
            lines.append(_problem_line(rank, problem, sector_names))
            lines += _number_lines(problem, links, policy.numbers_shown)
    if len(order) > policy.max_municipalities:
        lines.append(Text("digest-more-municipalities", {"count": len(order) - policy.max_municipalities}))
    lines.append(Text("digest-footer", period))
    return View(tuple(lines))


def _problem_line(rank: int, problem: RecurringProblem, sector_names: Mapping[str, str]) -> Text:
    args: dict[str, Any] = {
        "rank": rank,
        "sector": sector_names.get(problem.sector_id, problem.sector_id),
        "reports": len(problem.reports),
        "repeats": problem.repeats,
        "street": NONE,
        "house": NONE,
        "lat": NONE,
        "lon": NONE,
        "settlement": NONE,
    }
    args.update(place_args(problem.where, problem.place_kind))
    return Text("digest-problem", args)


def _number_lines(problem: RecurringProblem, links: Mapping[int, str], shown: int) -> list[Text]:
    latest = problem.reports[-shown:]
    lines = [
        Text("digest-report-link", {"number": r.number, "link": links[r.id]})
        if r.id in links
        else Text("digest-report", {"number": r.number})
        for r in reversed(latest)  # the newest first: the one still being worked on
    ]
    if len(problem.reports) > shown:
        lines.append(Text("digest-more-reports", {"count": len(problem.reports) - shown}))
    return lines


class WeeklyDigest:
    """Queues each week's digest once per recipient, from the database state alone."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        tz: ZoneInfo,
        policy: DigestPolicy = DigestPolicy(),
        rules: Mapping[str, PlaceRule] | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._tz = tz
        self._policy = policy
        self._rules = dict(rules) if rules is not None else place_rules()

    async def tick(self) -> list[str]:
        """One pass: queue the due week's digests not queued yet; returns the outbox keys queued now."""
        now = self._clock.now()
        week = digest_week(now, self._tz, self._policy)
        if week is None:
            return []
        async with self._db.session() as session:
            recipients = await self._recipients(session)
            keys = {r.key: f"{KEY_PREFIX}:{week.label}:{r.key}" for r in recipients}
            queued = set(
                await session.scalars(
                    select(OutboxMessage.idempotency_key).where(
                        OutboxMessage.idempotency_key.in_(keys.values())
                    )
                )
            )
            missing = [r for r in recipients if keys[r.key] not in queued]
            sent: list[str] = []
            if missing:
                sent = await self._queue(session, week, missing, keys, now)
        # Each tick re-reads the recipients (a few small queries), so a head appointed mid-week still
        # gets this week's digest, and the repeats are only computed while someone lacks theirs.
        return sent

    async def run(self, stop: asyncio.Event, interval: float = 300.0) -> None:
        """Tick every `interval` seconds until `stop` is set; failures are logged, never fatal."""

        async def one_pass() -> None:
            sent = await self.tick()
            if sent:
                log.info("weekly digests queued: %s", sent)

        await every(interval, stop, one_pass, log, "digest")

    async def _queue(
        self,
        session: AsyncSession,
        week: Week,
        recipients: Sequence[Recipient],
        keys: Mapping[str, str],
        now: datetime,
    ) -> list[str]:
        problems = await find_recurring(
            session, self._rules, since=week.since, until=week.until, window=self._policy.window
        )
        names = await self._names(session, problems)
        sent = []
        for recipient in recipients:
            view = digest_view(
                problems,
                week=week,
                tz=self._tz,
                policy=self._policy,
                sector_names=names[0],
                municipality_names=names[1],
                links=names[2],
                sector_id=recipient.sector_id,
            )
            key = keys[recipient.key]
            if await to_official(session, chat_id=recipient.chat_id, key=key, views=[view], now=now):
                sent.append(key)
        return sent

    async def _recipients(self, session: AsyncSession) -> list[Recipient]:
        """The ЦУР chat when bound, and each active sector's head (as the SLA escalation finds them)."""
        recipients: list[Recipient] = []
        tsur = await binding_of_body(session, TSUR_BODY)
        if tsur is not None:
            recipients.append(Recipient(TSUR_BODY, str(tsur.chat_id), None))
        contacts = {
            c.sector_id: c.platform_user_id
            for c in await session.scalars(select(BlockContact).where(BlockContact.level == HEAD))
        }
        for sector_id in await session.scalars(
            select(Sector.id).where(Sector.active).order_by(Sector.position)
        ):
            # A head in the staff registry outranks the configured contact, as in the escalation.
            holders = await role_holders(session, Role.HEAD, sector_id)
            user_id = holders[0][0] if holders else contacts.get(sector_id)
            if user_id:
                recipients.append(Recipient(f"{HEAD}:{sector_id}:{user_id}", user_id, sector_id))
        return recipients

    async def _names(
        self, session: AsyncSession, problems: Sequence[RecurringProblem]
    ) -> tuple[dict[str, str], dict[str, str], dict[int, str]]:
        """Sector and municipality names in the staff's language, and topic links of shown reports."""
        english = STAFF_LANGUAGE == "en"
        sectors = {s.id: s.name_en if english else s.name_ru for s in await session.scalars(select(Sector))}
        wanted = {p.municipality_id for p in problems}
        municipalities = {
            m.id: m.name
            for m in await session.scalars(select(Municipality).where(Municipality.id.in_(sorted(wanted))))
        }
        shown = [r.id for p in problems for r in p.reports[-self._policy.numbers_shown :]]
        links: dict[int, str] = {}
        for start in range(0, len(shown), 500):  # bounded IN lists for every driver
            rows = await session.scalars(
                select(ReportThread).where(ReportThread.report_id.in_(shown[start : start + 500]))
            )
            for row in rows:
                link = topic_link(row.chat_id, row.thread_id)
                if link is not None:
                    links[row.report_id] = link
        return sectors, municipalities, links
