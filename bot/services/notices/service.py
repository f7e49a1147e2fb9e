"""Who may do what with a notice: the checked API that the comms composer and the CLI call.

A right is a role in the staff registry now (`StaffService`): only `comms` staff compose and
confirm; cancelling, pausing and resuming is for `comms` and `admin` (and the server's shell).

Four-eyes: a notice to more than `approval_threshold` recipients, or to everyone, goes out only once
a second person approves it. Its composer's confirm counts the recipients afresh and, above the
threshold, moves it to "awaiting" with the hash of its content (`notice_hash`: text, claim,
source, photo, kind, audience) in `approval_hash`. `approve` by someone else who holds `comms` or
`admin` at that moment plans it, in one transaction that still finds the same hash; the composer's
own approval is refused. An edit (`update`) that changes the hash voids the request or approval: the
notice is a draft again and confirming asks anew. Every step is an audit row with actor and role.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.services.notices.content import (
    Audience,
    NoticeDraft,
    NoticeStats,
    NoticeStatus,
    content_hash,
    notice_hash,
)
from bot.services.notices.drafts import check_draft, draft_content
from bot.services.notices.plans import NoticePlans
from bot.services.staff.audit import AuditAction, record
from bot.services.staff.registry import StaffService
from bot.services.staff.roles import SHELL_GRANT, Grant, NotAllowed, Principal, Right
from storage.db import Database
from storage.models import Notice

DEFAULT_APPROVAL_THRESHOLD = 1000
SELF_APPROVAL = "comms-self-approval"
NOT_AUTHOR = "comms-not-author"


@dataclass(frozen=True)
class Confirmation:
    """What a confirm or an approval did."""

    notice_id: int
    status: str
    recipients: int
    # This very call asked for approval (the composer posts the request once, not on a double tap).
    requested: bool = False

    @property
    def awaiting(self) -> bool:
        return self.status == NoticeStatus.AWAITING


class NoticeStateError(Exception):
    """The notice is not in a state that allows this. `status` is its status now, or "changed" when
    its content changed after approval was asked."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def person_label(who: Principal) -> str:
    """How a notice names its composer or approver: "tg:<id> <name>"."""
    return f"{who.label} {who.name}".strip()


def is_author(notice: Notice, who: Principal) -> bool:
    return notice.author.split(" ", 1)[0] == who.label


