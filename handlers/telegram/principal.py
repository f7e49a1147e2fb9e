"""Who is behind a Telegram message or button press, as the staff registry names them."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message

from bot.services.staff.roles import Principal


def message_principal(message: Message) -> Principal | None:
    """The person who sent `message`; anonymous when it was sent on behalf of a chat (an anonymous
    group admin or a channel), which no staff command accepts. None for a message with no sender."""
    user = message.from_user
    if user is None:
        return None
    # Telegram fills from_user with a placeholder (GroupAnonymousBot, a channel) for such messages.
    anonymous = message.sender_chat is not None
    return Principal.telegram(user.id, user.full_name, anonymous=anonymous)


def query_principal(query: CallbackQuery) -> Principal:
    """The person who pressed a button (a press always names a real user)."""
    return Principal.telegram(query.from_user.id, query.from_user.full_name)
