"""Staff commands in groups: `/bind BODY`, `/unbind`, `/comms [off]`, `/strict on|off`.

Only ЦУР administrators from the staff registry may run them; the rights check and the change
itself are `bot.chats.ChatBindings`' (the CLI goes through it too), this module only translates.
Chat-admin status grants nothing, and the bot never asks Telegram who administers a chat.

A change that would move something already working (a body served by another chat, a chat that
serves another body), and every `/unbind`, is asked first: «Да, перенести» / «Отмена». Their
callback data is signed by the operator chats' `CallbackSigner` under the prefix "bd" (bound to the
chat, expiring), so a button copied to another chat or made up is refused. The request waits in
the state store under "bind:<chat>:<serial>" with the id of the admin who asked: nobody else may
answer it, and pressing re-checks the registry.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.core.i18n import Args, Translator
from bot.services.chats import BindingRefused, Change, ChatBindings, Outcome
from bot.services.staff.roles import NotAllowed, Principal
from handlers.telegram.callbacks import CallbackSigner
from handlers.telegram.principal import message_principal, query_principal
from storage.state import StateStore

LANG = "ru"  # staff work in Russian
PREFIX = "bd"
GROUP_TYPES = {"group", "supergroup"}
# An unanswered confirmation is not valid forever: the situation it describes changes.
CONFIRM_TTL = timedelta(minutes=15)


def t(translator: Translator, key: str, args: Args | None = None) -> str:
    return translator.text(LANG, key, args)


def refusal(translator: Translator, refused: NotAllowed) -> str:
    """Every command here is an admin's: say so rather than the registry's generic refusal."""
    return t(translator, "staff-admins-only" if refused.reason == "staff-not-allowed" else refused.reason)


def pending_key(chat_id: int, serial: int) -> str:
    return f"bind:{chat_id}:{serial}"


def done_text(change: Change, bindings: ChatBindings, translator: Translator) -> str:
    """The reply in the chat that was just bound: what it works now, and what moved."""
    lines = [t(translator, "bind-done", {"body": bindings.body_name(change.body_id)})]
    if change.old_chat_id is not None:
        lines.append(t(translator, "bind-done-moved"))
    if change.old_body_id is not None:
        lines.append(t(translator, "bind-done-lost", {"body": bindings.body_name(change.old_body_id)}))
    return "\n".join(lines)


def confirm_text(change: Change, bindings: ChatBindings, translator: Translator, op: str) -> str:
    if op == "unbind":
        return t(translator, "unbind-confirm", {"body": bindings.body_name(change.body_id)})
    lines = [t(translator, "bind-confirm")]
    if change.old_chat_id is not None:
        args: Args = {"body": bindings.body_name(change.body_id), "chat": str(change.old_chat_id)}
        lines.append(t(translator, "bind-confirm-body", args))
    if change.old_body_id is not None:
        lines.append(t(translator, "bind-confirm-chat", {"body": bindings.body_name(change.old_body_id)}))
    return "\n".join(lines)


async def ask_to_confirm(
    message: Message,
    who: Principal,
    op: str,
    change: Change,
    bindings: ChatBindings,
    state: StateStore,
    signer: CallbackSigner,
    translator: Translator,
) -> None:
    """Keep the request for its admin and show the two buttons."""
    serial = secrets.randbelow(999_999_999) + 1
    request: dict[str, Any] = {
        "op": op,
        "body": change.body_id,
        "user": who.user_id,
        "at": bindings.clock.now().isoformat(),
    }
    await state.set(pending_key(message.chat.id, serial), request)
    yes = "unbind-btn-yes" if op == "unbind" else "bind-btn-yes"
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=t(translator, yes),
                    callback_data=signer.sign("yes", serial, message.chat.id, prefix=PREFIX),
                ),
                InlineKeyboardButton(
                    text=t(translator, "bind-btn-no"),
                    callback_data=signer.sign("no", serial, message.chat.id, prefix=PREFIX),
                ),
            ]
        ]
    )
    await message.reply(confirm_text(change, bindings, translator, op), reply_markup=markup)


def binding_router() -> Router:
    """Binding commands and their confirmations in groups; include it before the comms router."""
    router = Router(name="binding")
    router.message.filter(F.chat.type.in_(GROUP_TYPES))
    router.callback_query.filter(F.data.startswith(f"{PREFIX}:"))

    @router.message(Command("bind"))
    async def bind(
        message: Message,
        command: CommandObject,
        bindings: ChatBindings,
        operator_state: StateStore,
        signer: CallbackSigner,
        translator: Translator,
    ) -> None:
        who = message_principal(message)
        if who is None:
            return
        body_id = (command.args or "").strip()
        try:
            change = await bindings.bind(
                who, body_id, message.chat.id, confirmed=False, from_chat=message.chat.id
            )
        except NotAllowed as refused:
            await message.reply(refusal(translator, refused))
            return
        except BindingRefused as refused:
            await message.reply(t(translator, refused.reason))
            return
        if change.outcome is Outcome.CONFIRM:
            await ask_to_confirm(message, who, "bind", change, bindings, operator_state, signer, translator)
        elif change.outcome is Outcome.UNCHANGED:
            await message.reply(t(translator, "bind-unchanged", {"body": bindings.body_name(body_id)}))
        else:
            await message.reply(done_text(change, bindings, translator))

    @router.message(Command("unbind"))
    async def unbind(
        message: Message,
        bindings: ChatBindings,
        operator_state: StateStore,
        signer: CallbackSigner,
        translator: Translator,
    ) -> None:
        who = message_principal(message)
        if who is None:
            return
        try:
            change = await bindings.unbind(
                who, chat_id=message.chat.id, confirmed=False, from_chat=message.chat.id
            )
        except NotAllowed as refused:
            await message.reply(refusal(translator, refused))
            return
        if change.outcome is Outcome.NOT_BOUND:
            await message.reply(t(translator, "unbind-not-bound"))
            return
        await ask_to_confirm(message, who, "unbind", change, bindings, operator_state, signer, translator)

    @router.message(Command("comms"))
    async def comms(
        message: Message, command: CommandObject, bindings: ChatBindings, translator: Translator
    ) -> None:
        who = message_principal(message)
        if who is None:
            return
        off = (command.args or "").strip().lower() == "off"
        try:
            if off:
                change = await bindings.unbind_comms(who, message.chat.id, from_chat=message.chat.id)
            else:
                change = await bindings.bind_comms(who, message.chat.id, from_chat=message.chat.id)
        except NotAllowed as refused:
            await message.reply(refusal(translator, refused))
            return
        if change.outcome is Outcome.DONE:
            await message.reply(t(translator, "chat-comms-unbound" if off else "chat-comms-bound"))
        else:
            await message.reply(t(translator, "chat-comms-not-bound" if off else "chat-comms-already"))

    @router.message(Command("strict"))
    async def strict(
        message: Message, command: CommandObject, bindings: ChatBindings, translator: Translator
    ) -> None:
        who = message_principal(message)
        if who is None:
            return
        word = (command.args or "").strip().lower()
        binding = await bindings.binding_of(message.chat.id)
        try:
            if word not in ("on", "off"):
                # Still checked first: a stranger learns nothing about the chat from the usage line.
                await bindings.require(who)
                await message.reply(t(translator, "strict-usage"))
                return
            if binding is None:
                await bindings.require(who)
                await message.reply(t(translator, "unbind-not-bound"))
                return
            change = await bindings.set_strict(who, binding.body_id, word == "on", from_chat=message.chat.id)
        except NotAllowed as refused:
            await message.reply(refusal(translator, refused))
            return
        except BindingRefused as refused:
            await message.reply(t(translator, refused.reason))
            return
        if change.outcome is Outcome.UNCHANGED:
            await message.reply(t(translator, "strict-unchanged"))
        else:
            key = "strict-on" if word == "on" else "strict-off"
            await message.reply(t(translator, key, {"body": bindings.body_name(binding.body_id)}))

    @router.callback_query()
    async def on_confirm(
        query: CallbackQuery,
        bindings: ChatBindings,
        operator_state: StateStore,
        signer: CallbackSigner,
        translator: Translator,
    ) -> None:
        message = query.message
        verified = signer.verify(query.data or "", message.chat.id, prefix=PREFIX) if message else None
        if not isinstance(message, Message) or verified is None:
            await query.answer(t(translator, "bind-forged"), show_alert=True)
            return
        action, serial = verified
        key = pending_key(message.chat.id, serial)
        async with operator_state.lock(key):
            request = await operator_state.get(key)
            if request is None or _expired(request, bindings.clock.now()):
                await query.answer(t(translator, "bind-stale"), show_alert=True)
                return
            who = query_principal(query)
            if request.get("user") != who.user_id:
                await query.answer(t(translator, "bind-not-yours"), show_alert=True)
                return
            if action == "no":
                await operator_state.delete(key)
                await query.answer()
                await message.edit_text(t(translator, "bind-cancelled"), reply_markup=None)
                return
            try:
                if request.get("op") == "unbind":
                    change = await bindings.unbind(
                        who, chat_id=message.chat.id, confirmed=True, from_chat=message.chat.id
                    )
                else:
                    change = await bindings.bind(
                        who,
                        str(request.get("body")),
                        message.chat.id,
                        confirmed=True,
                        from_chat=message.chat.id,
                    )
            except NotAllowed as refused:
                # Revoked since asking: the registry decides at the moment of pressing.
                await query.answer(refusal(translator, refused), show_alert=True)
                return
            except BindingRefused as refused:
                await query.answer(t(translator, refused.reason), show_alert=True)
                return
            await operator_state.delete(key)
        await query.answer()
        if request.get("op") == "unbind":
            text = (
                t(translator, "unbind-not-bound")
                if change.outcome is Outcome.NOT_BOUND
                else t(translator, "unbind-done", {"body": bindings.body_name(change.body_id)})
            )
        elif change.outcome is Outcome.UNCHANGED:
            text = t(translator, "bind-unchanged", {"body": bindings.body_name(change.body_id)})
        else:
            text = done_text(change, bindings, translator)
        await message.edit_text(text, reply_markup=None)

    return router


def _expired(request: dict[str, Any], now: datetime) -> bool:
    try:
        asked = datetime.fromisoformat(str(request.get("at")))
    except ValueError:
        return True
    return now - asked > CONFIRM_TTL
