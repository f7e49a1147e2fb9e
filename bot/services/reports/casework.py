"""What operators and citizens do to a filed report: every status change, its history row and the
message it causes are written in one transaction (the message through the outbox)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.messages import Text, View
from bot.delivery.postbox import ChatThread, ReportTopic, to_topic
from bot.services.catalog import Catalog
from bot.services.chats import Binding, binding_of_chat
from bot.services.reports import queries
from bot.services.reports.access import (
    Acting,
    ActionRefused,
    Actor,
    authorise,
    authorise_phone,
    enter,
    record_action,
    record_phone_shown,
)
from bot.services.reports.cards import CITIZEN_RELAY_KEY, queue_card
from bot.services.reports.deadlines import WorkCalendar, due_dates
from bot.services.reports.followers import (
    followers,
    is_follower,
    lead_id_of,
    move_followers,
    note_in_history,
)
from bot.services.reports.lifecycle import (
    OPEN_STATUSES,
    SYSTEM_ACTOR,
    IllegalTransition,
    Status,
    change_status,
)
from bot.services.reports.sector_examples import CLOSED, TRANSFER, record_example
from bot.services.reports.split import split_out
from bot.services.reports.telling import Telling, unreachable_in_topic
from bot.services.reports.topics import topic_in
from bot.services.staff.registry import StaffService
from storage.db import Database
from storage.models import Report


class Casework:
    """Operator actions with the lifecycle, permissions and citizen notifications in one place."""

    def __init__(
        self, db: Database, catalog: Catalog, clock: Clock, calendar: WorkCalendar, staff: StaffService
    ) -> None:
        self._db = db
        self._catalog = catalog
        self._clock = clock
        self._calendar = calendar
        self._staff = staff
        self._tell = Telling(catalog, clock)

    async def binding(self, chat_id: int) -> Binding | None:
        """The body this chat works, as bound now (its nonce signs the chat's buttons)."""
        async with self._db.session() as session:
            return await binding_of_chat(session, chat_id)

    async def _load(self, session: AsyncSession, report_id: int) -> Report:
        report = await queries.locked(session, report_id, with_citizen=True)
        if report is None:
            raise ActionRefused("report-not-found")
        return report

    @asynccontextmanager
    async def _acting(
        self, report_id: int, actor: Actor
    ) -> AsyncIterator[tuple[AsyncSession, Report, Acting]]:
        """One transaction with the report locked and the actor checked against its body's chat."""
        async with self._db.session() as session:
            report = await self._load(session, report_id)
            yield session, report, await enter(session, self._staff, report, actor)

    async def _audit(
        self, session: AsyncSession, report: Report, acting: Acting, action: str, **detail: str
    ) -> None:
        await record_action(session, acting, report, action, self._clock.now(), **detail)

    async def _move(
        self, session: AsyncSession, report: Report, target: Status, actor: Actor, comment: str | None
    ) -> None:
        try:
            change_status(report, target, actor=actor.label, at=self._clock.now(), comment=comment)
        except IllegalTransition as error:
            raise ActionRefused("op-illegal-transition") from error

    async def check(self, report_id: int, actor: Actor) -> None:
        """Refuse early (before asking an operator to type) when the action could not go through."""
        async with self._acting(report_id, actor) as (_session, report, _acting):
            if Status(report.status) not in OPEN_STATUSES or report.status == Status.ANSWERED:
                raise ActionRefused("op-illegal-transition")

    async def _refresh_card(self, session: AsyncSession, report: Report) -> None:
        """Post or refresh the report's card in its body's operator chat, in the caller's transaction."""
        await queue_card(session, report, self._clock.now())

    async def repost_card(self, report_id: int, actor: Actor) -> None:
        """Re-post the card with freshly signed buttons (someone pressed an expired one); at most once a
        day per state of the report, however often the old buttons are pressed."""
        async with self._db.session() as session:
            report = await self._load(session, report_id)
            await authorise(session, self._staff, report, actor)
            now = self._clock.now()
            await queue_card(session, report, now, refresh=f"resign-{now:%Y%m%d}")

    async def reveal_phone(self, report_id: int, actor: Actor) -> str:
        """The citizen's phone, for the person who asked only (never into a chat); audited, the phone
        itself kept out of the audit row."""
        async with self._db.session() as session:
            report = await session.get(Report, report_id)
            if report is None:
                raise ActionRefused("report-not-found")
            authority = await authorise_phone(session, self._staff, report, actor)
            if Status(report.status) not in OPEN_STATUSES:
                raise ActionRefused("op-phone-closed")
            if not report.phone:
                raise ActionRefused("op-no-phone")
            await record_phone_shown(session, actor, authority, report, self._clock.now())
            return report.phone

    async def relay_to_citizen(
        self,
        report_id: int,
        actor: Actor,
        text: str,
        photos: tuple[str, ...],
        documents: tuple[str, ...],
        message_id: int,
    ) -> None:
        """An operator's message in the report's topic goes to the citizen as the body's words."""
        async with self._acting(report_id, actor) as (session, report, acting):
            if Status(report.status) not in OPEN_STATUSES:
                raise ActionRefused("op-report-closed")
            report.first_reaction_at = report.first_reaction_at or self._clock.now()
            queued = await self._tell.message(
                session, report, f"relay-{actor.chat_id}-{message_id}", text, photos, documents
            )
            if queued:  # a redelivered update relays (and is recorded) once
                members = await followers(session, report)
                for member in members:
                    note = f"incident {report.number}: {text[:500]}"
                    note_in_history(member, actor=actor.label, at=self._clock.now(), comment=note)
                    await self._tell.message(
                        session, member, f"relay-{actor.chat_id}-{message_id}", text, photos, documents
                    )
                await self._audit(session, report, acting, "relay", reporters=str(len(members) + 1))

    async def relay_to_topic(
        self, report_id: int, citizen_id: int, text: str, photos: tuple[str, ...], key: str
    ) -> None:
        """A citizen's follow-up about an open report goes into its topic; a clarification resumes work."""
        async with self._db.session() as session:
            report = await self._load(session, report_id)
            # A linked account (the same person in the other messenger) may follow up too.
            if Status(report.status) not in OPEN_STATUSES or not await queries.owned_by_person(
                session, citizen_id, report.id
            ):
                raise ActionRefused("report-not-found")
            if report.status == Status.NEEDS_INFO:
                change_status(
                    report,
                    Status.IN_PROGRESS,
                    actor=f"citizen:{report.platform}",
                    at=self._clock.now(),
                    comment=text,
                )
                if not is_follower(report, await lead_id_of(session, report)):
                    await self._refresh_card(session, report)
            views = [
                View(
                    (
                        Text("op-citizen-says", {"number": report.number or "", "platform": report.platform}),
                        Text.raw(text),
                    )
                )
            ]
            await to_topic(
                session,
                where=ReportTopic(await lead_id_of(session, report)),
                key=f"{CITIZEN_RELAY_KEY}{key}",
                views=views,
                photos=photos,
                report_id=report.id,
                now=self._clock.now(),
            )

    async def take(self, report_id: int, actor: Actor) -> Report:
        """Assign the report to the pressing operator and start work."""
        async with self._acting(report_id, actor) as (session, report, acting):
            if report.status == Status.IN_PROGRESS and report.assignee_id == acting.operator.id:
                raise ActionRefused("op-already-yours")
            if report.status != Status.IN_PROGRESS:
                await self._move(session, report, Status.IN_PROGRESS, actor, None)
            report.assignee_id = acting.operator.id
            await self._audit(session, report, acting, "take")
            report.first_reaction_at = report.first_reaction_at or self._clock.now()
            await self._tell.status(session, report)
            for member in await move_followers(
                session, report, now=self._clock.now(), actor=actor.label, target=Status.IN_PROGRESS
            ):
                await self._tell.status(session, member)
            await self._refresh_card(session, report)
            return report

    async def ask_clarification(self, report_id: int, actor: Actor, question: str) -> Report:
        """Ask the citizen to clarify; their next message about the report is relayed back."""
        async with self._acting(report_id, actor) as (session, report, acting):
            if report.status == Status.ROUTED:
                await self._move(session, report, Status.IN_PROGRESS, actor, None)
            await self._move(session, report, Status.NEEDS_INFO, actor, question)
            await self._audit(session, report, acting, "clarify")
            report.first_reaction_at = report.first_reaction_at or self._clock.now()
            await self._tell.send(
                session,
                report,
                "clarify",
                [View((Text("notify-clarify", self._tell.args(report)), Text.raw(question)))],
            )
            for member in await move_followers(
                session,
                report,
                now=self._clock.now(),
                actor=actor.label,
                target=Status.NEEDS_INFO,
                comment=question,
            ):
                await self._tell.send(
                    session,
                    member,
                    "clarify",
                    [View((Text("notify-clarify", self._tell.args(member)), Text.raw(question)))],
                )
            await self._refresh_card(session, report)
            return report

    async def answer(self, report_id: int, actor: Actor, text: str) -> Report:
        """The body's answer: the citizen is asked whether it solved the problem."""
        async with self._acting(report_id, actor) as (session, report, acting):
            await self._move(session, report, Status.ANSWERED, actor, text)
            await self._audit(session, report, acting, "answer")
            now = self._clock.now()
            report.answered_at = now
            report.first_reaction_at = report.first_reaction_at or now
            views = self._tell.answer_views(report, text)
            await self._tell.send(session, report, f"answer-{len(report.history)}", views)
            members = await move_followers(
                session,
                report,
                now=self._clock.now(),
                actor=actor.label,
                target=Status.ANSWERED,
                comment=text,
            )
            for member in members:
                member.answered_at = now
                member.first_reaction_at = member.first_reaction_at or now
                await self._tell.send(
                    session, member, f"answer-{len(member.history)}", self._tell.answer_views(member, text)
                )
            if members:
                await self._audit(session, report, acting, "answer-incident", reporters=str(len(members) + 1))
            await self._refresh_card(session, report)
            return report

    async def transfer(self, report_id: int, actor: Actor, sector_id: str) -> Report:
        """Move a report to another sector: it is routed again and its card moves to that body's chat."""
        if sector_id not in self._catalog.sectors:
            raise ActionRefused("op-illegal-transition")
        async with self._acting(report_id, actor) as (session, report, acting):
            old_body = report.body_id
            old_thread = await topic_in(session, report.id)
            new_body = self._catalog.route(sector_id, report.municipality_id)
            await self._move(session, report, Status.TRANSFERRED, actor, sector_id)
            await self._audit(session, report, acting, "transfer", sector=sector_id, to=new_body)
            report.sector_id = sector_id
            report.body_id = new_body
            await record_example(session, report, TRANSFER, self._clock.now())
            report.assignee_id = None
            sector = self._catalog.sector(sector_id)
            due = due_dates(
                self._clock.now(), sector.first_reaction_hours, sector.answer_days, self._calendar
            )
            report.first_reaction_due, report.answer_due = due.first_reaction, due.answer
            report.first_reaction_at = None
            change_status(report, Status.ROUTED, actor=SYSTEM_ACTOR, at=self._clock.now(), comment=new_body)
            if old_thread is not None:
                # Said in the old topic before the card moves on to the new body's chat.
                body = self._catalog.body(new_body).name("ru")
                view = View((Text("op-transferred", {"body": body, "from": old_body}),))
                await to_topic(
                    session,
                    where=ChatThread(old_thread.chat_id, old_thread.thread_id),
                    key=f"transferred:{report.id}:{len(report.history)}",
                    views=[view],
                    report_id=report.id,
                    now=self._clock.now(),
                )
            await self._tell.status(session, report)
            for member in await move_followers(
                session,
                report,
                now=self._clock.now(),
                actor=actor.label,
                target=Status.TRANSFERRED,
                comment=sector_id,
            ):
                member.sector_id, member.body_id = sector_id, new_body
                member.first_reaction_due, member.answer_due = due.first_reaction, due.answer
                change_status(
                    member, Status.ROUTED, actor=SYSTEM_ACTOR, at=self._clock.now(), comment=new_body
                )
                await self._tell.status(session, member)
            await self._refresh_card(session, report)
            return report

    async def rate(self, report_id: int, citizen_id: int, stars: int, comment: str | None) -> None:
        """The citizen's 1–5 rating of a closed report (and an optional comment); the last one counts."""
        if not 1 <= stars <= 5:
            raise ActionRefused("feedback-not-expected")
        async with self._db.session() as session:
            report = await self._load(session, report_id)
            if report.status != Status.CLOSED or not await queries.owned_by_person(
                session, citizen_id, report.id
            ):
                raise ActionRefused("feedback-not-expected")
            report.rating = stars
            if comment is not None:
                report.rating_comment = comment[:2000]
            await self._refresh_card(session, report)

    async def reject(self, report_id: int, actor: Actor, reason: str, comment: str | None) -> Report:
        """Reject: not our competence, spam, or a duplicate of another report."""
        async with self._acting(report_id, actor) as (session, report, acting):
            await self._move(
                session, report, Status.REJECTED, actor, f"{reason}: {comment}" if comment else reason
            )
            await self._audit(session, report, acting, "reject", reason=reason)
            report.closed_at = self._clock.now()
            args = {**self._tell.args(report), "reason": reason}
            lines = [Text("notify-rejected", args), Text(f"reject-reason-{reason}")]
            if comment:
                lines.append(Text.raw(comment))
            await self._tell.send(session, report, "rejected", [View(tuple(lines))])
            for member in await move_followers(
                session,
                report,
                now=self._clock.now(),
                actor=actor.label,
                target=Status.REJECTED,
                comment=reason,
            ):
                member.closed_at = report.closed_at
                member_lines = [
                    Text("notify-rejected", {**self._tell.args(member), "reason": reason}),
                    lines[1],
                ]
                await self._tell.send(session, member, "rejected", [View(tuple(member_lines))])
            await self._refresh_card(session, report)
            return report

    async def citizen_feedback(
        self, report_id: int, citizen_id: int, solved: bool, comment: str | None
    ) -> Report:
        """The citizen's "Solved?": yes closes the report, no reopens it with the same body."""
        async with self._db.session() as session:
            report = await self._load(session, report_id)
            if not await queries.owned_by_person(session, citizen_id, report.id):
                raise ActionRefused("report-not-found")
            if report.status != Status.ANSWERED:
                raise ActionRefused("feedback-not-expected")
            actor = f"citizen:{report.platform}"
            now = self._clock.now()
            target = Status.CLOSED if solved else Status.IN_PROGRESS
            change_status(report, target, actor=actor, at=now, comment=comment)
            if solved:
                report.closed_at = now
                await record_example(session, report, CLOSED, now)
            lead_id = await lead_id_of(session, report)
            if not solved and is_follower(report, lead_id):
                await split_out(session, report, lead_id, now, self._catalog, self._calendar)
            await self._refresh_card(session, report)
            return report

    async def citizen_unreachable(self, session: AsyncSession, report_id: int | None, now: datetime) -> None:
        """Tell the report's operators that the citizen can no longer be reached (blocked the bot)."""
        await unreachable_in_topic(session, report_id, now)
