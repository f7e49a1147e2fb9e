"""Who may configure a group: its administrators (binding a body's or the comms team's chat)."""

from __future__ import annotations

from aiogram import Bot
from aiogram.enums import ChatMemberStatus
from aiogram.types import Message


async def sent_by_admin(bot: Bot, message: Message) -> bool:
    """True when the message's author administers the chat it was sent in."""
    if message.from_user is None:
        return False
    member = await bot.get_chat_member(message.chat.id, message.from_user.id)
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.CREATOR)
