"""The comms chat's handlers: `/notice`, `/cancel`, typed answers and every button press.

Being in a comms chat grants nothing: `/notice`, each typed answer and each composer button ask the
`NoticeService` whether the person holds `comms` now (anonymous admins and channels are refused),
and the service checks again when it stores, confirms, approves or steers a notice.
"""

from __future__ import annotations

import contextlib

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.core.i18n import Translator
from bot.services.catalog import Catalog
from bot.services.chats import is_comms_chat
from bot.services.notices.service import NoticeService
from bot.services.staff.roles import NotAllowed
from dialogs.comms.draft import TEXT_STEPS, Draft, draft_key
from handlers.telegram.callbacks import CallbackSigner
from handlers.telegram.comms import (
    GROUP_TYPES,
    PREFIX,
    CommsCallbacks,
    Composing,
    HasDraft,
    Screen,
    kind_markup,
    refusal,
    t,
)
from handlers.telegram.comms_compose import compose_action, drop_stored, take_input
from handlers.telegram.comms_progress import approval_action, progress_action
from handlers.telegram.principal import message_principal, query_principal
from storage.db import Database
from storage.state import StateStore

NOT_COMPOSER = "comms-not-comms-staff"


def comms_router() -> Router:
    """Handlers for comms chats; include it before the operator router."""
    router = Router(name="comms")
    router.message.filter(F.chat.type.in_(GROUP_TYPES))
    router.callback_query.filter(F.data.startswith(f"{PREFIX}:"))

    @router.message(Command("notice"))
    async def start(
        message: Message,
        bot: Bot,
        db: Database,
        notices: NoticeService,
        operator_state: StateStore,
        signer: CallbackSigner,
        translator: Translator,
    ) -> None:
        who = message_principal(message)
        if who is None or (message.from_user is not None and message.from_user.is_bot and not who.anonymous):
            return
        assert message.from_user is not None
        if not await is_comms_chat(db, message.chat.id):
            await message.reply(t(translator, "comms-not-comms-chat"))
            return
        try:
            await notices.require_composer(who)
        except NotAllowed as error:
            await message.reply(refusal(translator, error.reason, NOT_COMPOSER))
            return
        draft = Draft.new(message.message_thread_id if message.is_topic_message else None)
        await operator_state.set(draft_key(message.chat.id, message.from_user.id), draft.to_json())
        screen = Screen(bot, message.chat.id, draft.thread, translator, CommsCallbacks(signer))
        await screen.send(
            t(translator, "comms-choose-kind"), kind_markup(screen.cb, translator, draft, message.chat.id)
        )

    @router.message(Command("cancel"), HasDraft())
    async def cancel(
        message: Message,
        bot: Bot,
        notices: NoticeService,
        operator_state: StateStore,
        signer: CallbackSigner,
        translator: Translator,
    ) -> None:
        who = message_principal(message)
        assert message.from_user is not None and who is not None
        key = draft_key(message.chat.id, message.from_user.id)
        async with operator_state.lock(key):
            payload = await operator_state.get(key)
            if payload is not None:
                draft = Draft.from_json(payload)
                screen = Screen(bot, message.chat.id, draft.thread, translator, CommsCallbacks(signer))
                # Their role gone, the draft still goes; what it stored was never sent.
                with contextlib.suppress(NotAllowed):
                    await drop_stored(who, notices, draft, screen, "withdrawn")
            await operator_state.delete(key)
        await message.reply(t(translator, "comms-cancelled"))

    @router.message(Composing())
    async def on_input(
        message: Message,
        bot: Bot,
        catalog: Catalog,
        notices: NoticeService,
        operator_state: StateStore,
        signer: CallbackSigner,
        translator: Translator,
    ) -> None:
        assert message.from_user is not None
        key = draft_key(message.chat.id, message.from_user.id)
        async with operator_state.lock(key):
            payload = await operator_state.get(key)
            draft = Draft.from_json(payload) if payload else None
            if draft is not None and draft.step in TEXT_STEPS:
                who = message_principal(message)
                try:
                    if who is None:
                        raise NotAllowed()
                    await notices.require_composer(who)
                except NotAllowed as error:
                    await message.reply(refusal(translator, error.reason, NOT_COMPOSER))
                    return
                screen = Screen(bot, message.chat.id, draft.thread, translator, CommsCallbacks(signer))
                await take_input(message, draft, screen, catalog)
                await operator_state.set(key, draft.to_json())
                return
        # Not waiting for text (a menu is shown): the message is ordinary chat, for the next routers.
        raise SkipHandler

    @router.callback_query()
    async def on_button(
        query: CallbackQuery,
        bot: Bot,
        db: Database,
        catalog: Catalog,
        notices: NoticeService,
        operator_state: StateStore,
        signer: CallbackSigner,
        translator: Translator,
    ) -> None:
        message = query.message
        cb = CommsCallbacks(signer)
        verified = cb.verify(query.data or "", message.chat.id) if isinstance(message, Message) else None
        if not isinstance(message, Message) or verified is None:
            await query.answer(t(translator, "comms-forged"), show_alert=True)
            return
        if message.chat.type not in GROUP_TYPES or not await is_comms_chat(db, message.chat.id):
            await query.answer(t(translator, "comms-not-comms-chat"), show_alert=True)
            return
        action, ident = verified
        if action.startswith("n-"):
            await progress_action(query, message, action, ident, bot, notices, translator, signer)
            return
        if action.startswith("ap-"):
            await approval_action(
                query, message, action, ident, bot, notices, operator_state, translator, signer
            )
            return
        key = draft_key(message.chat.id, query.from_user.id)
        async with operator_state.lock(key):
            payload = await operator_state.get(key)
            draft = Draft.from_json(payload) if payload else None
            if draft is None or draft.serial != ident:
                await query.answer(t(translator, "comms-stale"), show_alert=True)
                return
            screen = Screen(bot, message.chat.id, draft.thread, translator, cb)

            async def save(changed: Draft) -> None:
                await operator_state.set(key, changed.to_json())

            try:
                await notices.require_composer(query_principal(query))
                keep = await compose_action(query, message, action, draft, screen, catalog, notices, save)
            except NotAllowed as error:
                await query.answer(refusal(translator, error.reason, NOT_COMPOSER), show_alert=True)
                return
            if keep:
                await operator_state.set(key, draft.to_json())
            else:
                await operator_state.delete(key)

    return router
