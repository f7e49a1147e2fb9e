"""A municipal centre reads its municipality's open reports from a private chat with the bot; a
citizen typing the same command gets a refusal and no list, and nobody sees a phone."""

from __future__ import annotations

from typing import Any

from bot.app.wiring import App
from bot.sandbox.telegram import FakeTelegramServer, FakeUser
from bot.services.staff.roles import Principal
from tests.harness.reports import HEATING, file_report
from tests.harness.telegram import deliver_all, running, wire


async def tell_bot(user: FakeUser, text: str) -> str:
    await user.send_text(text)
    return "\n".join(m.text or "" for m in await user.replies())


async def test_the_municipal_centre_lists_its_reports(database_url: str, app_factory: Any) -> None:
    async with FakeTelegramServer() as server:
        app: App = await app_factory(database_url)
        bot, _signer, dispatcher, worker = wire(server, app)
        await app.staff.add(Principal.shell(), "830", "mcu", "ekaterinburg", name="МЦУ Екатеринбурга")
        mcu, citizen, curious = server.user(830), server.user(531), server.user(532)
        async with running(server, app, dispatcher, bot, worker):
            await file_report(citizen)
            await deliver_all(worker)

            listing = await tell_bot(mcu, "/municipality")
            assert "Екатеринбург: открытых обращений — 1" in listing
            assert HEATING[:40] in listing and "+79120000001" not in listing
            assert "нет на это права" in await tell_bot(mcu, "/municipality nizhny-tagil")

            refused = await tell_bot(curious, "/municipality ekaterinburg")
            assert "нет на это права" in refused and HEATING[:40] not in refused
