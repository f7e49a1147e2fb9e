"""Who may change where reports go (an admin of the registry, or the server's shell), what a refused
or unknown edit leaves behind (nothing), and how another process's catalog learns of it."""

from __future__ import annotations

from typing import Any

import pytest

from bot.app.wiring import App
from bot.services.catalog import Catalog
from bot.services.reference_edits import ReferenceEditRefused, ReferenceEdits
from bot.services.staff.audit import AuditQuery, audit_events
from bot.services.staff.roles import NotAllowed, Principal

ADMIN = Principal.telegram(910, "Ольга")
OPERATOR = Principal.telegram(911, "Пётр")
STRANGER = Principal.telegram(999, "Никто")  # in no registry


@pytest.fixture
async def app(sqlite_url: str, app_factory: Any) -> App:
    app: App = await app_factory(sqlite_url)
    await app.staff.add(Principal.shell(), "910", "admin")
    await app.staff.add(Principal.shell(), "911", "operator", "adm-ekaterinburg")
    return app


def _edits(app: App) -> ReferenceEdits:
    return ReferenceEdits(app.db, app.services.catalog, app.staff, app.services.clock)


async def test_an_admin_reroutes_a_sector_and_a_second_catalog_sees_it_on_refresh(app: App) -> None:
    other_process = await Catalog.load(app.db)
    assert other_process.route("housing", "ekaterinburg") == "adm-ekaterinburg"

    change = await _edits(app).set_route(ADMIN, "housing", "ekaterinburg", "min-energy-housing")

    assert (change.old_body_id, change.body_id) == ("adm-ekaterinburg", "min-energy-housing")
    assert other_process.route("housing", "ekaterinburg") == "adm-ekaterinburg"  # not yet refreshed
    assert await other_process.refresh(app.db) is True
    assert other_process.route("housing", "ekaterinburg") == "min-energy-housing"
    assert other_process.route("housing", "nizhny-tagil") == "adm-nizhny-tagil"
    assert await other_process.refresh(app.db) is False  # nothing new: no reload
    [event] = await audit_events(app.db, AuditQuery(action="route_set"))
    assert (event.actor, event.role, event.subject) == ("tg:910", "admin", "housing:ekaterinburg")


@pytest.mark.parametrize("who", [OPERATOR, STRANGER], ids=["operator", "stranger"])
async def test_only_an_admin_may_reroute_and_a_refusal_changes_nothing(app: App, who: Principal) -> None:
    with pytest.raises(NotAllowed):
        await _edits(app).set_route(who, "housing", "ekaterinburg", "min-energy-housing")
    fresh = await Catalog.load(app.db)
    assert fresh.route("housing", "ekaterinburg") == "adm-ekaterinburg"
    assert fresh.version == app.services.catalog.version


@pytest.mark.parametrize(
    ("sector", "municipality", "body", "says"),
    [
        ("potholes", "ekaterinburg", "adm-ekaterinburg", "unknown sector"),
        ("housing", "atlantis", "adm-ekaterinburg", "unknown municipality"),
        ("housing", None, "nobody", "unknown body"),
    ],
)
async def test_an_edit_naming_the_unknown_is_refused(
    app: App, sector: str, municipality: str | None, body: str, says: str
) -> None:
    with pytest.raises(ReferenceEditRefused, match=says):
        await _edits(app).set_route(ADMIN, sector, municipality, body)
    assert await app.services.catalog.refresh(app.db) is False


async def test_a_default_route_for_every_municipality_leaves_the_overrides_alone(app: App) -> None:
    await _edits(app).set_route(ADMIN, "waste", None, "tsur")
    catalog = app.services.catalog
    assert await catalog.refresh(app.db) is True
    assert catalog.route("waste", "ekaterinburg") == "tsur"
    assert catalog.route("housing", "ekaterinburg") == "adm-ekaterinburg"
