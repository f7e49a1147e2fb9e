"""A notice's one message in the comms chat: the approval request while it waits for a second
person, then its progress while it goes out (pause, resume, cancel), then its totals.

Every press names a person (`query_principal`) and the `NoticeService` decides: approving needs
`comms` or `admin` held now and someone other than the composer; steering needs `comms` or `admin`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramRetryAfter
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.core.i18n import Translator
from bot.services.notices.content import Audience, NoticeStats, NoticeStatus, notice_views
from bot.services.notices.service import NoticeService, NoticeStateError
from bot.services.staff.roles import NotAllowed
from dialogs.comms.draft import draft_key, stored_draft
from handlers.telegram.callbacks import CallbackSigner, callback_signer
from handlers.telegram.comms import (
    LANG,
    CommsCallbacks,
    edit_text,
    kind_name,
    refusal,
    t,
)
from handlers.telegram.principal import query_principal
from handlers.telegram.render import render
from storage.models import Notice
from storage.state import StateStore

log = logging.getLogger(__name__)

# Telegram's text limit, with room for the lines around the quoted notice.
MESSAGE_LIMIT = 4000


def eta_text(translator: Translator, seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return t(translator, "comms-eta-unknown")
    if seconds < 90:
        return t(translator, "comms-eta-seconds", {"n": max(1, math.ceil(seconds))})
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return t(translator, "comms-eta-minutes", {"n": minutes})
    return t(translator, "comms-eta-hours", {"h": minutes // 60, "m": minutes % 60})


def rate_text(rate: float) -> str:
    return f"{rate:.0f}" if rate >= 10 else f"{rate:.1f}"


def person_name(label: str | None) -> str:
    """The name part of "tg:<id> <name>" (the label when there is no name)."""
    if not label:
        return "—"
    platform_id, _, name = label.partition(" ")
    return name or platform_id


def approval_reason(translator: Translator, audience: Audience, recipients: int, threshold: int) -> str:
    if audience.everyone:
        return t(translator, "comms-awaiting-reason-everyone")
    return t(translator, "comms-awaiting-reason-many", {"count": recipients, "threshold": threshold})


def approval_request(
    notice: Notice,
    audience_lines: list[str],
    threshold: int,
    chat_id: int,
    translator: Translator,
    cb: CommsCallbacks,
) -> tuple[str, InlineKeyboardMarkup]:
    """The message asking a second person to approve: who wrote it, to whom, and the text itself."""
    rendered = render(notice_views(notice.kind, notice.text, notice.claim, notice.source), LANG, translator)
    head = t(
        translator,
        "comms-approval",
        {
            "id": notice.id,
            "author": person_name(notice.author),
            "kind": kind_name(translator, notice.kind),
            "audience": "\n".join(audience_lines),
            "count": notice.recipients,
            "reason": approval_reason(
                translator, Audience.from_json(notice.audience), notice.recipients, threshold
            ),
        },
    )
    photo = f"\n{t(translator, 'comms-approval-photo')}" if notice.photo else ""
    # The text exactly as citizens get it: what the approval covers, with the photo and audience.
    quote = rendered[0].text if rendered else ""
    room = MESSAGE_LIMIT - len(head) - len(photo) - 2
    if len(quote) > room:
        quote = quote[: max(0, room - 1)] + "…"
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                cb.button(t(translator, "comms-btn-approve"), "ap-ok", notice.id, chat_id),
                cb.button(t(translator, "comms-btn-reject"), "ap-no", notice.id, chat_id),
            ]
        ]
    )
    return f"{head}\n\n{quote}{photo}", markup


def progress_message(
    notice: Notice, stats: NoticeStats, chat_id: int, translator: Translator, cb: CommsCallbacks
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The progress message of a notice: live figures with its buttons, or the final totals."""
    args: dict[str, str | int | float] = {
        "id": stats.notice_id,
        "kind": kind_name(translator, notice.kind),
        "total": stats.total,
        "sent": stats.sent,
        "failed": stats.failed,
        "unreachable": stats.unreachable,
        "waiting": stats.waiting,
        "paused": stats.paused,
        "cancelled": stats.cancelled,
    }
    approved = (
        f"\n{t(translator, 'comms-approved-by', {'name': person_name(notice.approved_by)})}"
        if notice.approved_by
        else ""
    )
    if stats.status == NoticeStatus.CANCELLED and notice.confirmed_at is None:
        # Rejected or withdrawn while it waited for approval: nothing went out.
        return t(translator, "comms-approval-closed", args), None
    if stats.status == NoticeStatus.DONE:
        return t(translator, "comms-progress-done", args) + approved, None
    if stats.status == NoticeStatus.CANCELLED:
        return t(translator, "comms-progress-cancelled", args) + approved, None
    paused = stats.status == NoticeStatus.PAUSED
    args["status"] = t(translator, "comms-status-paused" if paused else "comms-status-sending")
    args["rate"] = rate_text(stats.rate_per_minute)
    args["eta"] = eta_text(translator, None if paused else stats.eta_seconds)
    nid = stats.notice_id
    first = (
        cb.button(t(translator, "comms-btn-resume"), "n-resume", nid, chat_id)
        if paused
        else cb.button(t(translator, "comms-btn-pause"), "n-pause", nid, chat_id)
    )
    stop = cb.button(t(translator, "comms-btn-stop"), "n-stop", nid, chat_id)
    text = t(translator, "comms-progress", args) + approved
    return text, InlineKeyboardMarkup(inline_keyboard=[[first, stop]])


