"""`/incident <sector> <municipality> <title>`: ЦУР staff open an incident before anyone reports it
(an outage they already know of). Its card and topic appear in the responsible body's chat, and
the reports that come in are offered to join it or merged into it from their cards.

Who may: staff holding `Right.OPERATE` for the `tsur` body (ЦУР operators, admins), checked by
`IncidentDesk.open_manual` on the server; an anonymous sender is refused by the staff router.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.core.i18n import Translator
from bot.services.catalog import Catalog
from bot.services.incidents.desk import IncidentDesk
from bot.services.reports.access import ActionRefused
from handlers.telegram.principal import message_principal
from handlers.telegram.staff_commands import language

MAX_TITLE_CHARS = 200
ANYWHERE = "-"


def incident_router() -> Router:
    """The manual incident command; include it before the citizen router."""
    router = Router(name="incidents")

    @router.message(Command("incident"))
    async def open_incident(
        message: Message,
        command: CommandObject,
        catalog: Catalog,
        translator: Translator,
        incidents: IncidentDesk | None = None,
    ) -> None:
        lang = language(message)
        who = message_principal(message)
        parts = (command.args or "").split(maxsplit=2)
        if who is None or incidents is None:
            return
        if len(parts) < 3:
            await message.reply(translator.text(lang, "incident-usage"))
            return
        sector, place, title = parts
        municipality = None if place == ANYWHERE else place
        if municipality is not None and catalog.municipalities.get(municipality) is None:
            await message.reply(translator.text(lang, "incident-unknown-municipality"))
            return
        try:
            filed = await incidents.open_manual(
                who,
                sector_id=sector,
                municipality_id=municipality,
                title=title[:MAX_TITLE_CHARS],
                address=title,
            )
        except ActionRefused as refused:
            await message.reply(translator.text(lang, refused.reason))
            return
        body = catalog.body(filed.body_id).name(lang)
        await message.reply(translator.text(lang, "incident-opened", {"number": filed.number, "body": body}))

    return router
