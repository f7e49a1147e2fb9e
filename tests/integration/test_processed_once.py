"""An update processed twice (the process died before marking it done) is applied and answered once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.app.wiring import App
from bot.core.messages import InboundKind
from storage.models import OutboxMessage, Report
from tests.harness.chat import Chat
from tests.harness.reports import HEATING

EKB = (56.8389, 60.6057)


async def replies_to(app: App, key: str) -> int:
    async with app.db.session() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.idempotency_key == f"reply:{key}")
        )
    return int(count or 0)


async def reports(app: App) -> int:
    async with app.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Report)) or 0)


async def reporting(app: App) -> Chat:
    """A citizen who consented and started a report."""
    chat = Chat(app)
    await chat.consent()
    await chat.say("/report")
    return chat


async def test_a_text_processed_again_is_not_applied_to_the_next_step(
    database_url: str, app_factory: Any
) -> None:
    app: App = await app_factory(database_url)
    chat = await reporting(app)
    first = await chat.inbound(kind=InboundKind.TEXT, text=HEATING, key="tg:501")
    assert "фото" in chat.text().lower()
    step = (await app.services.state.get("tg:1001") or {}).get("step")
    # Done, state stored, then killed before the queue heard: the same update comes again.
    again = await chat.inbound(kind=InboundKind.TEXT, text=HEATING, key="tg:501")
    assert again == [] and first
    assert (await app.services.state.get("tg:1001") or {}).get("step") == step
    assert await replies_to(app, "tg:501") == 1


async def test_a_confirmation_redone_before_its_state_was_stored_files_one_report(
    database_url: str, app_factory: Any
) -> None:
    app: App = await app_factory(database_url)
    chat = await reporting(app)
    await chat.say(HEATING)
    await chat.press("Без фото")
    await chat.location(*EKB)
    await chat.press("Все темы")
    await chat.press("ЖКХ")
    await chat.press("Пропустить")
    send = next(i for s in chat.last for label, i in s.button_ids.items() if "Отправить" in label)
    draft = await app.services.state.get("tg:1001")
    assert draft is not None

    await chat.inbound(kind=InboundKind.BUTTON, button=send, key="tg:777")
    assert "принято" in chat.text()
    # Killed after filing and queueing the answer but before the dialog's state was stored.
    await app.services.state.set("tg:1001", draft)
    await chat.inbound(kind=InboundKind.BUTTON, button=send, key="tg:777")
    assert await reports(app) == 1
    assert await replies_to(app, "tg:777") == 1
