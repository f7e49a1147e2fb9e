"""Operator chats: report cards in forum topics, action buttons, and relay to the citizen.

Callback data carries only ids, an expiry day and an HMAC over them, the chat and the chat's binding
nonce (`handlers.telegram.callbacks`): a button copied to another chat, kept from before the chat
was bound anew, or made up, is refused before anything is looked up; an expired one re-posts its
card with fresh buttons. `Casework` then decides who may act (the chat's binding, and in
strict mode the staff registry), checks the report's state and the lifecycle, and audits the action.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.core.i18n import Translator
from bot.services.catalog import Catalog
from bot.services.incidents.desk import IncidentDesk
from bot.services.reports.access import ActionRefused, Actor
from bot.services.reports.casework import Casework
from bot.services.reports.topics import ReportTopics
from handlers.telegram.callbacks import CallbackSigner
from handlers.telegram.incident_sends import SEND_ACTION, Held, IncidentLimits, hold_if_many, release
from handlers.telegram.operator_cards import MERGE_PREFIX, OPERATOR_LANG, SPLIT_ACTION
from storage.state import StateStore

log = logging.getLogger(__name__)
DEFAULT_LIMITS = IncidentLimits()

TEXT_ACTIONS = ("clarify", "answer")
REJECT_REASONS = ("competence", "spam", "duplicate")
INTERNAL_PREFIXES = ("!", "/note")


def operator_router() -> Router:
    """Handlers for operator supergroups (bodies' chats and the ЦУР chat)."""
    router = Router(name="operator")
    router.message.filter(F.chat.type == "supergroup")
    router.callback_query.filter(F.message.chat.type == "supergroup")

    @router.callback_query(F.data.startswith("op:"))
    async def on_action(
        query: CallbackQuery,
        bot: Bot,
        actions: Casework,
        signer: CallbackSigner,
        operator_state: StateStore,
        translator: Translator,
        catalog: Catalog,
        incidents: IncidentDesk | None = None,
        incident_limits: IncidentLimits = DEFAULT_LIMITS,
    ) -> None:
        def alert(key: str) -> Any:
            return query.answer(translator.text(OPERATOR_LANG, key), show_alert=True)

        message = query.message
        if not isinstance(message, Message):
            # Too old for Telegram to show us (InaccessibleMessage): the card is re-posted on the next event.
            await alert("op-forged")
            return
        chat_id = message.chat.id
        binding = await actions.binding(chat_id)
        # No binding, no valid button: an unbound chat learns nothing more than that.
        press = signer.check(query.data or "", chat_id, nonce=binding.nonce) if binding else None
        if binding is None or press is None:
            await alert("op-forged")
            return
        action, report_id = press.action, press.ident

        def button(text: str, action: str) -> InlineKeyboardButton:
            data = signer.sign(action, report_id, chat_id, nonce=binding.nonce)
            return InlineKeyboardButton(text=text, callback_data=data)

        async def offer(key: str, rows: list[list[InlineKeyboardButton]]) -> None:
            await bot.send_message(
                chat_id,
                translator.text(OPERATOR_LANG, key),
                message_thread_id=message.message_thread_id,
                reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
            )

        actor = Actor(str(query.from_user.id), query.from_user.full_name, chat_id)
        try:
            if press.expired:
                await actions.repost_card(report_id, actor)
                await alert("op-buttons-expired")
            elif action == "phone":
                phone = await actions.reveal_phone(report_id, actor)
                # An alert only the presser sees: the phone never becomes a message in the chat.
                await query.answer(
                    translator.text(OPERATOR_LANG, "op-phone", {"phone": phone}), show_alert=True
                )
            elif action == "take":
                await actions.take(report_id, actor)
                await query.answer(translator.text(OPERATOR_LANG, "op-taken"))
            elif action in TEXT_ACTIONS:
                await actions.check(report_id, actor)
                await operator_state.set(
                    f"op:{chat_id}:{query.from_user.id}", {"action": action, "report_id": report_id}
                )
                await query.answer()
                await bot.send_message(
                    chat_id,
                    translator.text(OPERATOR_LANG, f"op-write-{action}"),
                    message_thread_id=message.message_thread_id,
                )
            elif action == "reject":
                await actions.check(report_id, actor)
                await query.answer()
                reasons = [
                    [button(translator.text(OPERATOR_LANG, f"op-reason-{reason}"), f"rj-{reason}")]
                    for reason in REJECT_REASONS
                ]
                await offer("op-choose-reason", reasons)
            elif action == "transfer":
                await actions.check(report_id, actor)
                await query.answer()
                sectors = [[button(s.name(OPERATOR_LANG), f"tr-{s.id}")] for s in catalog.sectors.values()]
                await offer("op-choose-sector", sectors)
            elif action.startswith("tr-"):
                await actions.transfer(report_id, actor, action[3:])
                await query.answer(translator.text(OPERATOR_LANG, "op-transfer-done"))
            elif action.startswith(MERGE_PREFIX) and action[len(MERGE_PREFIX) :].isdigit() and incidents:
                await incidents.merge(report_id, int(action[len(MERGE_PREFIX) :]), actor)
                await query.answer(translator.text(OPERATOR_LANG, "op-merged-done"))
            elif action == SPLIT_ACTION and incidents is not None:
                await incidents.split(report_id, actor)
                await query.answer(translator.text(OPERATOR_LANG, "op-split-done"))
            elif action == SEND_ACTION:
                await release(
                    query,
                    actor,
                    report_id,
                    actions=actions,
                    incidents=incidents,
                    limits=incident_limits,
                    state=operator_state,
                    translator=translator,
                )
            elif action.startswith("rj-") and action[3:] in REJECT_REASONS:
                await actions.reject(report_id, actor, action[3:], None)
                await query.answer(translator.text(OPERATOR_LANG, "op-rejected"))
            else:
                await alert("op-forged")
        except ActionRefused as refused:
            await alert(refused.reason)

    @router.message(F.message_thread_id)
    async def in_topic(
        message: Message,
        bot: Bot,
        topics: ReportTopics,
        actions: Casework,
        operator_state: StateStore,
        translator: Translator,
        signer: CallbackSigner,
        incidents: IncidentDesk | None = None,
        incident_limits: IncidentLimits = DEFAULT_LIMITS,
    ) -> None:
        user = message.from_user
        if user is None or user.is_bot:
            return
        thread = await topics.at(message.chat.id, message.message_thread_id or 0)
        if thread is None:
            return
        text = message.text or message.caption or ""
        if text.startswith(INTERNAL_PREFIXES):
            return  # an internal note between operators: never leaves the chat
        # Sent on behalf of the chat (an anonymous admin): nobody to record, so nothing is relayed.
        actor = Actor(
            str(user.id), user.full_name, message.chat.id, anonymous=message.sender_chat is not None
        )
        key = f"op:{message.chat.id}:{user.id}"
        pending = await operator_state.get(key)
        photos = (message.photo[-1].file_id,) if message.photo else ()
        documents = (message.document.file_id,) if message.document else ()

        async def held(kind: str) -> bool:
            binding = await actions.binding(message.chat.id)
            if binding is None:
                return False
            what = Held(kind, text, photos, documents, message.message_id)
            return await hold_if_many(
                message,
                actor,
                thread.report_id,
                what,
                incidents=incidents,
                limits=incident_limits,
                state=operator_state,
                signer=signer,
                nonce=binding.nonce,
                translator=translator,
            )

        try:
            if pending and pending.get("report_id") == thread.report_id and text:
                await operator_state.delete(key)
                if pending["action"] == "answer" and await held("answer"):
                    return
                if pending["action"] == "clarify":
                    await actions.ask_clarification(thread.report_id, actor, text)
                else:
                    await actions.answer(thread.report_id, actor, text)
                await message.reply(translator.text(OPERATOR_LANG, "op-sent-to-citizen"))
                return
            if await held("relay"):
                return
            await actions.relay_to_citizen(
                thread.report_id, actor, text, photos, documents, message.message_id
            )
        except ActionRefused as refused:
            await message.reply(translator.text(OPERATOR_LANG, refused.reason))

    return router
