"""A municipal centre (МЦУ) reads its own municipality's reports, never another's, and each read
is in the audit trail."""

from __future__ import annotations

from typing import Any

import pytest

from bot.app.wiring import App
from bot.services.reports.filing import ReportDraft
from bot.services.staff.audit import AuditQuery, audit_events
from bot.services.staff.municipal_centre import MunicipalCentre
from bot.services.staff.roles import NotAllowed, Principal

MCU = Principal.telegram(810, "МЦУ Екатеринбурга")
STRANGER = Principal.telegram(811, "Чужой")


async def file(app: App, key: str, municipality: str, phone: str | None = None) -> None:
    citizen = await app.services.citizens.give_consent("tg", f"c-{key}", "ru")
    await app.services.reports.file(
        ReportDraft(
            intake_key=key,
            platform="tg",
            citizen_id=citizen.id,
            language="ru",
            text=f"Яма на дороге у дома, обращение {key}",
            sector_id="roads",
            municipality_id=municipality,
            phone=phone,
        )
    )


async def test_the_municipal_centre_reads_its_own_share(database_url: str, app_factory: Any) -> None:
    app: App = await app_factory(database_url)
    await app.staff.add(Principal.shell(), "810", "mcu", "ekaterinburg")
    await file(app, "a", "ekaterinburg", phone="+79120000001")
    await file(app, "b", "ekaterinburg")
    await file(app, "c", "nizhny-tagil")
    centre = MunicipalCentre(app.db, app.staff, app.services.clock)

    assert await centre.municipalities_of(MCU) == ["ekaterinburg"]
    lines = await centre.open_reports(MCU, "ekaterinburg", chat_id=810)
    assert [line.text[-1] for line in lines] == ["b", "a"]
    # The list carries no phone and nothing that names the citizen.
    assert "+79120000001" not in repr(lines) and "c-a" not in repr(lines)

    with pytest.raises(NotAllowed):
        await centre.open_reports(MCU, "nizhny-tagil")
    with pytest.raises(NotAllowed):
        await centre.open_reports(STRANGER, "ekaterinburg")
    [read] = await audit_events(app.db, AuditQuery(action="municipality_read"))
    assert (read.actor, read.role, read.subject, read.detail) == (
        "tg:810",
        "mcu",
        "municipality:ekaterinburg",
        {"reports": 2},
    )
