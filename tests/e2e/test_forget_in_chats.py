"""/forget through the real aiogram code: after it, the report's card as it now stands in the
operator chat, every table and every queued payload hold none of the citizen's phone, e-mail,
name, username or messenger id (what was relayed into the topic before stays in Telegram)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.app.wiring import App
from bot.sandbox.telegram import FakeTelegramServer, FakeUser
from bot.services.chats import bind_chat
from storage.models import Base, Report, ReportThread
from tests.harness.reports import file_report
from tests.harness.telegram import deliver_all, running
from tests.harness.telegram import wire_on_clock as wire

EMAIL = "ivan.petrov@example.com"
PHONE = "+79120000001"
TEXT = (
    f"Во дворе дома по улице Малышева, 30 неделю не вывозят мусор, контейнеры переполнены. "
    f"Пишите мне на {EMAIL} или звоните 8 (912) 000-00-01."
)


def traces(user: FakeUser) -> list[str]:
    """Every form in which the citizen could still be found."""
    return [EMAIL, PHONE, PHONE[1:], "000-00-01", str(user.id), "Иван", "ivan_petrov_ekb"]


async def dump(app: App) -> str:
    lines: list[str] = []
    async with app.db.session() as session:
        for table in Base.metadata.sorted_tables:
            for row in await session.execute(select(table)):
                lines.append(f"{table.name}: {tuple(str(value) for value in row)}")
    return "\n".join(lines)


async def test_forget_leaves_no_trace_on_the_card_or_in_storage(database_url: str, app_factory: Any) -> None:
    async with FakeTelegramServer() as server:
        app: App = await app_factory(database_url)
        bot, _signer, dispatcher, worker = wire(server, app)
        body = app.services.catalog.route("housing", "ekaterinburg")
        ops = server.group(-100_830, "ЖКХ", is_forum=True)
        await bind_chat(app.db, body, ops.id, "cli")
        citizen = server.user(556_677, first_name="Иван", username="ivan_petrov_ekb")
        async with running(server, app, dispatcher, bot, worker):
            await file_report(citizen, TEXT, photos=0, phone=PHONE)
            await deliver_all(worker)
            async with app.db.session() as session:
                report = await session.scalar(select(Report))
                assert report is not None and report.phone is not None
                thread = await session.get(ReportThread, report.id)
            assert thread is not None and thread.card_message_id is not None
            card = next(m for m in ops.messages(thread.thread_id) if m.message_id == thread.card_message_id)
            assert EMAIL in (card.text or "")  # the report's own words, as filed

            await citizen.send_command("/forget")
            await citizen.replies()
            await citizen.press("🗑 Удалить")
            assert "удалены" in " ".join(m.text or "" for m in await citizen.replies())
            await deliver_all(worker)

        # The card, edited in place, now shows the masked text; nothing of the person is left.
        card = next(m for m in ops.messages(thread.thread_id) if m.message_id == thread.card_message_id)
        assert card.edits, "the card was not re-rendered"
        stored = await dump(app)
        for trace in traces(citizen):
            assert trace not in (card.text or ""), trace
            assert trace not in stored, trace
        assert "Малышева, 30" in (card.text or "")  # the problem itself stays with the body
        if app.redis is not None:
            keys = [key.decode() async for key in app.redis.scan_iter()]
            assert not [key for key in keys if str(citizen.id) in key]
