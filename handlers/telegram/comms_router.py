"""The comms chat's handlers: `/notice`, `/cancel`, typed answers and every button press.

Updates become `Inbound`s for the composer's dialogs (`dialogs.comms`), keyed per chat and member;
their replies are drawn by `CommsScreen`. Being in a comms chat grants nothing: the dialogs ask the
`NoticeService` whether the person holds `comms` now, and the service checks again when it stores,
confirms, approves or steers a notice. A press is checked here first: data not signed by us for
this chat is refused before anything is looked up.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.core.i18n import Translator
from bot.core.messages import Inbound, InboundKind
from bot.services.chats import is_comms_chat
from bot.services.notices.service import NoticeService
from dialogs.comms.draft import draft_key, stored_draft
from dialogs.engine import DialogRunner, Reply
from handlers.telegram.callbacks import CallbackSigner
from handlers.telegram.comms import GROUP_TYPES, PREFIX, CommsCallbacks, Composing, HasDraft, t
from handlers.telegram.comms_progress import approval_action, progress_action
from handlers.telegram.comms_screen import CommsScreen
from handlers.text import view_text
from storage.db import Database
from storage.state import StateStore


def inbound_of(
    message: Message, kind: InboundKind, *, command: str = "", text: str = "", photos: tuple[str, ...] = ()
) -> Inbound:
    """A comms chat message as the composer's dialogs see it."""
    user = message.from_user
    assert user is not None
    return Inbound(
        platform="tg",
        user_id=str(user.id),
        kind=kind,
        text=text,
        command=command,
        photos=photos,
        conversation=draft_key(message.chat.id, user.id),
        sender_name=user.full_name,
        # Telegram fills from_user with a placeholder (GroupAnonymousBot, a channel) for such messages.
        anonymous=message.sender_chat is not None,
        thread=message.message_thread_id if message.is_topic_message else None,
    )


def comms_router() -> Router:
    """Handlers for comms chats; include it before the operator router."""
    router = Router(name="comms")
    router.message.filter(F.chat.type.in_(GROUP_TYPES))
    router.callback_query.filter(F.data.startswith(f"{PREFIX}:"))

    def screen(
        bot: Bot, chat_id: int, thread: int | None, runner: DialogRunner, signer: CallbackSigner
    ) -> CommsScreen:
        services = runner.services
        return CommsScreen(
            bot,
            chat_id,
            thread,
            services.translator,
            CommsCallbacks(signer),
            services.notice_service(),
            services.catalog,
        )

    async def answer_command(
        message: Message, reply: Reply, bot: Bot, comms: DialogRunner, signer: CallbackSigner
    ) -> None:
        """Menus go to the draft's topic; a plain answer (a refusal, "dropped") replies to the command."""
        thread = message.message_thread_id if message.is_topic_message else None
        shown = screen(bot, message.chat.id, thread, comms, signer)
        for view in reply.views:
            if view.buttons or view.notice is not None:
                await shown.show_one(view, reply.lang, None)
            else:
                await message.reply(view_text(view, reply.lang, comms.services.translator))

    @router.message(Command("notice"))
    async def start(
        message: Message, bot: Bot, db: Database, comms: DialogRunner, signer: CallbackSigner
    ) -> None:
        user = message.from_user
        if user is None or (user.is_bot and message.sender_chat is None):
            return
        if not await is_comms_chat(db, message.chat.id):
            await message.reply(t(comms.services.translator, "comms-not-comms-chat"))
            return
        reply = await comms.handle(inbound_of(message, InboundKind.COMMAND, command="notice"))
        await answer_command(message, reply, bot, comms, signer)

    @router.message(Command("cancel"), HasDraft())
    async def cancel(message: Message, bot: Bot, comms: DialogRunner, signer: CallbackSigner) -> None:
        reply = await comms.handle(inbound_of(message, InboundKind.COMMAND, command="cancel"))
        await answer_command(message, reply, bot, comms, signer)

    @router.message(Composing())
    async def on_input(
        message: Message, bot: Bot, comms: DialogRunner, operator_state: StateStore, signer: CallbackSigner
    ) -> None:
        photos = (message.photo[-1].file_id,) if message.photo else ()
        kind = InboundKind.PHOTOS if photos else InboundKind.TEXT
        text = message.text or message.caption or ""
        inbound = inbound_of(message, kind, text=text, photos=photos)
        reply = await comms.handle(inbound)
        if not reply.views:
            # Not waiting for text (a menu is shown): the message is ordinary chat, for the next routers.
            raise SkipHandler
        # Answers go to the draft's topic, wherever the member typed.
        draft = stored_draft(await operator_state.get(inbound.state_key))
        thread = draft.thread if draft is not None else None
        await screen(bot, message.chat.id, thread, comms, signer).show(reply, message)

    @router.callback_query()
    async def on_button(
        query: CallbackQuery,
        bot: Bot,
        db: Database,
        comms: DialogRunner,
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
        user = query.from_user
        inbound = Inbound(
            platform="tg",
            user_id=str(user.id),
            kind=InboundKind.BUTTON,
            button=f"{PREFIX}:{action}:{ident}",
            text=message.text or "",
            conversation=draft_key(message.chat.id, user.id),
            sender_name=user.full_name,
        )
        reply = await comms.handle(inbound)
        # The pressed menu is in the draft's topic.
        thread = message.message_thread_id if message.is_topic_message else None
        await screen(bot, message.chat.id, thread, comms, signer).show(reply, message, query)

    return router