class NoticeProgress:
    """Keeps the progress message of every notice that is going out up to date.

    `tick` edits each active notice's message (skipping ones whose text did not change) and gives
    a notice that finished, or was cancelled, its final totals without buttons. `run` ticks every
    `interval` seconds until `stop` is set. A notice awaiting approval keeps its request as it is.
    """

    def __init__(
        self,
        bot: Bot,
        notices: NoticeService,
        translator: Translator,
        signer: CallbackSigner | None = None,
    ) -> None:
        if signer is None:
            # The key the dispatcher signs with.
            signer = callback_signer(bot.token)
        self._bot = bot
        self._notices = notices
        self._translator = translator
        self._cb = CommsCallbacks(signer)
        # Notices shown as still going out: one that leaves `active()` (cancelled from the CLI,
        # finished) gets its final edit on the next tick.
        self._watching: set[int] = set()
        self._shown: dict[int, str] = {}
        # Notices whose message cannot be edited any more (deleted, the bot left): not retried.
        self._broken: set[int] = set()

    async def tick(self) -> int:
        """One round of edits; returns how many messages were edited."""
        edited = 0
        for notice_id in sorted((set(await self._notices.active()) | self._watching) - self._broken):
            try:
                if await self.refresh(notice_id):
                    edited += 1
            except TelegramRetryAfter as error:
                log.warning("notice progress: Telegram asks to wait %s s", error.retry_after)
                break
            except TelegramAPIError as error:
                # The message was deleted or the bot left the chat: the notice goes on without it.
                log.warning("notice %s: progress message not updated: %s", notice_id, error)
                self._watching.discard(notice_id)
                self._broken.add(notice_id)
        return edited

    async def refresh(self, notice_id: int, *, force: bool = False) -> bool:
        """Bring one notice's progress message up to date; True when it was edited."""
        notice = await self._notices.get(notice_id)
        if notice is not None and notice.status == NoticeStatus.SENDING:
            # Notices planned from the CLI have no progress message but must still end as done.
            await self._notices.finish_if_done(notice_id)
        if (
            notice is None
            or notice.progress_chat_id is None
            or notice.progress_message_id is None
            or notice.status in (NoticeStatus.DRAFT, NoticeStatus.AWAITING)
        ):
            self._watching.discard(notice_id)
            return False
        stats = await self._notices.stats(notice_id)
        text, markup = progress_message(notice, stats, notice.progress_chat_id, self._translator, self._cb)
        final = markup is None
        if final:
            self._watching.discard(notice_id)
        else:
            self._watching.add(notice_id)
        if not force and self._shown.get(notice_id) == text:
            return False
        edited = await edit_text(self._bot, notice.progress_chat_id, notice.progress_message_id, text, markup)
        if final:
            self._shown.pop(notice_id, None)
        else:
            self._shown[notice_id] = text
        return edited

    async def run(self, stop: asyncio.Event, interval: float = 15.0) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("notice progress tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)


async def state_refusal(
    query: CallbackQuery, notices: NoticeService, notice_id: int, translator: Translator
) -> None:
    """Tell the presser that the notice has moved on (sent, cancelled, changed)."""
    current = await notices.get(notice_id)
    status = t(translator, f"comms-state-{current.status if current else 'done'}")
    await query.answer(t(translator, "comms-not-possible", {"status": status}), show_alert=True)


async def progress_action(
    query: CallbackQuery,
    message: Message,
    action: str,
    notice_id: int,
    bot: Bot,
    notices: NoticeService,
    translator: Translator,
    signer: CallbackSigner,
) -> None:
    """Pause, resume or cancel a notice from its progress message, then show the result at once."""
    notice = await notices.get(notice_id)
    if notice is None or notice.progress_chat_id != message.chat.id:
        await query.answer(t(translator, "comms-forged"), show_alert=True)
        return
    who = query_principal(query)
    progress = NoticeProgress(bot, notices, translator, signer)
    cb = CommsCallbacks(signer)
    chat_id = message.chat.id
    try:
        if action == "n-stop":
            # Only asks; still, only someone who may stop it is asked.
            await notices.require_steering(who)
            await query.answer(t(translator, "comms-stop-ask"))
            markup = InlineKeyboardMarkup(
                inline_keyboard=[
                    [cb.button(t(translator, "comms-btn-stop-confirm"), "n-kill", notice_id, chat_id)],
                    [cb.button(t(translator, "comms-btn-stop-back"), "n-back", notice_id, chat_id)],
                ]
            )
            with contextlib.suppress(TelegramBadRequest):
                await bot.edit_message_reply_markup(
                    chat_id=chat_id, message_id=message.message_id, reply_markup=markup
                )
            return
        if action == "n-back":
            await query.answer()
        elif action in ("n-pause", "n-resume", "n-kill"):
            if action == "n-pause":
                done, done_key = await notices.pause(notice_id, who), "comms-paused"
            elif action == "n-resume":
                done, done_key = await notices.resume(notice_id, who), "comms-resumed"
            else:
                done, done_key = await notices.cancel(notice_id, who, chat_id=chat_id), "comms-stopped"
            if done:
                await query.answer(t(translator, done_key))
            else:
                await state_refusal(query, notices, notice_id, translator)
        else:
            await query.answer(t(translator, "comms-forged"), show_alert=True)
            return
    except NotAllowed as error:
        await query.answer(refusal(translator, error.reason, "comms-steer-not-allowed"), show_alert=True)
        return
    with contextlib.suppress(TelegramBadRequest):
        await progress.refresh(notice_id, force=True)


async def approval_action(
    query: CallbackQuery,
    message: Message,
    action: str,
    notice_id: int,
    bot: Bot,
    notices: NoticeService,
    operator_state: StateStore,
    translator: Translator,
    signer: CallbackSigner,
) -> None:
    """«✅ Одобрить» sends the notice (a second person, comms or admin); «✖️ Отклонить» cancels it."""
    notice = await notices.get(notice_id)
    if notice is None or notice.progress_chat_id != message.chat.id:
        await query.answer(t(translator, "comms-forged"), show_alert=True)
        return
    who = query_principal(query)
    chat_id = message.chat.id
    try:
        if action == "ap-ok":
            await notices.approve(notice_id, who, chat_id=chat_id)
            await query.answer(t(translator, "comms-approved"))
        elif action == "ap-no":
            if not await notices.cancel(notice_id, who, chat_id=chat_id, reason="rejected", unsent_only=True):
                await state_refusal(query, notices, notice_id, translator)
                return
            await query.answer(t(translator, "comms-rejected"))
        else:
            await query.answer(t(translator, "comms-forged"), show_alert=True)
            return
    except NotAllowed as error:
        await query.answer(refusal(translator, error.reason, "comms-approve-not-allowed"), show_alert=True)
        return
    except NoticeStateError as error:
        if error.status == "changed":
            await query.answer(t(translator, "comms-approval-changed"), show_alert=True)
        else:
            await state_refusal(query, notices, notice_id, translator)
        return
    if action == "ap-ok":
        # Sent: the composer's draft is over. A rejected one stays, to be edited and sent anew.
        await finish_draft(operator_state, chat_id, notice)
    with contextlib.suppress(TelegramBadRequest):
        await NoticeProgress(bot, notices, translator, signer).refresh(notice_id, force=True)


async def finish_draft(operator_state: StateStore, chat_id: int, notice: Notice) -> None:
    """The composer's draft of a notice that went out is over."""
    author_id = notice.author.split(" ", 1)[0].removeprefix("tg:")
    if not author_id.lstrip("-").isdigit():
        return
    key = draft_key(chat_id, int(author_id))
    async with operator_state.lock(key):
        draft = stored_draft(await operator_state.get(key))
        if draft is not None and draft.notice_id == notice.id:
            await operator_state.delete(key)
