"""The comms team's chat: the vocabulary its handlers share (signed buttons, the draft, what is shown).

A group becomes a comms chat when a ЦУР administrator sends `/comms` there
(`handlers.telegram.binding`; `/comms off` undoes it). There, a member holding the `comms` role
starts a draft with `/notice` (`comms_router`), kept per (chat, member) in the state store under
"comms:<chat>:<member>": kind → text (a fact-check: claim, facts, source; a photo with a caption is
text and photo) → audience (combinable filters) → a preview rendered exactly as a citizen receives
it, with the number of recipients → send (`comms_compose`). Being a member of the chat grants
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
member's draft is refused) or a notice id (progress and approval buttons). The bot must be an
administrator of the chat (or have privacy mode off) to read the texts members type.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Filter
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.core.i18n import Args, Translator
from bot.core.messages import Text
from bot.services.catalog import Catalog
from bot.services.notices.content import Audience
from dialogs.comms.draft import KINDS, PLATFORMS, Draft, draft_key
from handlers.telegram.callbacks import CallbackSigner
from storage.state import StateStore

LANG = "ru"  # the comms team works in Russian
PREFIX = "cm"
GROUP_TYPES = {"group", "supergroup"}


def t(translator: Translator, key: str, args: Args | None = None) -> str:
    return translator.text(LANG, key, args)


def lines(translator: Translator, texts: tuple[Text, ...]) -> str:
    """Platform-neutral lines (from `dialogs.comms`) as one message."""
    return "\n".join(t(translator, text.key, text.args) for text in texts)


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


def kind_markup(
    cb: CommsCallbacks, translator: Translator, draft: Draft, chat_id: int
) -> InlineKeyboardMarkup:
    rows = [[cb.button(kind_name(translator, kind), f"k-{kind}", draft.serial, chat_id)] for kind in KINDS]
    rows.append([cb.button(t(translator, "comms-btn-cancel"), "x", draft.serial, chat_id)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def audience_lines(audience: Audience, catalog: Catalog, translator: Translator) -> list[str]:
    lines: list[str] = []
    if audience.everyone:
        lines.append(t(translator, "comms-aud-everyone"))
    if audience.municipalities:
        names = [catalog.municipality_name(m) or m for m in audience.municipalities]
        lines.append(t(translator, "comms-aud-municipalities", {"list": ", ".join(names)}))
    if audience.sectors:
        names = [catalog.sector(s).name(LANG) if s in catalog.sectors else s for s in audience.sectors]
        lines.append(t(translator, "comms-aud-sectors", {"list": ", ".join(names)}))
    if audience.reports:
        lines.append(t(translator, "comms-aud-reports", {"list": ", ".join(audience.reports)}))
    if audience.platforms:
        names = [t(translator, f"comms-platform-{p}") for p in audience.platforms]
        lines.append(t(translator, "comms-aud-platforms", {"list": ", ".join(names)}))
    return lines


def audience_text(audience: Audience, catalog: Catalog, translator: Translator) -> str:
    lines = audience_lines(audience, catalog, translator) or [t(translator, "comms-audience-nothing")]
    return t(translator, "comms-audience", {"chosen": "\n".join(lines)})


def fixed_markup(
    cb: CommsCallbacks,
    translator: Translator,
    draft: Draft,
    chat_id: int,
    layout: list[list[tuple[str, str]]],
) -> InlineKeyboardMarkup:
    """A keyboard of (text key, action) rows, every button signed for this draft and chat."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [cb.button(t(translator, key), action, draft.serial, chat_id) for key, action in row]
            for row in layout
        ]
    )


AUDIENCE_LAYOUT = [
    [("comms-btn-everyone", "a-all"), ("comms-btn-municipalities", "a-mun")],
    [("comms-btn-sectors", "a-sec"), ("comms-btn-platforms", "a-plat")],
    [("comms-btn-reports", "a-rep"), ("comms-btn-clear", "a-clr")],
    [("comms-btn-done", "a-done"), ("comms-btn-cancel", "x")],
]
PREVIEW_LAYOUT = [
    [("comms-btn-send", "ok")],
    [("comms-btn-edit", "ed"), ("comms-btn-cancel", "x")],
]
# While the notice waits for a second person's approval its composer may still edit or withdraw it.
AWAITING_LAYOUT = [
    [("comms-btn-edit", "ed"), ("comms-btn-cancel", "x")],
]
EDIT_LAYOUT = [
    [("comms-btn-edit-text", "e-txt"), ("comms-btn-edit-audience", "e-aud")],
    [("comms-btn-back", "pv-back")],
]


def mark(chosen: bool, text: str) -> str:
    return f"✓ {text}" if chosen else text


def sectors_markup(
    cb: CommsCallbacks, translator: Translator, catalog: Catalog, draft: Draft, chat_id: int
) -> InlineKeyboardMarkup:
    chosen = set(draft.get_audience().sectors)
    buttons = [
        cb.button(mark(sector.id in chosen, sector.name(LANG)), f"s-{sector.id}", draft.serial, chat_id)
        for sector in catalog.sectors.values()
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([cb.button(t(translator, "comms-btn-back"), "a-back", draft.serial, chat_id)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def platforms_markup(
    cb: CommsCallbacks, translator: Translator, draft: Draft, chat_id: int
) -> InlineKeyboardMarkup:
    chosen = set(draft.get_audience().platforms)
    row = [
        cb.button(mark(p in chosen, t(translator, f"comms-platform-{p}")), f"p-{p}", draft.serial, chat_id)
        for p in PLATFORMS
    ]
    back = [cb.button(t(translator, "comms-btn-back"), "a-back", draft.serial, chat_id)]
    return InlineKeyboardMarkup(inline_keyboard=[row, back])


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


@dataclass
class Screen:
    """Where and with what a handler answers: the chat, the draft's topic, and the helpers."""

    bot: Bot
    chat_id: int
    thread: int | None
    translator: Translator
    cb: CommsCallbacks

    async def send(self, text: str, markup: InlineKeyboardMarkup | None = None) -> Message:
        return await self.bot.send_message(
            self.chat_id, text, message_thread_id=self.thread, reply_markup=markup
        )

    async def say(self, key: str, args: Args | None = None) -> Message:
        return await self.send(t(self.translator, key, args))
