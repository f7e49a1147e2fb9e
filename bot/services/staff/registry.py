"""The staff registry: who holds which role, and the one place that answers "may this person do this?".

A right is a role held now in the registry. Chat-admin status, chat membership or an `Operator`
bookkeeping row grant nothing here; the chat handlers, the comms composer, the CLI and the HTTP API
all ask `StaffService.may` / `require` with the same `Right` names.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from datetime import timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.core.clock import Clock
from bot.services.staff.audit import AuditAction, record
from bot.services.staff.roles import (
    INVITE_PREFIX,
    RULES,
    SCOPE_KIND,
    SHELL_GRANT,
    Grant,
    NotAllowed,
    Principal,
    Right,
    Role,
    StaffEntry,
    StaffError,
    parse_role,
)
from storage.db import Database
from storage.models import StaffInvite, StaffMember, StaffRole

INVITE_TTL = timedelta(hours=24)


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _active_roles(who: Principal) -> Select[str, str]:
    """(role, scope) of every role `who` holds now."""
    return (
        select(StaffRole.role, StaffRole.scope)
        .join(StaffMember, StaffMember.id == StaffRole.member_id)
        .where(
            StaffMember.platform == who.platform,
            StaffMember.platform_user_id == who.user_id,
            StaffRole.revoked_at.is_(None),
        )
    )


# What the shell configures: the registry, chats, routing; never a notice or a report action.
SHELL_RIGHTS = frozenset({Right.MANAGE_STAFF, Right.BIND_CHAT, Right.READ_AUDIT, Right.EDIT_REFERENCE})


class StaffService:
    """Registry reads and changes, every change audited in its own transaction."""

    def __init__(
        self, db: Database, clock: Clock, known_scopes: Mapping[str, Sequence[str]] | None = None
    ) -> None:
        self._db = db
        self._clock = clock
        # {"body": [...], "sector": [...], "municipality": [...]} to refuse typos in scopes.
        self._known = known_scopes

    # ----------------------------------------------------------------------------- checks
    async def may(
        self, who: Principal, right: Right, scope: str = "", *, session: AsyncSession | None = None
    ) -> Grant | None:
        """The role that grants `right` over `scope` to `who` now, or None."""
        if who.anonymous:
            return None
        if who.is_shell:
            # The server's shell configures the registry and chats; it is no person, so it
            # composes or approves nothing (notices from the CLI name two registry members).
            return SHELL_GRANT if right in SHELL_RIGHTS else None
        if session is None:
            async with self._db.session() as own:
                return await self._may(own, who, right, scope)
        return await self._may(session, who, right, scope)

    async def _may(self, session: AsyncSession, who: Principal, right: Right, scope: str) -> Grant | None:
        allowed = [r.value for r in RULES[right]]
        rows = await session.execute(_active_roles(who).where(StaffRole.role.in_(allowed)))
        best: Grant | None = None
        for role, role_scope in rows:
            scoped = SCOPE_KIND.get(Role(role)) is not None
            if scoped and role_scope != scope:
                continue
            grant = Grant(role, role_scope)
            # Report the most specific grant: "operator of X" says more in the audit than "admin".
            if best is None or scoped:
                best = grant
        return best

    async def require(
        self, who: Principal, right: Right, scope: str = "", *, session: AsyncSession | None = None
    ) -> Grant:
        """Like `may`, but NotAllowed when nothing grants it."""
        grant = await self.may(who, right, scope, session=session)
        if grant is None:
            raise NotAllowed("staff-anonymous" if who.anonymous else "staff-not-allowed")
        return grant

    async def roles(self, who: Principal) -> tuple[Grant, ...]:
        """Every active role of `who` (for /whoami and the menus)."""
        async with self._db.session() as session:
            rows = await session.execute(_active_roles(who).order_by(StaffRole.id))
            return tuple(Grant(role, scope) for role, scope in rows)

    # ---------------------------------------------------------------------------- changes
    async def add(
        self,
        by: Principal,
        user_id: str,
        role: str,
        scope: str = "",
        *,
        name: str = "",
        position: str = "",
        platform: str = "tg",
    ) -> bool:
        """Grant a role (admins, or the shell); False when the person holds it already."""
        parsed = parse_role(role, scope, self._known)
        async with self._db.session() as session:
            grant = await self.require(by, Right.MANAGE_STAFF, session=session)
            added = await self._grant(session, platform, user_id, parsed, scope, by.label, name, position)
            if added:
                await record(
                    session,
                    actor=by.label,
                    role=grant.role,
                    action=AuditAction.STAFF_ADD,
                    subject=f"{platform}:{user_id}",
                    detail={"role": parsed.value, "scope": scope},
                    at=self._clock.now(),
                )
            return added

    async def _grant(
        self,
        session: AsyncSession,
        platform: str,
        user_id: str,
        role: Role,
        scope: str,
        by: str,
        name: str,
        position: str,
    ) -> bool:
        member = await session.scalar(
            select(StaffMember)
            .where(StaffMember.platform == platform, StaffMember.platform_user_id == user_id)
            .options(selectinload(StaffMember.roles))
        )
        if member is None:
            member = StaffMember(platform=platform, platform_user_id=user_id, name=name[:200], position="")
            member.roles = []
            session.add(member)
        if name:
            member.name = name[:200]
        if position:
            member.position = position[:200]
        if any(r.role == role and r.scope == scope and r.revoked_at is None for r in member.roles):
            return False
        member.roles.append(
            StaffRole(role=role.value, scope=scope, granted_by=by, granted_at=self._clock.now())
        )
        await session.flush()
        return True

    async def revoke(
        self, by: Principal, user_id: str, role: str | None = None, scope: str | None = None
    ) -> int:
        """Revoke matching active roles (all of them when `role` is None); the last admin stays."""
        now = self._clock.now()
        async with self._db.session() as session:
            grant = await self.require(by, Right.MANAGE_STAFF, session=session)
            query = (
                select(StaffRole)
                .join(StaffMember, StaffMember.id == StaffRole.member_id)
                .where(StaffMember.platform_user_id == user_id, StaffRole.revoked_at.is_(None))
                .with_for_update()
            )
            if role is not None:
                query = query.where(StaffRole.role == role)
            if scope is not None:
                query = query.where(StaffRole.scope == scope)
            rows = list(await session.scalars(query))
            if any(r.role == Role.ADMIN for r in rows):
                admins = await session.scalar(
                    select(func.count(func.distinct(StaffRole.member_id))).where(
                        StaffRole.role == Role.ADMIN.value, StaffRole.revoked_at.is_(None)
                    )
                )
                if (admins or 0) <= 1:
                    raise StaffError("the last admin cannot be revoked: add another admin first")
            for row in rows:
                row.revoked_at, row.revoked_by = now, by.label
                await record(
                    session,
                    actor=by.label,
                    role=grant.role,
                    action=AuditAction.REVOKE,
                    subject=f"tg:{user_id}",
                    detail={"role": row.role, "scope": row.scope},
                    at=now,
                )
            return len(rows)

    async def members(self) -> list[StaffEntry]:
        """Every member with at least one active role, oldest first."""
        async with self._db.session() as session:
            members = await session.scalars(
                select(StaffMember).options(selectinload(StaffMember.roles)).order_by(StaffMember.id)
            )
            entries = []
            for member in members:
                active = tuple(Grant(r.role, r.scope) for r in member.roles if r.revoked_at is None)
                if active:
                    entries.append(StaffEntry(member.platform_user_id, member.name, member.position, active))
            return entries

    # ---------------------------------------------------------------------------- invites
    async def invite(self, by: Principal, role: str, scope: str = "", *, chat_id: int | None = None) -> str:
        """A one-time code (24 h) for one role and scope; only its hash is stored."""
        parsed = parse_role(role, scope, self._known)
        code = secrets.token_urlsafe(16)
        digest = hash_code(code)
        now = self._clock.now()
        async with self._db.session() as session:
            grant = await self.require(by, Right.MANAGE_STAFF, session=session)
            session.add(
                StaffInvite(
                    code_hash=digest,
                    role=parsed.value,
                    scope=scope,
                    created_by=by.label,
                    created_at=now,
                    expires_at=now + INVITE_TTL,
                )
            )
            await record(
                session,
                actor=by.label,
                role=grant.role,
                chat_id=chat_id,
                action=AuditAction.INVITE,
                subject=f"invite:{digest[:12]}",
                detail={"role": parsed.value, "scope": scope},
                at=now,
            )
        return code

    async def redeem(self, code: str, who: Principal, *, chat_id: int | None = None) -> Grant:
        """Join with a code: single use, unexpired; NotAllowed("staff-invite-invalid") otherwise."""
        if who.anonymous or who.is_shell or not code:
            raise NotAllowed("staff-invite-invalid")
        now = self._clock.now()
        async with self._db.session() as session:
            invite = await session.scalar(
                select(StaffInvite).where(StaffInvite.code_hash == hash_code(code)).with_for_update()
            )
            if invite is None or invite.used_at is not None or invite.expires_at <= now:
                # The same answer for unknown, used and expired codes: it tells a guesser nothing.
                raise NotAllowed("staff-invite-invalid")
            invite.used_at, invite.used_by = now, who.label
            role = Role(invite.role)
            await self._grant(
                session, who.platform, who.user_id, role, invite.scope, invite.created_by, who.name, ""
            )
            await record(
                session,
                actor=who.label,
                role=role.value,
                chat_id=chat_id,
                action=AuditAction.JOIN,
                subject=f"invite:{invite.code_hash[:12]}",
                detail={"role": role.value, "scope": invite.scope, "invited_by": invite.created_by},
                at=now,
            )
            return Grant(role.value, invite.scope)


async def role_holders(session: AsyncSession, role: Role, scope: str) -> list[tuple[str, str]]:
    """(Telegram user id, name) of everyone holding `role` over `scope` now, longest-serving first."""
    rows = await session.execute(
        select(StaffMember.platform_user_id, StaffMember.name)
        .join(StaffRole, StaffRole.member_id == StaffMember.id)
        .where(
            StaffMember.platform == "tg",
            StaffRole.role == role.value,
            StaffRole.scope == scope,
            StaffRole.revoked_at.is_(None),
        )
        .order_by(StaffRole.granted_at, StaffRole.id)
    )
    return [(user_id, name) for user_id, name in rows]


def invite_start_parameter(code: str) -> str:
    """The `/start` payload of an invite link (Telegram allows 64 characters of A-Z a-z 0-9 _ -)."""
    return f"{INVITE_PREFIX}{code}"
