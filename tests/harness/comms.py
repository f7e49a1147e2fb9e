"""The comms team's chat in the Telegram sandbox: roles in the registry, the chat and its members,
saying and pressing until the bot's answer shows, composing a notice."""

from __future__ import annotations

import asyncio

from bot.app.wiring import App
from bot.sandbox.telegram import FakeChat, FakeTelegramServer, FakeUser, SentMessage
from bot.services.staff.roles import Principal

WATER = "24 ноября с 10:00 до 18:00 в Кировском районе не будет горячей воды: ремонт теплотрассы."


async def staff_roles(app: App) -> None:
    """Anna (700) is a ЦУР administrator, Boris (701) composes notices: roles in the registry."""
    await app.staff.add(Principal.shell(), "700", "admin")
    await app.staff.add(Principal.shell(), "701", "comms")


def comms_chat(server: FakeTelegramServer, chat_id: int = -100_900) -> tuple[FakeChat, FakeUser, FakeUser]:
    chat = server.group(chat_id, "Информирование ЦУР", is_forum=False)
    admin = server.user(700, first_name="Анна")
    member = server.user(701, first_name="Борис")
    chat.add_member(admin, "administrator")
    chat.add_member(member, "member")
    return chat, admin, member


async def settled(chat: FakeChat, start: int, expect: str) -> list[SentMessage]:
    """The bot's replies to the chat's last update once `expect` shows up in a message it sent or
    edited, or in a callback answer (a handler may reply after a database write, so waiting for a
    quiet moment alone is not enough)."""
    server = chat.server
    messages: list[SentMessage] = []
    for _ in range(50):
        messages = await chat.replies(timeout=5.0)
        answers = [
            str(c.params.get("text") or "")
            for c in server.calls[start:]
            if c.method == "answerCallbackQuery" and c.done
        ]
        if expect in joined(messages) or any(expect in answer for answer in answers):
            return messages
        await asyncio.sleep(0.1)
    raise AssertionError(f"{expect!r} never shown; got {joined(messages)!r}")


async def say(chat: FakeChat, user: FakeUser, text: str, expect: str) -> list[SentMessage]:
    start = len(chat.server.calls)
    await chat.send_text(user, text)
    return await settled(chat, start, expect)


async def press(chat: FakeChat, user: FakeUser, label: str, expect: str) -> list[SentMessage]:
    start = len(chat.server.calls)
    await chat.press(user, label)
    return await settled(chat, start, expect)


def joined(messages: list[SentMessage]) -> str:
    return "\n".join(m.text or "" for m in messages)


async def bind(chat: FakeChat, admin: FakeUser) -> None:
    await say(chat, admin, "/comms", "чат информирования")


async def compose_info(chat: FakeChat, member: FakeUser, text: str, municipality: str) -> list[SentMessage]:
    """/notice → info → text → municipalities → done; returns the preview messages."""
    await say(chat, member, "/notice", "Выберите тип")
    await press(chat, member, "ℹ️ Информация", "Напишите текст")
    await say(chat, member, text, "Кому отправить")
    await press(chat, member, "🏙 Муниципалитеты", "Напишите муниципалитеты")
    await say(chat, member, municipality, "муниципалитеты: Екатеринбург")
    return await press(chat, member, "✅ Готово", "Получателей")


def progress_message(chat: FakeChat) -> SentMessage:
    found = [m for m in chat.messages() if (m.text or "").startswith(("📣 Информирование №", "🏁", "⛔"))]
    assert found, [m.text for m in chat.messages()]
    return found[-1]


async def push_press(server: FakeTelegramServer, chat: FakeChat, user: FakeUser, data: str) -> str:
    """A raw callback query on the chat's newest bot message; returns the bot's answer text."""
    start = len(server.calls)
    raw = chat.messages()[-1].raw
    await chat.press_data(user, data, raw)
    answer = await server.wait_for(lambda c: c.method == "answerCallbackQuery", since=start)
    return str(answer.params.get("text"))
