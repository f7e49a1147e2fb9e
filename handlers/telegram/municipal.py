"""`/municipality [ID]` in a private chat: a municipal centre (МЦУ) lists its municipality's open
reports. The right is checked by `MunicipalCentre` (the staff registry), not here."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.core.i18n import Translator, pick_language
from bot.services.catalog import Catalog
from bot.services.staff.municipal_centre import MunicipalCentre
from bot.services.staff.roles import NotAllowed
from handlers.telegram.principal import message_principal
from handlers.text import split_text


def municipal_router() -> Router:
    """The municipal centre's reading command."""
    router = Router(name="municipal")
    router.message.filter(F.chat.type == "private")

    @router.message(Command("municipality"))
    async def municipality(
        message: Message,
        command: CommandObject,
        municipal: MunicipalCentre,
        catalog: Catalog,
        translator: Translator,
    ) -> None:
        who = message_principal(message)
        if who is None:
            return
        lang = pick_language(message.from_user.language_code if message.from_user else None)
        wanted = (command.args or "").strip()
        if not wanted:
            mine = await municipal.municipalities_of(who)
            if len(mine) != 1:
                await message.answer(translator.text(lang, "mcu-usage"))
                return
            wanted = mine[0]
        try:
            lines = await municipal.open_reports(who, wanted, chat_id=message.chat.id)
        except NotAllowed as refused:
            await message.answer(translator.text(lang, refused.reason))
            return
        name = catalog.municipality_name(wanted) or wanted
        rows = [translator.text(lang, "mcu-head", {"municipality": name, "count": len(lines)})]
        for line in lines:
            rows.append(
                translator.text(
                    lang,
                    "mcu-line",
                    {
                        "number": line.number,
                        "sector": catalog.sector(line.sector_id).name(lang),
                        "status": translator.text(lang, f"status-{line.status}"),
                        "due": line.answer_due.strftime("%d.%m.%Y"),
                        "address": line.address or "—",
                        "text": line.text[:160],
                    },
                )
            )
        for part in split_text("\n\n".join(rows), 4096):
            await message.answer(part)

    return router
