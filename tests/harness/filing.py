"""A report filed straight through the filing service, as integration tests start (no dialog)."""

from __future__ import annotations

from bot.app.wiring import App
from bot.services.reports.filing import ReportDraft


async def file_directly(
    app: App,
    user_id: str,
    text: str,
    *,
    key: str | None = None,
    sector: str = "housing",
    phone: str | None = None,
) -> tuple[int, int]:
    """A consenting Telegram citizen `user_id` files `text` in Ekaterinburg: (report id, citizen id)."""
    citizen = await app.services.citizens.give_consent("tg", user_id, "ru")
    filed = await app.services.reports.file(
        ReportDraft(
            intake_key=key or f"key-{user_id}-{sector}",
            platform="tg",
            citizen_id=citizen.id,
            language="ru",
            text=text,
            municipality_id="ekaterinburg",
            sector_id=sector,
            phone=phone,
        )
    )
    return filed.id, citizen.id
