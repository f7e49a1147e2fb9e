"""The comms team's chat: the vocabulary its Telegram handlers share (signed buttons, filters, edits).

A group becomes a comms chat when a ЦУР administrator sends `/comms` there
(`handlers.telegram.binding`; `/comms off` undoes it). There, a member holding the `comms` role
starts a draft with `/notice` (`comms_router`), kept per (chat, member) in the state store under
"comms:<chat>:<member>": kind → text (a fact-check: claim, facts, source; a photo with a caption is
text and photo) → audience (combinable filters) → a preview rendered exactly as a citizen receives
it, with the number of recipients → send. The steps are dialogs on the citizen dialog engine
(`dialogs.comms`); `comms_screen` draws their views here. Being a member of the chat grants
nothing: every step asks the `NoticeService`, which asks the staff registry. A notice to everyone
or above the approval threshold waits for a second person's «✅ Одобрить» (`comms_progress`).
`/cancel` drops the draft.

Once sent, one message in the chat shows the notice's progress; `NoticeProgress` edits it a few
times a minute, and its buttons pause, resume or cancel the notice. The deliveries themselves are
the outbox workers' job: nothing here sends to citizens.

Buttons carry "cm:<action>:<id>:<expiry>:<tag>", signed by the operator `CallbackSigner` under the
prefix "cm" (the prefix, chat and expiry are in the HMAC): a button copied to another chat or made
up is refused before anything is looked up, and a comms button can never pass for an operator one
or the other way round. The id is a draft's random serial (so a button of an older or another
member's draft is refused by the dialogs) or a notice id (progress and approval buttons). The bot must be an
administrator of the chat (or have privacy mode off) to read the texts members type.
"""

from __future__ import annotations

import contextlib

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Filter
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.core.i18n import Args, Translator
from dialogs.comms.draft import draft_key
from handlers.telegram.callbacks import CallbackSigner
from storage.state import StateStore

LANG = "ru"  # the comms team works in Russian
PREFIX = "cm"
GROUP_TYPES = {"group", "supergroup"}


def t(translator: Translator, key: str, args: Args | None = None) -> str:
    return translator.text(LANG, key, args)


# What the person refused is told, by the reason `NotAllowed` gives.
REFUSALS = {"staff-anonymous": "comms-anonymous", "comms-self-approval": "comms-self-approval"}


def refusal(translator: Translator, reason: str, default: str) -> str:
    """The text for a `NotAllowed(reason)`; `default` says which right was missing."""
    return t(translator, REFUSALS.get(reason, default))


# ------------------------------------------------------------------------------ callback data


class CommsCallbacks:
    """Signs and checks comms buttons with the operator chats' key, in a namespace of their own."""

    def __init__(self, signer: CallbackSigner) -> None:
        self._signer = signer

    def sign(self, action: str, ident: int, chat_id: int) -> str:
        return self._signer.sign(action, ident, chat_id, prefix=PREFIX)

    def verify(self, data: str, chat_id: int) -> tuple[str, int] | None:
        return self._signer.verify(data, chat_id, prefix=PREFIX)

    def button(self, text: str, action: str, ident: int, chat_id: int) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text[:64], callback_data=self.sign(action, ident, chat_id))


# ------------------------------------------------------------------------------ the draft's filters


class Composing(Filter):
    """Passes a message (not a command) of a member who has a draft.

    The step is checked by the handler under the draft's lock, not here: a button press still
    being handled may be about to move the draft to a step that waits for this very message."""

    async def __call__(self, message: Message, operator_state: StateStore) -> bool:
        user = message.from_user
        if user is None or user.is_bot or (message.text or "").startswith("/"):
            return False
        return await operator_state.get(draft_key(message.chat.id, user.id)) is not None


class HasDraft(Filter):
    async def __call__(self, message: Message, operator_state: StateStore) -> bool:
        user = message.from_user
        return user is not None and await operator_state.get(draft_key(message.chat.id, user.id)) is not None


# ------------------------------------------------------------------------------ what is shown


def kind_name(translator: Translator, kind: str) -> str:
    return t(translator, f"comms-kind-{kind}")


async def edit_text(
    bot: Bot, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None
) -> bool:
    """Edit a message in place; False when it already shows exactly this."""
    try:
        await bot.edit_message_text(text=text, chat_id=chat_id, message_id=message_id, reply_markup=markup)
    except TelegramBadRequest as error:
        if "message is not modified" in error.message.lower():
            return False
        raise
    return True


async def drop_buttons(bot: Bot, message: Message | None) -> None:
    """The pressed menu loses its buttons, so an old step cannot be pressed again by mistake."""
    if message is None:
        return
    with contextlib.suppress(TelegramBadRequest):
        await bot.edit_message_reply_markup(
            chat_id=message.chat.id, message_id=message.message_id, reply_markup=None
        )
