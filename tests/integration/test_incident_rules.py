"""Who may merge, split and open incidents; one SLA clock per incident; messages to many reporters
held for confirmation and, above the notices' threshold, for a second person's approval."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.app.wiring import App
from bot.core.clock import ManualClock
from bot.services.chats import bind_chat
from bot.services.incidents.desk import IncidentDesk
from bot.services.reports.access import ActionRefused, Actor
from bot.services.reports.deadlines import WorkCalendar
from bot.services.reports.filing import ReportDraft
from bot.services.reports.sla import SlaScheduler
from bot.services.staff.roles import Principal
from storage.models import AuditEvent, Incident, OutboxMessage, Report, SlaEvent
from tests.harness.filing import file_directly

BODY_CHAT = -100_21
OTHER_CHAT = -100_22
TSUR_CHAT = -100_23
DARK = "Не горят фонари на улице Ленина, вечером совсем темно"
MEMBER = Actor("700", "Ольга", BODY_CHAT)
OTHER_MEMBER = Actor("701", "Пётр", OTHER_CHAT)
TSUR_OPERATOR = Actor("800", "Анна", TSUR_CHAT)
TSUR_STRANGER = Actor("801", "Некто", TSUR_CHAT)


@pytest.fixture
async def app(database_url: str, app_factory: Any) -> App:
    built: App = await app_factory(database_url)
    catalog = built.services.catalog
    await bind_chat(built.db, catalog.route("housing", "ekaterinburg"), BODY_CHAT, "tg:1")
    await bind_chat(built.db, catalog.route("health", "ekaterinburg"), OTHER_CHAT, "tg:1")
    await bind_chat(built.db, "tsur", TSUR_CHAT, "tg:1")
    await built.staff.add(Principal.shell(), "800", "operator", "tsur")
    return built


def desk(app: App) -> IncidentDesk:
    assert app.services.incidents is not None
    return app.services.incidents


async def report(app: App, report_id: int) -> Report:
    async with app.db.session() as session:
        found = await session.get(Report, report_id)
        assert found is not None
        return found


async def two_reports(app: App, second_sector: str = "housing") -> tuple[int, int]:
    first, _ = await file_directly(app, "1001", DARK)
    second, _ = await file_directly(app, "1002", DARK, sector=second_sector)
    return first, second


async def test_body_members_merge_within_their_body_and_undo_it(app: App) -> None:
    first, second = await two_reports(app)
    assert await desk(app).merge(second, first, MEMBER) == (await report(app, first)).number
    assert (await report(app, second)).incident_id == (await report(app, first)).incident_id
    with pytest.raises(ActionRefused):
        await desk(app).merge(second, first, MEMBER)  # already merged
    with pytest.raises(ActionRefused) as refused:
        await desk(app).split(second, OTHER_MEMBER)  # another body's chat
    assert refused.value.reason == "op-not-your-report"
    assert await desk(app).split(second, MEMBER)
    assert (await report(app, second)).incident_id is None
    async with app.db.session() as session:
        actions = [(e.detail or {}).get("action") for e in await session.scalars(select(AuditEvent))]
    assert "merge" in actions and "split" in actions


async def test_different_bodies_merge_only_from_the_tsur_chat_by_its_registered_operators(app: App) -> None:
    first, second = await two_reports(app, second_sector="health")
    for actor in (MEMBER, OTHER_MEMBER):
        with pytest.raises(ActionRefused):
            await desk(app).merge(second, first, actor)
    with pytest.raises(ActionRefused) as refused:
        await desk(app).merge(second, first, TSUR_STRANGER)
    assert refused.value.reason == "op-not-registered"
    await desk(app).merge(second, first, TSUR_OPERATOR)
    assert (await report(app, second)).incident_id is not None


async def test_one_sla_clock_per_incident(app: App, clock: ManualClock) -> None:
    first, _ = await file_directly(app, "1001", DARK)
    clock.advance(timedelta(hours=3))
    second, _ = await file_directly(app, "1002", DARK)
    # Merged the other way round: the earlier deadline of the two is the incident's.
    await desk(app).merge(first, second, MEMBER)
    lead = await report(app, second)
    assert lead.first_reaction_due == (await report(app, first)).first_reaction_due
    clock.advance(timedelta(days=30))
    fired = await SlaScheduler(app.db, WorkCalendar(), clock).tick()
    assert {report_id for report_id, _ in fired} == {second}
    async with app.db.session() as session:
        events = {e.report_id for e in await session.scalars(select(SlaEvent))}
    assert events == {second}


async def test_manual_incident_needs_a_tsur_operator(app: App) -> None:
    with pytest.raises(ActionRefused):
        await desk(app).open_manual(
            Principal.telegram("999", "Некто"),
            sector_id="energy",
            municipality_id="ekaterinburg",
            title="Нет света в Пионерском",
            address=None,
        )
    filed = await desk(app).open_manual(
        Principal.telegram("800", "Анна"),
        sector_id="energy",
        municipality_id="ekaterinburg",
        title="Нет света в Пионерском",
        address=None,
    )
    lead = await report(app, filed.id)
    assert lead.citizen_id is None and lead.status == "routed"
    async with app.db.session() as session:
        incident = await session.scalar(select(Incident).where(Incident.lead_report_id == lead.id))
        cards = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "report_card")))
    assert incident is not None and incident.manual and incident.title == "Нет света в Пионерском"
    assert any(c.report_id == lead.id for c in cards)


async def test_joining_needs_an_open_routed_report_of_the_same_sector(app: App) -> None:
    first, _ = await file_directly(app, "1001", DARK)
    citizen = await app.services.citizens.give_consent("vk", "2002", "en")

    def draft(key: str, sector: str = "housing") -> ReportDraft:
        return ReportDraft(
            intake_key=key, platform="vk", citizen_id=citizen.id, language="en", text=DARK, sector_id=sector
        )

    assert await desk(app).join(draft("other-sector", "health"), first) is None
    joined = await desk(app).join(draft("k1"), first)
    assert joined is not None and joined.reporters == 2
    again = await desk(app).join(draft("k1"), first)  # the same confirmation delivered twice
    assert again is not None and again.filed.id == joined.filed.id
    await app.actions.reject(first, MEMBER, "spam", None)
    assert await desk(app).join(draft("k2"), first) is None
    # The follower was rejected with its lead, told in its own language.
    assert (await report(app, joined.filed.id)).status == "rejected"


async def test_a_spike_cluster_becomes_one_incident_led_by_its_oldest_open_report(app: App) -> None:
    ids = [(await file_directly(app, f"10{n}", DARK, key=f"spike-{n}"))[0] for n in range(4)]
    await app.actions.reject(ids[0], MEMBER, "spam", None)
    lead_id = await desk(app).attach_cluster(list(reversed(ids)), "tg:800")
    assert lead_id == ids[1]
    members = [await report(app, i) for i in ids[1:]]
    assert len({m.incident_id for m in members}) == 1 and members[0].incident_id is not None
    assert (await report(app, ids[0])).incident_id is None  # closed before: left alone
    async with app.db.session() as session:
        told = [m for m in await session.scalars(select(OutboxMessage)) if ":merged:" in m.idempotency_key]
    assert {m.report_id for m in told} == set(ids[2:])
