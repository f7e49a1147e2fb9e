"""The spike watch over a real database (SQLite and PostgreSQL): a burst of reports in a small town
alerts the ЦУР chat once through the outbox, later passes extend that alert, and only ЦУР operators
in the staff registry decide on it (ignore audited, an incident opened, a notice asked of comms)."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.app.wiring import App
from bot.core.clock import ManualClock
from bot.core.i18n import Translator
from bot.delivery.outbox import views_of
from bot.services.chats import TSUR_BODY, bind_chat
from bot.services.incidents.spike_decisions import Decision, SpikeRefused
from bot.services.incidents.spike_watch import SpikeWatch
from bot.services.reports.filing import ReportDraft
from bot.services.staff.audit import AuditQuery, audit_events
from bot.services.staff.roles import Principal
from storage.models import CommsChat, OutboxMessage, SpikeAlert

EKB = ZoneInfo("Asia/Yekaterinburg")
BENCH = Path(__file__).resolve().parents[2] / "bench" / "spikes.py"
TSUR_CHAT = -1001000000001
COMMS_CHAT = -1001000000002
OPERATOR = Principal.telegram(5001, "Оператор ЦУР")
STRANGER = Principal.telegram(5002, "Прохожий")
OTHER_BODY_OPERATOR = Principal.telegram(5003, "Оператор другого органа")
TEXTS = (
    "Нет света на улице Ленина с утра, телефон +7 912 000-00-01",
    "Отключили электричество, Ленина 5, света нет",
    "Нет света на Ленина, когда дадут?",
    "Света нет уже час, улица Ленина",
    "Опять нет электричества на Ленина",
    "Нет света по улице Ленина",
)


class Recorder:
    """A fake `open_incident` that remembers its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[int], str]] = []

    async def __call__(self, report_ids: list[int], actor_label: str) -> int:
        self.calls.append((report_ids, actor_label))
        return 77


def fake_sign(action: str, alert_id: int, chat_id: int, nonce: str) -> str:
    return f"sp:{action}:{alert_id}:{chat_id % 1000}:{nonce}"


async def setup(app_factory: Any, url: str, clock: ManualClock) -> tuple[App, SpikeWatch, Recorder]:
    app: App = await app_factory(url)
    await bind_chat(app.db, TSUR_BODY, TSUR_CHAT, "test")
    shell = Principal.shell()
    await app.staff.add(shell, OPERATOR.user_id, "operator", TSUR_BODY, name=OPERATOR.name)
    other_body = next(b for b in app.services.catalog.bodies if b != TSUR_BODY)
    await app.staff.add(shell, OTHER_BODY_OPERATOR.user_id, "operator", other_body)
    recorder = Recorder()
    watch = SpikeWatch(
        app.db, app.services.catalog, clock, app.staff, sign=fake_sign, open_incident=recorder, timezone=EKB
    )
    return app, watch, recorder


async def file(app: App, clock: ManualClock, texts: tuple[str, ...], start: int = 0) -> list[int]:
    """Citizens of Алапаевск report an outage on one street, a minute apart."""
    ids = []
    for index, text in enumerate(texts, start):
        citizen = await app.services.citizens.give_consent("tg", str(9000 + index), "ru")
        filed = await app.services.reports.file(
            ReportDraft(
                intake_key=f"spike-{index}",
                platform="tg",
                citizen_id=citizen.id,
                language="ru",
                text=text,
                sector_id="energy",
                municipality_id="alapaevsk",
                address="г. Алапаевск, ул. Ленина, 5",
                latitude=57.85 + index * 1e-4,
                longitude=61.69,
            )
        )
        ids.append(filed.id)
        clock.advance(timedelta(minutes=1))
    return ids


async def alerts_of(app: App) -> list[SpikeAlert]:
    async with app.db.session() as session:
        return list(await session.scalars(select(SpikeAlert).order_by(SpikeAlert.id)))


async def messages_to(app: App, chat_id: int) -> list[OutboxMessage]:
    async with app.db.session() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.target == str(chat_id)).order_by(OutboxMessage.id)
        )
        return list(rows)


def rendered(message: OutboxMessage, translator: Translator) -> str:
    return "\n".join(
        translator.text("ru", line.key, line.args)
        for view in views_of(message.payload)
        for line in view.lines
    )


async def test_a_burst_alerts_once_and_later_passes_extend_it(
    app_factory: Any, database_url: str, clock: ManualClock
) -> None:
    app, watch, _ = await setup(app_factory, database_url, clock)
    ids = await file(app, clock, TEXTS)
    opened = await watch.tick()
    assert len(opened) == 1
    [alert] = await alerts_of(app)
    assert (alert.sector_id, alert.municipality_id, alert.state) == ("energy", "alapaevsk", "open")
    assert alert.count == len(TEXTS) and alert.p_value < 1e-5
    assert sorted(int(i) for i in alert.report_ids.split(",")) == ids

    [posted] = await messages_to(app, TSUR_CHAT)
    assert posted.idempotency_key == f"spike:{alert.id}"
    text = rendered(posted, Translator())
    assert "Всплеск обращений: Энергетика, Алапаевск, Ленина." in text
    assert "Алапаевск" in text and "Ленина" in text
    assert f"{len(TEXTS)} (обычно" in text
    assert "openstreetmap.org/?mlat=57.85" in text
    assert text.count("— ") == 3
    assert "912" not in text, "phones are masked in the typical texts"
    assert "[имя]" not in text, "the street of the cluster is no personal name"
    [view] = views_of(posted.payload)
    assert [b.id.split(":")[1] for b in view.all_buttons()] == ["incident", "notified", "ignored"]
    assert all(b.id.split(":")[2] == str(alert.id) for b in view.all_buttons())

    # Five minutes later the town is still elevated (one more report): the same alert, extended.
    clock.advance(timedelta(minutes=4))
    more = await file(app, clock, ("И у нас на Ленина нет света",), start=len(TEXTS))
    assert await watch.tick() == []
    [extended] = await alerts_of(app)
    assert extended.id == alert.id and extended.count == len(TEXTS) + 1
    assert more[0] in {int(i) for i in extended.report_ids.split(",")}
    assert len(await messages_to(app, TSUR_CHAT)) == 1

    # A fresh watch (a restart, a second process) reads the table: still no second alert.
    _, second, _ = await setup_again(app, clock)
    assert await second.tick() == []
    assert len(await alerts_of(app)) == 1


