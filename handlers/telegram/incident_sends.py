"""An operator's words in an incident's topic reach every reporter; above a number of reporters the
author confirms first, and above the notices' four-eyes threshold a second person must approve
(`IncidentDesk.approve_send` checks that they may act on the report, and audits it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.core.i18n import Translator
from bot.services.incidents.desk import IncidentDesk
from bot.services.reports.access import ActionRefused, Actor
from bot.services.reports.casework import Casework
from handlers.telegram.callbacks import CallbackSigner
from handlers.telegram.operator_cards import OPERATOR_LANG
from storage.state import StateStore

SEND_ACTION = "sendall"
PENDING_PREFIX = "op-send:"


@dataclass(frozen=True)
class IncidentLimits:
    """Above `confirm_above` reporters the author confirms; above `four_eyes_above` another person."""

    confirm_above: int = 50
    four_eyes_above: int = 1000


@dataclass(frozen=True)
class Held:
    """What an operator wrote, waiting for confirmation."""

    kind: str  # "answer" | "relay"
    text: str
    photos: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()
    message_id: int = 0


def _key(chat_id: int, report_id: int) -> str:
    return f"{PENDING_PREFIX}{chat_id}:{report_id}"


async def hold_if_many(
    message: Message,
    actor: Actor,
    report_id: int,
    held: Held,
    *,
    incidents: IncidentDesk | None,
    limits: IncidentLimits,
    state: StateStore,
    signer: CallbackSigner,
    nonce: str,
    translator: Translator,
) -> bool:
    """Keep `held` back and ask for confirmation when it would reach many reporters; True if held."""
    if incidents is None:
        return False
    count = await incidents.reporters_of(report_id)
    if count <= limits.confirm_above:
        return False
    payload: dict[str, Any] = {
        "kind": held.kind,
        "text": held.text,
        "photos": list(held.photos),
        "documents": list(held.documents),
        "message_id": held.message_id,
        "author_id": actor.platform_user_id,
        "author_name": actor.name,
        "count": count,
    }
    await state.set(_key(actor.chat_id, report_id), payload)
    key = "op-confirm-four-eyes" if count > limits.four_eyes_above else "op-confirm-many"
    data = signer.sign(SEND_ACTION, report_id, actor.chat_id, nonce=nonce)
    button = InlineKeyboardButton(
        text=translator.text(OPERATOR_LANG, "op-btn-send-all", {"count": count}), callback_data=data
    )
    await message.reply(
        translator.text(OPERATOR_LANG, key, {"count": count}),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]]),
    )
    return True


async def release(
    query: CallbackQuery,
    presser: Actor,
    report_id: int,
    *,
    actions: Casework,
    incidents: IncidentDesk | None,
    limits: IncidentLimits,
    state: StateStore,
    translator: Translator,
) -> None:
    """The confirmation button: send what was held, as its author's words, once."""
    key = _key(presser.chat_id, report_id)
    pending = await state.get(key)
    if not pending or incidents is None:
        raise ActionRefused("op-confirm-gone")
    count = int(pending["count"])
    author = Actor(str(pending["author_id"]), str(pending["author_name"]), presser.chat_id)
    if count > limits.four_eyes_above:
        if presser.platform_user_id == author.platform_user_id:
            raise ActionRefused("op-confirm-own")
        await incidents.approve_send(report_id, presser, count)
    elif presser.platform_user_id != author.platform_user_id:
        raise ActionRefused("op-confirm-own-only")
    # Taken off before sending: a second press (or a second worker) finds nothing to send.
    await state.delete(key)
    text = str(pending["text"])
    if pending["kind"] == "answer":
        await actions.answer(report_id, author, text)
    else:
        await actions.relay_to_citizen(
            report_id,
            author,
            text,
            tuple(pending.get("photos", ())),
            tuple(pending.get("documents", ())),
            int(pending.get("message_id", 0)),
        )
    await query.answer(translator.text(OPERATOR_LANG, "op-sent-to-all", {"count": count}))
