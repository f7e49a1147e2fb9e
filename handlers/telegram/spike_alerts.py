"""The spike alert's three buttons in the ЦУР operator chat: «Создать инцидент», «Уведомить жителей»,
«Игнорировать».

Callback data is signed like every operator button (`handlers.telegram.callbacks`, prefix "sp",
ident = the alert id, bound to the ЦУР chat and its binding nonce), so a copied or made-up button is
refused before anything is looked up; who may decide is checked on the server by
`SpikeWatch.decide` (ЦУР operators and admins in the staff registry; chat-admin status grants
nothing).
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, Message

from bot.core.i18n import Translator
from bot.services.incidents.spike_decisions import Decision, SignButton, SpikeRefused
from bot.services.incidents.spike_watch import SpikeWatch
from handlers.telegram.callbacks import CallbackSigner
from handlers.telegram.principal import query_principal

PREFIX = "sp"
LANG = "ru"


def spike_button_signer(signer: CallbackSigner) -> SignButton:
    """The `sign` argument of `SpikeWatch`: alert buttons signed for the ЦУР chat and its nonce."""

    def sign(action: str, alert_id: int, chat_id: int, nonce: str) -> str:
        return signer.sign(action, alert_id, chat_id, nonce=nonce, prefix=PREFIX)

    return sign


def spike_alerts_router() -> Router:
    """Handlers for the spike alert buttons (needs `spike_watch`, `signer`, `translator` injected)."""
    router = Router(name="spike_alerts")

    @router.callback_query(F.data.startswith(f"{PREFIX}:"))
    async def on_press(
        query: CallbackQuery,
        bot: Bot,
        spike_watch: SpikeWatch,
        signer: CallbackSigner,
        translator: Translator,
    ) -> None:
        async def alert(key: str) -> None:
            await query.answer(translator.text(LANG, key), show_alert=True)

        message = query.message
        if not isinstance(message, Message):
            await alert("spike-forged")
            return
        chat_id = message.chat.id
        nonce = await spike_watch.chat_nonce(chat_id)
        press = (
            signer.check(query.data or "", chat_id, nonce=nonce, prefix=PREFIX) if nonce is not None else None
        )
        if press is None or press.action not in {d.value for d in Decision}:
            await alert("spike-forged")
            return
        if press.expired:
            await alert("spike-expired")
            return
        who = query_principal(query)
        try:
            done = await spike_watch.decide(press.ident, who, Decision(press.action), chat_id=chat_id)
        except SpikeRefused as refused:
            await alert(refused.reason)
            return
        args = {"incident": done.incident_id or 0}
        await query.answer(translator.text(LANG, f"spike-done-{done.state}", args))
        await message.edit_reply_markup(reply_markup=None)
        note = translator.text(
            LANG, "spike-decided-note", {"decision": done.state, "by": who.name or who.label, **args}
        )
        await bot.send_message(chat_id, note, reply_to_message_id=message.message_id)

    return router
