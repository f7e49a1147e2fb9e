"""The composer's replies on Telegram: platform-neutral views → messages, edits, alerts.

Button ids "cm:<action>:<serial>" become signed callback data for this chat; a view standing for a
notice's status message is the progress reporter's to draw (`comms_progress`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.core.i18n import Translator
from bot.core.messages import View
from bot.services.catalog import Catalog
from bot.services.notices.content import Audience, NoticeStatus
from bot.services.notices.service import NoticeService
from dialogs.comms.screens import audience_lines
from dialogs.engine import Reply
from handlers.telegram.comms import CommsCallbacks, drop_buttons, edit_text, t
from handlers.telegram.comms_progress import approval_request, progress_message
from handlers.telegram.render import render
from handlers.text import view_text


@dataclass
class CommsScreen:
    """Where a reply goes: the chat, the draft's topic, the pressed message and press if any."""

    bot: Bot
    chat_id: int
    thread: int | None
    translator: Translator
    cb: CommsCallbacks
    notices: NoticeService
    catalog: Catalog

    def signed(self, markup: object) -> InlineKeyboardMarkup | None:
        if not isinstance(markup, InlineKeyboardMarkup):
            return None
        rows = []
        for row in markup.inline_keyboard:
            signed_row = []
            for key in row:
                _, action, serial = str(key.callback_data).split(":")
                data = self.cb.sign(action, int(serial), self.chat_id)
                signed_row.append(InlineKeyboardButton(text=key.text, callback_data=data))
            rows.append(signed_row)
        return InlineKeyboardMarkup(inline_keyboard=rows)

    async def show(
        self, reply: Reply, pressed: Message | None = None, query: CallbackQuery | None = None
    ) -> None:
        alerts = [v for v in reply.views if v.alert]
        if query is not None:
            text = view_text(alerts[0], reply.lang, self.translator) if alerts else None
            await query.answer(text, show_alert=bool(alerts))
        for view in reply.views:
            if not view.alert:
                await self.show_one(view, reply.lang, pressed)

    async def show_one(self, view: View, lang: str, pressed: Message | None) -> None:
        if view.notice is not None:
            await (self.redraw_status(view.notice) if view.edit else self.post_status(view.notice))
            return
        if view.edit:
            if pressed is None:
                return
            if not view.lines:
                await drop_buttons(self.bot, pressed)
                return
            markup = self.signed(render([view], lang, self.translator)[-1].markup)
            with contextlib.suppress(TelegramBadRequest):
                await edit_text(
                    self.bot, self.chat_id, pressed.message_id, view_text(view, lang, self.translator), markup
                )
            return
        if view.photo:
            await self.bot.send_photo(self.chat_id, view.photo, message_thread_id=self.thread)
        if view.lines:
            for outgoing in render([view], lang, self.translator):
                await self.bot.send_message(
                    self.chat_id,
                    outgoing.text,
                    message_thread_id=self.thread,
                    reply_markup=self.signed(outgoing.markup),
                )

    async def post_status(self, notice_id: int) -> None:
        """The approval request of a notice that waits, or the progress of one that goes out."""
        notice = await self.notices.get(notice_id)
        assert notice is not None
        markup: InlineKeyboardMarkup | None
        if notice.status == NoticeStatus.AWAITING:
            lines = audience_lines(
                Audience.from_json(notice.audience),
                self.catalog,
                lambda text: t(self.translator, text.key, text.args),
            )
            text, markup = approval_request(
                notice, lines, self.notices.threshold, self.chat_id, self.translator, self.cb
            )
        else:
            stats = await self.notices.stats(notice_id)
            text, markup = progress_message(notice, stats, self.chat_id, self.translator, self.cb)
        message = await self.bot.send_message(
            self.chat_id, text, message_thread_id=self.thread, reply_markup=markup
        )
        await self.notices.set_progress_message(notice_id, self.chat_id, message.message_id)

    async def redraw_status(self, notice_id: int) -> None:
        """A withdrawn notice's request says so, wherever it is."""
        notice = await self.notices.get(notice_id)
        if notice is None or notice.progress_chat_id is None or notice.progress_message_id is None:
            return
        stats = await self.notices.stats(notice_id)
        text, _ = progress_message(notice, stats, self.chat_id, self.translator, self.cb)
        with contextlib.suppress(TelegramBadRequest):
            await edit_text(self.bot, notice.progress_chat_id, notice.progress_message_id, text, None)
