"""Who may act on a report, and who may see its citizen's phone.

The chat an action comes from must be bound to the report's body (or be the ЦУР chat, which works
every queue). In a chat that is not strict, being a member is the credential: only members can press
its buttons or write in it. In a strict chat (the ЦУР chat always is) only people holding
`Right.OPERATE` for the chat's body in the staff registry act. Chat-admin status and the `Operator`
bookkeeping rows grant nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.chats import TSUR_BODY, Binding, binding_of_body, binding_of_chat
from bot.services.staff.audit import AuditAction, record
from bot.services.staff.registry import StaffService
from bot.services.staff.roles import Principal, Right
from storage.models import Operator, Report

# The audit role of someone acting as a member of a chat that is not strict.
CHAT_MEMBER = "chat_member"


class ActionRefused(Exception):
    """An action this actor may not take on this report now; the reason is a locale key."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Actor:
    """Who acts: a person in the chat the action came from."""

    platform_user_id: str
    name: str
    chat_id: int
    # Sent on behalf of a chat (an anonymous group admin): no person to hold to account.
    anonymous: bool = False

    @property
    def label(self) -> str:
        """The actor as the report's history names them."""
        return f"operator:{self.platform_user_id}"

    @property
    def principal(self) -> Principal:
        return Principal.telegram(self.platform_user_id, self.name, anonymous=self.anonymous)


@dataclass(frozen=True)
class Authority:
    """Why an actor may act: the chat's binding and the role that allowed it (for the audit trail)."""

    binding: Binding
    role: str


async def authorise(session: AsyncSession, staff: StaffService, report: Report, actor: Actor) -> Authority:
    """The ground on which `actor` acts on `report` from their chat; ActionRefused when there is none."""
    if actor.anonymous:
        raise ActionRefused("op-anonymous")
    binding = await binding_of_chat(session, actor.chat_id)
    if binding is None:
        raise ActionRefused("op-chat-not-bound")
    if binding.body_id not in (report.body_id, TSUR_BODY):
        raise ActionRefused("op-not-your-report")
    if binding.members_may_act:
        return Authority(binding, CHAT_MEMBER)
    grant = await staff.may(actor.principal, Right.OPERATE, binding.body_id, session=session)
    if grant is None:
        raise ActionRefused("op-not-registered")
    return Authority(binding, grant.role)


async def authorise_phone(
    session: AsyncSession, staff: StaffService, report: Report, actor: Actor
) -> Authority:
    """Like `authorise`, narrowed to the responsible body's chat: the ЦУР chat sees the phone only of
    a report whose body has no chat of its own (and, being strict, only its operators and admins)."""
    authority = await authorise(session, staff, report, actor)
    if authority.binding.body_id != report.body_id and await binding_of_body(session, report.body_id):
        raise ActionRefused("op-phone-elsewhere")
    return authority


@dataclass(frozen=True)
class Acting:
    """An authorised actor inside an action's transaction."""

    actor: Actor
    # The grant's role, or "chat_member" in a chat that is not strict.
    role: str
    # Bookkeeping (what a report's assignee points at); grants nothing.
    operator: Operator


async def enter(session: AsyncSession, staff: StaffService, report: Report, actor: Actor) -> Acting:
    """Authorise `actor` on `report` and find (or make) their bookkeeping row in the chat's body."""
    authority = await authorise(session, staff, report, actor)
    body_id = authority.binding.body_id
    operator = await session.scalar(
        select(Operator).where(
            Operator.platform_user_id == actor.platform_user_id, Operator.body_id == body_id
        )
    )
    if operator is None:
        operator = Operator(platform_user_id=actor.platform_user_id, body_id=body_id, name=actor.name[:200])
        session.add(operator)
        await session.flush()
    return Acting(actor, authority.role, operator)


async def record_action(
    session: AsyncSession, acting: Acting, report: Report, action: str, at: datetime, **detail: str
) -> None:
    """The action's audit row, in the action's transaction (so neither exists without the other)."""
    await record(
        session,
        actor=acting.actor.principal.label,
        action=AuditAction.REPORT_ACTION,
        at=at,
        role=acting.role,
        chat_id=acting.actor.chat_id,
        subject=f"report:{report.id}",
        report_id=report.id,
        detail={"action": action, **detail},
    )


async def record_phone_shown(
    session: AsyncSession, actor: Actor, authority: Authority, report: Report, at: datetime
) -> None:
    """A phone shown, for the record; the row never holds the phone itself."""
    await record(
        session,
        actor=actor.principal.label,
        action=AuditAction.PHONE_SHOWN,
        at=at,
        role=authority.role,
        chat_id=actor.chat_id,
        subject=f"report:{report.id}",
        report_id=report.id,
    )