class NoticeService:
    """Creates, confirms, approves and steers notices on behalf of a `Principal`."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        timezone: ZoneInfo,
        staff: StaffService,
        *,
        approval_threshold: int = DEFAULT_APPROVAL_THRESHOLD,
    ) -> None:
        self._db = db
        self._clock = clock
        self._staff = staff
        self.threshold = approval_threshold
        # The unchecked layer: storage and planning. Handlers and the CLI never call it directly.
        self.plans = NoticePlans(db, clock, timezone)

    # ------------------------------------------------------------------------------ reads
    async def count(self, audience: Audience) -> int:
        return await self.plans.count(audience)

    async def count_by_language(self, audience: Audience) -> dict[str, int]:
        return await self.plans.count_by_language(audience)

    async def get(self, notice_id: int) -> Notice | None:
        return await self.plans.get(notice_id)

    async def stats(self, notice_id: int) -> NoticeStats:
        return await self.plans.stats(notice_id)

    async def finish_if_done(self, notice_id: int) -> bool:
        return await self.plans.finish_if_done(notice_id)

    async def set_progress_message(self, notice_id: int, chat_id: int, message_id: int) -> None:
        await self.plans.set_progress_message(notice_id, chat_id, message_id)

    async def active(self) -> list[int]:
        return await self.plans.active()

    async def recent(self, limit: int = 10) -> list[Notice]:
        return await self.plans.recent(limit)

    def needs_approval(self, audience: Audience, recipients: int) -> bool:
        """Four-eyes: everyone, or more recipients than the threshold."""
        return audience.everyone or recipients > self.threshold

    async def require_composer(self, who: Principal) -> Grant:
        """NotAllowed unless `who` may compose notices now (every step of a composer asks)."""
        return await self._staff.require(who, Right.COMPOSE_NOTICE)

    async def require_steering(self, who: Principal) -> Grant:
        """NotAllowed unless `who` may cancel, pause or resume notices now."""
        async with self._db.session() as session:
            return await self._steering(session, who)

    # ------------------------------------------------------------------------------ composing
    async def create(
        self, draft: NoticeDraft, author: Principal, *, chat_id: int | None = None, via: str = "chat"
    ) -> int:
        """Store a draft notice composed by `author` (who must hold `comms`); nothing is sent yet."""
        check_draft(draft)
        async with self._db.session() as session:
            grant = await self._staff.require(author, Right.COMPOSE_NOTICE, session=session)
            notice = await self.plans.store_in(session, draft, person_label(author))
            await self._audit(
                session,
                author,
                grant,
                AuditAction.NOTICE_COMPOSED,
                notice.id,
                chat_id,
                kind=notice.kind,
                via=via,
            )
            return notice.id

    async def update(
        self, notice_id: int, draft: NoticeDraft, by: Principal, *, chat_id: int | None = None
    ) -> str:
        """Edit a notice not yet sent (its composer only); returns its status afterwards.

        A change of content drops the approval (or the request for one): the notice is a draft
        again. One conditional UPDATE, so it cannot interleave with an approval of the old text."""
        check_draft(draft)
        content = draft_content(draft)
        new_hash = content_hash(**content)
        async with self._db.session() as session:
            grant = await self._staff.require(by, Right.COMPOSE_NOTICE, session=session)
            notice = await self._notice(session, notice_id)
            if not is_author(notice, by):
                raise NotAllowed(NOT_AUTHOR)
            same = Notice.approval_hash == new_hash
            changed = await session.execute(
                update(Notice)
                .where(
                    Notice.id == notice_id,
                    Notice.status.in_([NoticeStatus.DRAFT.value, NoticeStatus.AWAITING.value]),
                )
                .values(
                    **content,
                    send_at=draft.send_at,
                    status=case(
                        (
                            and_(Notice.status == NoticeStatus.AWAITING.value, same),
                            NoticeStatus.AWAITING.value,
                        ),
                        else_=NoticeStatus.DRAFT.value,
                    ),
                    approval_hash=case((same, Notice.approval_hash), else_=None),
                    approved_by=case((same, Notice.approved_by), else_=None),
                    approved_at=case((same, Notice.approved_at), else_=None),
                )
                .execution_options(synchronize_session=False)
            )
            current = await self._notice(session, notice_id, fresh=True)
            if not changed.rowcount:  # type: ignore[attr-defined]
                raise NoticeStateError(current.status)
            await self._audit(
                session,
                by,
                grant,
                AuditAction.NOTICE_COMPOSED,
                notice_id,
                chat_id,
                kind=current.kind,
                edited=True,
            )
            return current.status

    async def confirm(
        self, notice_id: int, by: Principal, *, chat_id: int | None = None, via: str = "chat"
    ) -> Confirmation:
        """The composer's "send": plans the notice, or above the threshold asks for approval.

        Safe to repeat: a notice no longer a draft answers with what it is now."""
        async with self._db.session() as session:
            grant = await self._staff.require(by, Right.COMPOSE_NOTICE, session=session)
            notice = await self._notice(session, notice_id)
            if not is_author(notice, by):
                raise NotAllowed(NOT_AUTHOR)
            if notice.status != NoticeStatus.DRAFT:
                return Confirmation(notice_id, notice.status, notice.recipients)
            audience = Audience.from_json(notice.audience)
            # Counted now, not when the preview was shown: subscribers come and go.
            recipients = await self.plans.count_in(session, audience)
            if self.needs_approval(audience, recipients):
                asked = await session.execute(
                    update(Notice)
                    .where(Notice.id == notice_id, Notice.status == NoticeStatus.DRAFT.value)
                    .values(
                        status=NoticeStatus.AWAITING.value,
                        recipients=recipients,
                        approval_hash=notice_hash(notice),
                        approved_by=None,
                        approved_at=None,
                    )
                    .execution_options(synchronize_session=False)
                )
                current = await self._notice(session, notice_id, fresh=True)
                requested = bool(asked.rowcount)  # type: ignore[attr-defined]
                return Confirmation(notice_id, current.status, current.recipients, requested)
            planned = await self.plans.plan_in(session, notice_id, NoticeStatus.DRAFT)
            current = await self._notice(session, notice_id, fresh=True)
            if planned is not None:
                await self._audit(
                    session,
                    by,
                    grant,
                    AuditAction.NOTICE_SENT,
                    notice_id,
                    chat_id,
                    recipients=planned,
                    via=via,
                )
            return Confirmation(notice_id, current.status, current.recipients)

    async def approve(
        self, notice_id: int, by: Principal, *, chat_id: int | None = None, via: str = "chat"
    ) -> Confirmation:
        """The second person's approval of a notice awaiting it: it goes out at once.

        NotAllowed for anyone without `comms` or `admin` now and for the composer themself (both
        audited as refusals); NoticeStateError when it awaits nothing or changed since it was asked."""
        try:
            return await self._approve(notice_id, by, chat_id, via)
        except NotAllowed as refusal:
            await self._refused(by, notice_id, chat_id, refusal.reason)
            raise

    async def _approve(self, notice_id: int, by: Principal, chat_id: int | None, via: str) -> Confirmation:
        now = self._clock.now()
        async with self._db.session() as session:
            grant = await self._staff.require(by, Right.APPROVE_NOTICE, session=session)
            notice = await self._notice(session, notice_id)
            if is_author(notice, by):
                raise NotAllowed(SELF_APPROVAL)
            if notice.status != NoticeStatus.AWAITING:
                raise NoticeStateError(notice.status)
            asked = notice.approval_hash
            if asked is None or asked != notice_hash(notice):
                raise NoticeStateError("changed")
            planned = await self.plans.plan_in(
                session,
                notice_id,
                NoticeStatus.AWAITING,
                {"approved_by": person_label(by)[:64], "approved_at": now},
                where=[Notice.approval_hash == asked],
            )
            if planned is None:
                current = await self._notice(session, notice_id, fresh=True)
                raise NoticeStateError(
                    current.status if current.status != NoticeStatus.AWAITING else "changed"
                )
            await self._audit(
                session, by, grant, AuditAction.NOTICE_APPROVED, notice_id, chat_id, hash=asked[:16], via=via
            )
            await self._audit(
                session, by, grant, AuditAction.NOTICE_SENT, notice_id, chat_id, recipients=planned, via=via
            )
            current = await self._notice(session, notice_id, fresh=True)
            return Confirmation(notice_id, current.status, current.recipients)

    # ------------------------------------------------------------------------------ steering
    async def cancel(
        self,
        notice_id: int,
        by: Principal,
        *,
        chat_id: int | None = None,
        reason: str = "cancelled",
        unsent_only: bool = False,
    ) -> bool:
        """Cancel a draft, a notice awaiting approval ("rejected") or one going out (unless
        `unsent_only`); False when it is past that. What went out stays sent."""
        allowed = [NoticeStatus.DRAFT, NoticeStatus.AWAITING]
        if not unsent_only:
            allowed += [NoticeStatus.SENDING, NoticeStatus.PAUSED]
        async with self._db.session() as session:
            grant = await self._steering(session, by)
            if not await self.plans.cancel_in(session, notice_id, allowed):
                return False
            await self._audit(
                session, by, grant, AuditAction.NOTICE_CANCELLED, notice_id, chat_id, reason=reason
            )
            return True

    async def pause(self, notice_id: int, by: Principal) -> bool:
        async with self._db.session() as session:
            await self._steering(session, by)
            return await self.plans.pause_in(session, notice_id)

    async def resume(self, notice_id: int, by: Principal) -> bool:
        async with self._db.session() as session:
            await self._steering(session, by)
            return await self.plans.resume_in(session, notice_id)

    # ------------------------------------------------------------------------------ helpers
    async def _steering(self, session: AsyncSession, by: Principal) -> Grant:
        """Stopping or holding a notice: comms or admin staff, or the server's shell."""
        if by.is_shell:
            return SHELL_GRANT
        grant = await self._staff.may(by, Right.COMPOSE_NOTICE, session=session)
        return grant or await self._staff.require(by, Right.APPROVE_NOTICE, session=session)

    async def _notice(self, session: AsyncSession, notice_id: int, *, fresh: bool = False) -> Notice:
        notice = await session.get(Notice, notice_id, populate_existing=fresh)
        if notice is None:
            raise LookupError(f"no notice {notice_id}")
        return notice

    async def _audit(
        self,
        session: AsyncSession,
        who: Principal,
        grant: Grant,
        action: AuditAction,
        notice_id: int,
        chat_id: int | None,
        **detail: Any,
    ) -> None:
        await record(
            session,
            actor=who.label,
            role=grant.role,
            action=action,
            chat_id=chat_id,
            subject=f"notice:{notice_id}",
            detail=detail,
            at=self._clock.now(),
        )

    async def _refused(self, who: Principal, notice_id: int, chat_id: int | None, reason: str) -> None:
        """A refused approval, in a transaction of its own (the refused one was rolled back)."""
        async with self._db.session() as session:
            exists = await session.scalar(select(Notice.id).where(Notice.id == notice_id))
            await record(
                session,
                actor=who.label,
                action=AuditAction.REFUSED,
                chat_id=chat_id,
                subject=f"notice:{notice_id}" if exists else "",
                detail={"action": "notice_approve", "reason": reason},
                at=self._clock.now(),
            )
