"""Operator chats: report cards in forum topics, action buttons, and relay to the citizen.

Callback data carries only ids and a short HMAC over (action, report, chat), so a button copied to
another chat, or made up, is refused before anything is looked up; the server then re-checks the
chat's body, the report's state and the lifecycle on every action.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from typing import Any

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy import select

from bot.catalog import Catalog
from bot.i18n import Translator
from bot.report_actions import ActionRefused, Actor, ReportActions
from bot.reports import Status
from storage.db import Database
from storage.models import Report, ReportThread
from storage.state import StateStore

log = logging.getLogger(__name__)

OPERATOR_LANG = "ru"
TEXT_ACTIONS = ("clarify", "answer")
REJECT_REASONS = ("competence", "spam", "duplicate")
INTERNAL_PREFIXES = ("!", "/note")


class CallbackSigner:
    """Signs operator callback data so a forged or transplanted button is refused."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def sign(self, action: str, report_id: int, chat_id: int) -> str:
        mac = hmac.new(self._secret, f"{action}:{report_id}:{chat_id}".encode(), hashlib.sha256).digest()
        tag = base64.urlsafe_b64encode(mac[:6]).decode().rstrip("=")
        return f"op:{action}:{report_id}:{tag}"

    def verify(self, data: str, chat_id: int) -> tuple[str, int] | None:
        parts = data.split(":")
        if len(parts) != 4 or parts[0] != "op" or not parts[2].isdigit() or len(parts[2]) > 12:
            return None
        action, report_id = parts[1], int(parts[2])
        expected = self.sign(action, report_id, chat_id)
        return (action, report_id) if hmac.compare_digest(expected, data) else None


def card_markup(
    report: Report, chat_id: int, signer: CallbackSigner, translator: Translator
) -> InlineKeyboardMarkup:
    """The action buttons a report in this status offers."""

    def button(action: str, key: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            text=translator.text(OPERATOR_LANG, key), callback_data=signer.sign(action, report.id, chat_id)
        )

    status = Status(report.status)
    rows: list[list[InlineKeyboardButton]] = []
    if status in (Status.ROUTED, Status.IN_PROGRESS, Status.NEEDS_INFO):
        rows.append([button("take", "op-btn-take"), button("clarify", "op-btn-clarify")])
        rows.append([button("answer", "op-btn-answer"), button("reject", "op-btn-reject")])
        rows.append([button("transfer", "op-btn-transfer")])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def card_text(report: Report, catalog: Catalog, translator: Translator, show_phone: bool) -> str:
    """The card: what operators need to act, the phone only for the body's own operators."""
    sector = catalog.sector(report.sector_id).name(OPERATOR_LANG)
    args: dict[str, Any] = {
        "number": report.number or "",
        "sector": sector,
        "municipality": catalog.municipality_name(report.municipality_id) or "—",
        "address": report.address or "—",
        "status": translator.text(OPERATOR_LANG, f"status-{report.status}"),
        "confidence": f"{(report.classifier_confidence or 0) * 100:.0f}%",
        "first": report.first_reaction_due.strftime("%d.%m.%Y %H:%M UTC"),
        "due": report.answer_due.strftime("%d.%m.%Y"),
        "platform": report.platform,
        "phone": report.phone if show_phone and report.phone else "—",
        "photos": len(report.photos or []),
        "rating": f"{report.rating}/5" if report.rating else "—",
    }
    head = translator.text(OPERATOR_LANG, "op-card", args)
    body = report.text if len(report.text) <= 2500 else report.text[:2500] + "…"
    return f"{head}\n\n{body}"[:4096]


def topic_title(report: Report, catalog: Catalog) -> str:
    place = catalog.municipality_name(report.municipality_id) or "?"
    return f"№{report.number} · {catalog.sector(report.sector_id).name(OPERATOR_LANG)} · {place}"[:128]


