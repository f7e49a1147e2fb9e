"""The spike detector's running pass (issue #16): recent reports from the database, alerts in
`spike_alerts`, the alert posted to the ЦУР operator chat through the outbox in the transaction of
its row, and the operators' three decisions (open an incident, notify residents, ignore).

Every pass works from the database: the live alerts of a family (a sector in a municipality) are
read from the table, so a restart or a second process extends an alert instead of repeating it
(and the unique (cluster, opened_hour) row settles a race). The baseline is rebuilt from the last
28 days when the hour changes; reports attached to alerts are left out of it (a burst is no normal
Tuesday).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.messages import Button, Text, View
from bot.delivery.postbox import to_official
from bot.services.catalog import Catalog
from bot.services.chats import TSUR_BODY, binding_of_body
from bot.services.incidents.spike_decisions import (
    OPEN,
    Decided,
    Decision,
    OpenIncident,
    SignButton,
    SpikeRefused,
)
from bot.services.incidents.spike_texts import PIN_URL, place_label, place_of, place_words, typical_texts
from bot.services.incidents.spikes import (
    Baseline,
    Cell,
    Sighting,
    Signal,
    SpikeConfig,
    cell_key,
    p_value_text,
    populations,
    scan,
)
from bot.services.periodic import every
from bot.services.staff.audit import AuditAction, record
from bot.services.staff.registry import StaffService
from bot.services.staff.roles import Principal, Right
from storage.db import Database
from storage.models import CommsChat, Report, SpikeAlert

log = logging.getLogger(__name__)

STAFF_LANG = "ru"


def _ids(stored: str) -> list[int]:
    return [int(part) for part in stored.split(",") if part.strip().isdigit()]


class SpikeWatch:
    """Runs the detector over the database; `decide` carries out the operators' buttons."""

    def __init__(
        self,
        db: Database,
        catalog: Catalog,
        clock: Clock,
        staff: StaffService,
        *,
        sign: SignButton,
        open_incident: OpenIncident,
        timezone: ZoneInfo,
        config: SpikeConfig | None = None,
    ) -> None:
        self._db = db
        self._catalog = catalog
        self._clock = clock
        self._staff = staff
        self._sign = sign
        self._open_incident = open_incident
        self._tz = timezone
        self._config = config or SpikeConfig()
        self._people = populations(catalog.municipalities.all())
        self._baseline: Baseline | None = None
        self._built_hour: datetime | None = None

    # ------------------------------------------------------------------------------ the pass
    async def tick(self) -> list[int]:
        """One pass; returns the ids of the alerts opened now (extended ones are not listed)."""
        now = self._clock.now()
        baseline = await self._current_baseline(now)
        recent, texts = await self._recent(now)
        opened: list[int] = []
        for signal in scan(recent, now, baseline, self._config):
            alert_id = await self._store(signal, now, texts)
            if alert_id is not None:
                opened.append(alert_id)
        return opened

    async def run(self, stop: asyncio.Event, interval: float = 300.0) -> None:
        """Tick every `interval` seconds (5 min keeps a burst's alert within 15 min) until `stop`."""

        async def one_pass() -> None:
            opened = await self.tick()
            if opened:
                log.info("spike alerts opened: %s", opened)

        await every(interval, stop, one_pass, log, "spike")

    async def _current_baseline(self, now: datetime) -> Baseline:
        hour = now.replace(minute=0, second=0, microsecond=0)
        if self._baseline is not None and self._built_hour == hour:
            return self._baseline
        end = now - self._config.window
        since = end - timedelta(days=self._config.warm_days)
        async with self._db.session() as session:
            first = await session.scalar(select(func.min(Report.created_at)))
            skip: set[int] = set()
            for stored in await session.scalars(
                select(SpikeAlert.report_ids).where(SpikeAlert.last_seen_at >= since)
            ):
                skip.update(_ids(stored))
            rows = await session.execute(
                select(
                    Report.id,
                    Report.created_at,
                    Report.sector_id,
                    Report.municipality_id,
                    Report.settlement_key,
                    Report.street_key,
                ).where(
                    Report.created_at >= since,
                    Report.created_at < end,
                    Report.municipality_id.is_not(None),
                )
            )
            history = [
                Sighting(at, sector, str(muni), place_of(street, settlement), rid)
                for rid, at, sector, muni, settlement, street in rows
                if rid not in skip
            ]
        # The baseline spans only the time reports were kept: a new installation is cold.
        start = max(since, first) if first is not None else end
        self._baseline = Baseline(history, start, end, self._people, self._tz, self._config)
        self._built_hour = hour
        return self._baseline

    async def _recent(self, now: datetime) -> tuple[list[Sighting], dict[int, str]]:
        async with self._db.session() as session:
            rows = await session.execute(
                select(
                    Report.id,
                    Report.created_at,
                    Report.sector_id,
                    Report.municipality_id,
                    Report.settlement_key,
                    Report.street_key,
                    Report.latitude,
                    Report.longitude,
                    Report.text,
                )
                .where(
                    Report.created_at > now - self._config.window,
                    Report.created_at <= now,
                    Report.municipality_id.is_not(None),
                )
                .order_by(Report.id)
            )
            sightings: list[Sighting] = []
            texts: dict[int, str] = {}
            for rid, at, sector, muni, settlement, street, lat, lon, text in rows:
                sightings.append(Sighting(at, sector, str(muni), place_of(street, settlement), rid, lat, lon))
                texts[rid] = text
            return sightings, texts

    async def _store(self, signal: Signal, now: datetime, texts: dict[int, str]) -> int | None:
        """Extend the family's live alert, or open one and post it; the id of a new alert."""
        sector, municipality, _ = signal.cell
        try:
            async with self._db.session() as session:
                live = await session.scalar(
                    select(SpikeAlert)
                    .where(
                        SpikeAlert.sector_id == sector,
                        SpikeAlert.municipality_id == municipality,
                        SpikeAlert.last_seen_at >= now - self._config.quiet_gap,
                    )
                    .order_by(SpikeAlert.id.desc())
                    .limit(1)
                    .with_for_update()
                )
                if live is not None:
                    live.last_seen_at = now
                    live.count = max(live.count, signal.count)
                    live.p_value = min(live.p_value, signal.p_value)
                    ids = sorted(set(_ids(live.report_ids)) | set(signal.report_ids))
                    live.report_ids = ",".join(map(str, ids))
                    return None
                alert = SpikeAlert(
                    cluster=cell_key(signal.cell)[:300],
                    sector_id=sector,
                    municipality_id=municipality,
                    opened_hour=now.replace(minute=0, second=0, microsecond=0),
                    last_seen_at=now,
                    count=signal.count,
                    expected=signal.expected,
                    p_value=signal.p_value,
                    state=OPEN,
                    report_ids=",".join(map(str, signal.report_ids)),
                    created_at=now,
                )
                session.add(alert)
                await session.flush()
                await self._post(
                    session, alert, signal, [texts[i] for i in signal.report_ids if i in texts], now
                )
                return alert.id
        except IntegrityError:
            # Another process opened this cluster's alert in this hour first; it posted it.
            log.info("spike alert of %s already opened", cell_key(signal.cell))
            return None

    def _names(self, cell: Cell) -> dict[str, str]:
        sector = self._catalog.sectors.get(cell[0])
        municipality = self._catalog.municipalities.get(cell[1])
        return {
            "sector": sector.name(STAFF_LANG) if sector is not None else cell[0],
            "municipality": municipality.name if municipality is not None else cell[1],
            "place": place_label(cell[2], municipality.name if municipality is not None else "") or "none",
        }

    async def _post(
        self, session: AsyncSession, alert: SpikeAlert, signal: Signal, texts: list[str], now: datetime
    ) -> None:
        binding = await binding_of_body(session, TSUR_BODY)
        if binding is None:
            log.warning("spike alert %s: the ЦУР has no operator chat; stored only", alert.id)
            return
        lines = [
            Text(
                "spike-alert",
                {
                    **self._names(signal.cell),
                    "count": signal.count,
                    "expected": f"{signal.expected:.2g}"
                    if signal.expected < 10
                    else f"{signal.expected:.0f}",
                    "p": p_value_text(signal.p_value),
                    "minutes": int(self._config.window / timedelta(minutes=1)),
                },
            )
        ]
        pin = signal.pin()
        if pin is not None:
            lines.append(Text("spike-alert-pin", {"url": PIN_URL.format(lat=pin[0], lon=pin[1])}))
        typical = typical_texts(texts, keep=place_words(signal.cell[2]))
        if typical:
            lines.append(Text("spike-alert-texts"))
            lines += [Text.raw(f"— {text}") for text in typical]

        def button(decision: Decision, label: str) -> Button:
            data = self._sign(decision.value, alert.id, binding.chat_id, binding.nonce)
            return Button(data, Text(label))

        buttons = (
            (button(Decision.INCIDENT, "spike-btn-incident"),),
            (button(Decision.NOTIFY, "spike-btn-notify"), button(Decision.IGNORE, "spike-btn-ignore")),
        )
        await to_official(
            session,
            chat_id=binding.chat_id,
            key=f"spike:{alert.id}",
            views=[View(tuple(lines), buttons)],
            now=now,
        )

    # ------------------------------------------------------------------------------ decisions
    async def chat_nonce(self, chat_id: int) -> str | None:
        """The binding nonce of `chat_id` when it is the ЦУР operator chat (alerts live there only)."""
        async with self._db.session() as session:
            binding = await binding_of_body(session, TSUR_BODY)
        return binding.nonce if binding is not None and binding.chat_id == chat_id else None

    async def decide(
        self, alert_id: int, who: Principal, decision: Decision, *, chat_id: int | None = None
    ) -> Decided:
        """Carry out an operator's button: only ЦУР operators and admins (`Right.OPERATE` over the
        ЦУР body in the staff registry) may; SpikeRefused otherwise, or when it was decided before."""
        now = self._clock.now()
        report_ids: list[int] = []
        async with self._db.session() as session:
            grant = await self._staff.may(who, Right.OPERATE, TSUR_BODY, session=session)
            if grant is None:
                await record(
                    session,
                    actor=who.label,
                    action=AuditAction.REFUSED,
                    at=now,
                    chat_id=chat_id,
                    subject=f"spike:{alert_id}",
                    detail={"decision": decision.value},
                )
                refused = SpikeRefused("spike-not-allowed")
            else:
                alert = await session.get(SpikeAlert, alert_id, with_for_update=True)
                if alert is None:
                    raise SpikeRefused("spike-gone")
                if alert.state != OPEN:
                    raise SpikeRefused("spike-decided")
                if decision is Decision.NOTIFY:
                    await self._notice_command(session, alert, who, now)
                # Claimed before the incident is opened (in its own transaction): a second press
                # meanwhile is refused instead of opening a second incident.
                alert.state = decision.value
                alert.decided_by = who.label[:64]
                report_ids = _ids(alert.report_ids)
                await record(
                    session,
                    actor=who.label,
                    role=grant.role,
                    action=AuditAction.REPORT_ACTION,
                    at=now,
                    chat_id=chat_id,
                    subject=f"spike:{alert_id}",
                    detail={"action": f"spike_{decision.value}", "reports": len(report_ids)},
                )
                refused = None
        if refused is not None:
            raise refused
        if decision is not Decision.INCIDENT:
            return Decided(alert_id, decision.value)
        try:
            incident_id = await self._open_incident(report_ids, who.label)
        except Exception:
            # Reopened so the button works again; inside a failed unit of work (PostgreSQL, the
            # inbound pipeline) the whole press rolls back anyway, so the reopening may fail too.
            try:
                async with self._db.session() as session:
                    alert = await session.get(SpikeAlert, alert_id, with_for_update=True)
                    if alert is not None and alert.state == Decision.INCIDENT.value:
                        alert.state = OPEN
                        alert.decided_by = None
            except Exception:
                log.warning("spike alert %s: could not reopen after a failed incident", alert_id)
            raise
        return Decided(alert_id, decision.value, incident_id)

    async def _notice_command(
        self, session: AsyncSession, alert: SpikeAlert, who: Principal, now: datetime
    ) -> None:
        """A notice needs a comms author (the composer's four-eyes rules): the comms chats get a
        ready `python -m bot notice send` command for the subscribers and one for the reporters."""
        chats = list(await session.scalars(select(CommsChat.chat_id).order_by(CommsChat.chat_id)))
        if not chats:
            raise SpikeRefused("spike-no-comms")
        numbers = list(
            await session.scalars(
                select(Report.number).where(Report.id.in_(_ids(alert.report_ids)), Report.number.is_not(None))
            )
        )
        names = self._names((alert.sector_id, alert.municipality_id, None))
        reports = " ".join(f"--report {n}" for n in sorted(n for n in numbers if n))
        view = View(
            (
                Text("spike-notice-request", {**names, "count": alert.count, "by": who.name or who.label}),
                Text(
                    "spike-notice-subscribers",
                    {**names, "municipality_id": alert.municipality_id, "sector_id": alert.sector_id},
                ),
                Text("spike-notice-reporters", {**names, "reports": reports or "-"}),
            )
        )
        for chat in chats:
            await to_official(
                session, chat_id=chat, key=f"spike:{alert.id}:notice:{chat}", views=[view], now=now
            )
