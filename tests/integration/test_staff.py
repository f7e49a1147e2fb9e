"""The staff registry: roles are the only rights, invites are single-use and expire, the last admin
stays, and every change leaves an audit row."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app.wiring import App
from bot.core.clock import ManualClock
from bot.services.staff.audit import AuditQuery, audit_events
from bot.services.staff.roles import Grant, NotAllowed, Principal, Right, StaffError
from storage.models import StaffInvite

SHELL = Principal.shell()
ANNA = Principal.telegram(700, "Анна")
BORIS = Principal.telegram(701, "Борис")
STRANGER = Principal.telegram(666, "Чужой")


async def test_rights_come_from_roles_held_now(database_url: str, app_factory: Any) -> None:
    app: App = await app_factory(database_url)
    staff = app.staff
    body = app.services.catalog.route("housing", "ekaterinburg")
    assert await staff.may(STRANGER, Right.BIND_CHAT) is None

    await staff.add(SHELL, "700", "admin", name="Анна")
    await staff.add(SHELL, "701", "operator", body, name="Борис")
    assert await staff.may(ANNA, Right.BIND_CHAT) == Grant("admin")
    assert await staff.may(BORIS, Right.BIND_CHAT) is None
    # An operator's right covers their own body only; an admin's covers every body.
    assert await staff.may(BORIS, Right.OPERATE, body) == Grant("operator", body)
    assert await staff.may(BORIS, Right.OPERATE, "tsur") is None
    assert await staff.may(ANNA, Right.OPERATE, body) == Grant("admin")
    # Composing needs comms, approving comms or admin.
    assert await staff.may(ANNA, Right.COMPOSE_NOTICE) is None
    assert await staff.may(ANNA, Right.APPROVE_NOTICE) == Grant("admin")
    # A message sent on behalf of a chat names nobody: nothing is granted, whoever is behind it.
    assert await staff.may(Principal.telegram(700, anonymous=True), Right.BIND_CHAT) is None

    # Only admins change the registry.
    with pytest.raises(NotAllowed):
        await staff.add(BORIS, "666", "admin")
    await staff.revoke(ANNA, "701", "operator")
    assert await staff.may(BORIS, Right.OPERATE, body) is None
    assert [e.platform_user_id for e in await staff.members()] == ["700"]


async def test_bad_roles_and_scopes_are_refused(database_url: str, app_factory: Any) -> None:
    app: App = await app_factory(database_url)
    with pytest.raises(StaffError, match="unknown role"):
        await app.staff.add(SHELL, "1", "superuser")
    with pytest.raises(StaffError, match="needs a body"):
        await app.staff.add(SHELL, "1", "operator")
    with pytest.raises(StaffError, match="unknown body"):
        await app.staff.add(SHELL, "1", "operator", "no-such-body")
    with pytest.raises(StaffError, match="takes no scope"):
        await app.staff.add(SHELL, "1", "admin", "tsur")


async def test_the_last_admin_cannot_be_revoked(database_url: str, app_factory: Any) -> None:
    app: App = await app_factory(database_url)
    await app.staff.add(SHELL, "700", "admin")
    with pytest.raises(StaffError, match="last admin"):
        await app.staff.revoke(SHELL, "700")
    await app.staff.add(ANNA, "701", "admin")
    assert await app.staff.revoke(ANNA, "700") == 1
    assert await app.staff.may(ANNA, Right.MANAGE_STAFF) is None
    with pytest.raises(StaffError, match="last admin"):
        await app.staff.revoke(BORIS, "701", "admin")


async def test_an_invite_is_single_use_bound_to_its_role_and_expires(
    database_url: str, app_factory: Any, clock: ManualClock
) -> None:
    app: App = await app_factory(database_url)
    body = app.services.catalog.route("roads", "ekaterinburg")
    await app.staff.add(SHELL, "700", "admin")
    with pytest.raises(NotAllowed):
        await app.staff.invite(STRANGER, "admin")

    code = await app.staff.invite(ANNA, "operator", body)
    async with app.db.session() as session:
        stored = await session.scalar(select(StaffInvite))
    # Only a hash is kept: whoever reads the database cannot redeem it.
    assert stored is not None and code not in stored.code_hash and len(stored.code_hash) == 64

    assert await app.staff.redeem(code, BORIS) == Grant("operator", body)
    assert await app.staff.may(BORIS, Right.OPERATE, body) == Grant("operator", body)
    with pytest.raises(NotAllowed, match="staff-invite-invalid"):
        await app.staff.redeem(code, STRANGER)
    with pytest.raises(NotAllowed, match="staff-invite-invalid"):
        await app.staff.redeem("made-up-code", STRANGER)

    late = await app.staff.invite(ANNA, "comms")
    clock.advance(timedelta(hours=24, seconds=1))
    with pytest.raises(NotAllowed, match="staff-invite-invalid"):
        await app.staff.redeem(late, STRANGER)
    assert await app.staff.may(STRANGER, Right.COMPOSE_NOTICE) is None

    actions = [e.action for e in await audit_events(app.db, AuditQuery())]
    assert actions == ["staff_add", "invite", "join", "invite"]
    joined = (await audit_events(app.db, AuditQuery(actor="tg:701")))[0]
    assert joined.detail == {"role": "operator", "scope": body, "invited_by": "tg:700"}
    # The audit names the invite by a prefix of its hash, never by the code itself.
    async with app.db.session() as session:
        from storage.models import AuditEvent

        assert await session.scalar(select(func.count()).where(AuditEvent.subject.contains(code))) == 0


def test_the_first_admin_comes_from_the_command_line(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}", "PATH": "/usr/bin:/bin"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args], env=env, capture_output=True, text=True, timeout=120
        )

    added = cli("staff", "add", "700", "--role", "admin", "--name", "Анна")
    assert added.returncode == 0, added.stderr
    assert "granted" in added.stdout
    assert "700\tАнна" in cli("staff", "list").stdout
    refused = cli("staff", "revoke", "700")
    assert refused.returncode == 2 and "last admin" in refused.stderr
    trail = cli("audit", "--actor", "cli").stdout
    assert "staff_add" in trail and "tg:700" in trail
