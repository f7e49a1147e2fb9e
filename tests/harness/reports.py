"""A Telegram citizen files a report through the sandbox the long way (consent, text, an album,
location, sector, phone), as the operator-chat tests start."""

from __future__ import annotations

from bot.sandbox.telegram import FakeUser

HEATING = "В доме по улице Малышева, 30 неделю нет отопления, батареи холодные, УК не отвечает на звонки."
EKB = (56.8389, 60.6057)


async def file_report(
    user: FakeUser, text: str = HEATING, *, photos: int = 2, phone: str = "+79120000001"
) -> None:
    """The whole intake: consent, `text`, `photos` photos as an album (or none), the pin, ЖКХ, `phone`."""
    await user.send_command("/start")
    await user.replies()
    await user.press("✅ Согласен(на)")
    await user.replies()
    await user.press("📝 Сообщить о проблеме")
    await user.replies()
    await user.send_text(text)
    await user.replies()
    if photos:
        await user.send_album(photos)
        await user.replies()
        await user.press("➡️ Далее")
    else:
        await user.press("Без фото", contains=True)
    await user.replies()
    await user.tap_reply_button("📍 Отправить геопозицию", lat=EKB[0], lon=EKB[1])
    await user.replies()
    await user.press("ЖКХ", contains=True)
    await user.replies()
    await user.tap_reply_button("📱 Поделиться номером", phone=phone)
    await user.replies()
    await user.press("✅ Отправить")
    await user.replies()