async def setup_again(app: App, clock: ManualClock) -> tuple[App, SpikeWatch, Recorder]:
    recorder = Recorder()
    watch = SpikeWatch(
        app.db, app.services.catalog, clock, app.staff, sign=fake_sign, open_incident=recorder, timezone=EKB
    )
    return app, watch, recorder


async def test_only_tsur_operators_decide_and_ignore_is_audited(
    app_factory: Any, database_url: str, clock: ManualClock
) -> None:
    app, watch, recorder = await setup(app_factory, database_url, clock)
    await file(app, clock, TEXTS)
    [alert_id] = await watch.tick()

    for who in (STRANGER, OTHER_BODY_OPERATOR, Principal.telegram(OPERATOR.user_id, anonymous=True)):
        with pytest.raises(SpikeRefused) as refused:
            await watch.decide(alert_id, who, Decision.IGNORE, chat_id=TSUR_CHAT)
        assert refused.value.reason == "spike-not-allowed"
    refusals = await audit_events(app.db, AuditQuery(action="refused"))
    assert [e.subject for e in refusals][-3:] == [f"spike:{alert_id}"] * 3
    assert (await alerts_of(app))[0].state == "open"

    done = await watch.decide(alert_id, OPERATOR, Decision.IGNORE, chat_id=TSUR_CHAT)
    assert done.state == "ignored" and done.incident_id is None
    [alert] = await alerts_of(app)
    assert (alert.state, alert.decided_by) == ("ignored", OPERATOR.label)
    [audit] = await audit_events(app.db, AuditQuery(action="report_action", actor=OPERATOR.label))
    assert audit.subject == f"spike:{alert_id}" and audit.detail["action"] == "spike_ignored"
    assert audit.chat_id == TSUR_CHAT

    with pytest.raises(SpikeRefused) as twice:
        await watch.decide(alert_id, OPERATOR, Decision.INCIDENT)
    assert twice.value.reason == "spike-decided"
    assert recorder.calls == []


async def test_incident_and_notice_decisions(app_factory: Any, database_url: str, clock: ManualClock) -> None:
    app, watch, recorder = await setup(app_factory, database_url, clock)
    ids = await file(app, clock, TEXTS)
    [alert_id] = await watch.tick()

    # No comms chat: the notice cannot be prepared, and the alert stays open.
    with pytest.raises(SpikeRefused) as refused:
        await watch.decide(alert_id, OPERATOR, Decision.NOTIFY)
    assert refused.value.reason == "spike-no-comms"
    async with app.db.session() as session:
        session.add(CommsChat(chat_id=COMMS_CHAT, bound_by="test", nonce="c1"))
    done = await watch.decide(alert_id, OPERATOR, Decision.NOTIFY)
    assert done.state == "notified"
    [request] = await messages_to(app, COMMS_CHAT)
    text = rendered(request, Translator())
    assert "--municipality alapaevsk --sector energy" in text
    assert text.count("--report ") == len(TEXTS)

    # A later burst (after the quiet gap, so a new alert): the incident gets exactly its reports.
    clock.advance(timedelta(hours=3))
    await file(app, clock, TEXTS, start=100)
    [second] = await watch.tick()
    assert second != alert_id
    done = await watch.decide(second, OPERATOR, Decision.INCIDENT)
    assert (done.state, done.incident_id) == ("incident", 77)
    [(report_ids, actor)] = recorder.calls
    assert len(report_ids) == len(TEXTS) and not set(report_ids) & set(ids)
    assert actor == OPERATOR.label


async def test_a_failed_incident_reopens_the_alert(
    app_factory: Any, database_url: str, clock: ManualClock
) -> None:
    app, _, _ = await setup(app_factory, database_url, clock)

    async def broken(report_ids: list[int], actor_label: str) -> int:
        raise RuntimeError("incident service down")

    watch = SpikeWatch(
        app.db, app.services.catalog, clock, app.staff, sign=fake_sign, open_incident=broken, timezone=EKB
    )
    await file(app, clock, TEXTS)
    [alert_id] = await watch.tick()
    with pytest.raises(RuntimeError):
        await watch.decide(alert_id, OPERATOR, Decision.INCIDENT)
    [alert] = await alerts_of(app)
    assert (alert.state, alert.decided_by) == ("open", None)


async def test_bench_month_figures_are_sane() -> None:
    bench = BENCH
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(bench),
        *("--days", "5", "--warmup", "7"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    result = json.loads(next(line for line in lines if line.startswith("RESULT "))[len("RESULT ") :])
    assert result["bursts"] >= 3
    assert result["missed"] == 0
    assert 0 <= result["max_delay_minutes"] <= 15
    assert result["false_alerts"] <= 1
    assert result["passes"] == 5 * 24 * 12
    assert any(line.startswith("false alerts:") for line in lines)
