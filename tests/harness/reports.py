"""A Telegram citizen files a report through the sandbox the long way (consent, text, an album,
location, sector, phone), as the operator-chat tests start."""

from __future__ import annotations

import asyncio

from bot.sandbox.telegram import FakeUser

# Answers come from the outbox a moment after an update is handled: wait for a button, bounded.
BUTTON_WAIT = 15.0


async def shown(user: FakeUser, label: str) -> None:
    """Wait until the bot shows `label` (an inline button of its newest message, or the keyboard)."""
    await shown_any(user, label)


async def shown_any(user: FakeUser, *labels: str) -> None:
    """Wait until the bot shows one of `labels` (inline buttons of its newest message, or the keyboard)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BUTTON_WAIT
    while not any(label in b for b in user.inline_buttons() + user.reply_buttons() for label in labels):
        if loop.time() > deadline:
            raise AssertionError(f"the bot never showed {labels!r} to {user.chat_id}")
        await asyncio.sleep(0.02)


HEATING = "В доме по улице Малышева, 30 неделю нет отопления, батареи холодные, УК не отвечает на звонки."
EKB = (56.8389, 60.6057)


async def file_report(
    user: FakeUser, text: str = HEATING, *, photos: int = 2, phone: str = "+79120000001"
) -> None:
    """The whole intake: consent, `text`, `photos` photos as an album (or none), the pin, ЖКХ, `phone`."""
    await user.send_command("/start")
    await user.replies()
    await shown(user, "✅ Согласен(на)")
    await user.press("✅ Согласен(на)")
    await user.replies()
    await shown(user, "📝 Сообщить о проблеме")
    await user.press("📝 Сообщить о проблеме")
    await user.replies()
    await user.send_text(text)
    await user.replies()
    if photos:
        await user.send_album(photos)
        await user.replies()
        await shown(user, "➡️ Далее")
        await user.press("➡️ Далее")
    else:
        await shown(user, "Без фото")
        await user.press("Без фото", contains=True)
    await user.replies()
    await shown(user, "📍 Отправить геопозицию")
    await user.tap_reply_button("📍 Отправить геопозицию", lat=EKB[0], lon=EKB[1])
    await user.replies()
    await shown(user, "ЖКХ")
    await user.press("ЖКХ", contains=True)
    await user.replies()
    await shown_any(user, "📱 Поделиться номером", "Нет, другое")
    if any("Нет, другое" in b for b in user.inline_buttons()):
        # The same problem was reported nearby before: this one is filed apart all the same.
        await user.press("Нет, другое", contains=True)
        await user.replies()
    await shown(user, "📱 Поделиться номером")
    await user.tap_reply_button("📱 Поделиться номером", phone=phone)
    await user.replies()
    await shown(user, "✅ Отправить")
    await user.press("✅ Отправить")
    await user.replies()