def operator_router() -> Router:
    """Handlers for operator supergroups (bodies' chats and the ЦУР chat)."""
    router = Router(name="operator")
    router.message.filter(F.chat.type == "supergroup")
    router.callback_query.filter(F.message.chat.type == "supergroup")

    @router.callback_query(F.data.startswith("op:"))
    async def on_action(
        query: CallbackQuery,
        bot: Bot,
        actions: ReportActions,
        signer: CallbackSigner,
        operator_state: StateStore,
        translator: Translator,
        catalog: Catalog,
    ) -> None:
        message = query.message
        if not isinstance(message, Message):
            # Too old for Telegram to show us (InaccessibleMessage): the card is re-posted on the next event.
            await query.answer(translator.text(OPERATOR_LANG, "op-forged"), show_alert=True)
            return
        verified = signer.verify(query.data or "", message.chat.id)
        if verified is None:
            await query.answer(translator.text(OPERATOR_LANG, "op-forged"), show_alert=True)
            return
        action, report_id = verified
        actor = Actor(str(query.from_user.id), query.from_user.full_name, message.chat.id)
        try:
            if action == "take":
                await actions.take(report_id, actor)
                await query.answer(translator.text(OPERATOR_LANG, "op-taken"))
            elif action in TEXT_ACTIONS:
                await actions.check(report_id, actor)
                await operator_state.set(
                    f"op:{message.chat.id}:{query.from_user.id}", {"action": action, "report_id": report_id}
                )
                await query.answer()
                await bot.send_message(
                    message.chat.id,
                    translator.text(OPERATOR_LANG, f"op-write-{action}"),
                    message_thread_id=message.message_thread_id,
                )
            elif action == "reject":
                await actions.check(report_id, actor)
                await query.answer()
                markup = InlineKeyboardMarkup(
                    inline_keyboard=[
                        [
                            InlineKeyboardButton(
                                text=translator.text(OPERATOR_LANG, f"op-reason-{reason}"),
                                callback_data=signer.sign(f"rj-{reason}", report_id, message.chat.id),
                            )
                        ]
                        for reason in REJECT_REASONS
                    ]
                )
                await bot.send_message(
                    message.chat.id,
                    translator.text(OPERATOR_LANG, "op-choose-reason"),
                    message_thread_id=message.message_thread_id,
                    reply_markup=markup,
                )
            elif action == "transfer":
                await actions.check(report_id, actor)
                await query.answer()
                sectors = [
                    InlineKeyboardButton(
                        text=sector.name(OPERATOR_LANG),
                        callback_data=signer.sign(f"tr-{sector.id}", report_id, message.chat.id),
                    )
                    for sector in catalog.sectors.values()
                ]
                await bot.send_message(
                    message.chat.id,
                    translator.text(OPERATOR_LANG, "op-choose-sector"),
                    message_thread_id=message.message_thread_id,
                    reply_markup=InlineKeyboardMarkup(inline_keyboard=[[b] for b in sectors]),
                )
            elif action.startswith("tr-"):
                await actions.transfer(report_id, actor, action[3:])
                await query.answer(translator.text(OPERATOR_LANG, "op-transfer-done"))
            elif action.startswith("rj-") and action[3:] in REJECT_REASONS:
                await actions.reject(report_id, actor, action[3:], None)
                await query.answer(translator.text(OPERATOR_LANG, "op-rejected"))
            else:
                await query.answer(translator.text(OPERATOR_LANG, "op-forged"), show_alert=True)
                return
        except ActionRefused as refused:
            await query.answer(translator.text(OPERATOR_LANG, refused.reason), show_alert=True)
            return

    @router.message(F.message_thread_id)
    async def in_topic(
        message: Message,
        bot: Bot,
        db: Database,
        actions: ReportActions,
        operator_state: StateStore,
        translator: Translator,
    ) -> None:
        user = message.from_user
        if user is None or user.is_bot:
            return
        thread = await find_thread(db, message.chat.id, message.message_thread_id or 0)
        if thread is None:
            return
        text = message.text or message.caption or ""
        if text.startswith(INTERNAL_PREFIXES):
            return  # an internal note between operators: never leaves the chat
        actor = Actor(str(user.id), user.full_name, message.chat.id)
        key = f"op:{message.chat.id}:{user.id}"
        pending = await operator_state.get(key)
        try:
            if pending and pending.get("report_id") == thread.report_id and text:
                await operator_state.delete(key)
                if pending["action"] == "clarify":
                    await actions.ask_clarification(thread.report_id, actor, text)
                else:
                    await actions.answer(thread.report_id, actor, text)
                await message.reply(translator.text(OPERATOR_LANG, "op-sent-to-citizen"))
                return
            photos = (message.photo[-1].file_id,) if message.photo else ()
            documents = (message.document.file_id,) if message.document else ()
            await actions.relay_to_citizen(
                thread.report_id, actor, text, photos, documents, message.message_id
            )
        except ActionRefused as refused:
            await message.reply(translator.text(OPERATOR_LANG, refused.reason))

    return router


async def find_thread(db: Database, chat_id: int, thread_id: int) -> ReportThread | None:
    async with db.session() as session:
        found: ReportThread | None = await session.scalar(
            select(ReportThread).where(ReportThread.chat_id == chat_id, ReportThread.thread_id == thread_id)
        )
        return found
