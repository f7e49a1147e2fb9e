"""The comms team's chat: members compose notices to citizens, preview them, send, and watch them go out.

A group becomes a comms chat when a ЦУР administrator sends `/comms` there
(`handlers.telegram.binding`; `/comms off` undoes it). There, `/notice` starts a draft kept per
(chat, member) in the state store under "comms:<chat>:<member>": kind → text (a fact-check: claim,
facts, source; a photo with a caption is text and photo) → audience (combinable filters) → a
preview rendered exactly as a citizen receives it, with the number of recipients → send.
`/cancel` drops the draft.

Once sent, one message in the chat shows the notice's progress; `NoticeProgress` edits it a few
times a minute, and its buttons pause, resume or cancel the notice. The deliveries themselves are
the outbox workers' job: nothing here sends to citizens.

Buttons carry "cm:<action>:<id>:<tag>", the tag being the operator `CallbackSigner`'s HMAC over
("cm." + action, id, chat): a button copied to another chat or made up is refused before anything
is looked up, and a comms button can never pass for an operator one or the other way round. The id
is a draft's random serial (so a button of an older or another member's draft is refused) or a
notice id (progress buttons). The bot must be an administrator of the chat (or have privacy mode
off) to read the texts members type.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import math
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramRetryAfter
from aiogram.filters import Command, Filter
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy import select

from bot.catalog import Catalog
from bot.chats import is_comms_chat
from bot.i18n import Args, Translator
from bot.notices import (
    TEXT_LIMIT,
    Audience,
    NoticeDraft,
    NoticeKind,
    NoticeService,
    NoticeStats,
    NoticeStatus,
    notice_views,
)
from handlers.telegram.operator import CallbackSigner
from handlers.telegram.render import render
from storage.db import Database
from storage.models import Report
from storage.state import StateStore

log = logging.getLogger(__name__)

LANG = "ru"  # the comms team works in Russian
PREFIX = "cm"
SOURCE_LIMIT = 500
KINDS = tuple(NoticeKind)
PLATFORMS = ("tg", "vk")
GROUP_TYPES = {"group", "supergroup"}

# Draft steps. The ones in TEXT_STEPS wait for the member's next message.
KIND, CLAIM, TEXT, SOURCE, AUDIENCE, MUNICIPALITIES, REPORTS, PREVIEW = (
    "kind",
    "claim",
    "text",
    "source",
    "audience",
    "municipalities",
    "reports",
    "preview",
)
TEXT_STEPS = frozenset({CLAIM, TEXT, SOURCE, MUNICIPALITIES, REPORTS})
AUDIENCE_STEPS = frozenset({AUDIENCE, MUNICIPALITIES, REPORTS})
REPORT_NUMBER = re.compile(r"^(\d{2})-(\d{1,12})$")


def t(translator: Translator, key: str, args: Args | None = None) -> str:
    return translator.text(LANG, key, args)


# ------------------------------------------------------------------------------ callback data


class CommsCallbacks:
    """Signs and checks comms buttons with the operator chats' key, in a namespace of their own."""

    def __init__(self, signer: CallbackSigner) -> None:
        self._signer = signer

    def sign(self, action: str, ident: int, chat_id: int) -> str:
        signed = self._signer.sign(f"{PREFIX}.{action}", ident, chat_id)  # "op:cm.<action>:<id>:<tag>"
        _, _, ident_part, tag = signed.split(":")
        return f"{PREFIX}:{action}:{ident_part}:{tag}"

    def verify(self, data: str, chat_id: int) -> tuple[str, int] | None:
        parts = data.split(":")
        if len(parts) != 4 or parts[0] != PREFIX or not parts[2].isdigit() or len(parts[2]) > 12:
            return None
        action, ident = parts[1], int(parts[2])
        return (action, ident) if hmac.compare_digest(self.sign(action, ident, chat_id), data) else None

    def button(self, text: str, action: str, ident: int, chat_id: int) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text[:64], callback_data=self.sign(action, ident, chat_id))


# ------------------------------------------------------------------------------ the draft


@dataclass
class Draft:
    """One member's notice in the making, as kept in the state store."""

    serial: int
    step: str
    thread: int | None = None
    kind: str | None = None
    text: str | None = None
    claim: str | None = None
    source: str | None = None
    photo: str | None = None
    audience: dict[str, Any] = field(default_factory=lambda: Audience().to_json())
    # Set once the notice row exists, so a repeated "send" confirms that one instead of a new one.
    notice_id: int | None = None

    @classmethod
    def new(cls, thread: int | None) -> Draft:
        return cls(serial=secrets.randbelow(999_999_999) + 1, step=KIND, thread=thread)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Draft:
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def get_audience(self) -> Audience:
        return Audience.from_json(self.audience)

    def set_audience(self, audience: Audience) -> None:
        self.audience = audience.to_json()


def draft_key(chat_id: int, user_id: int) -> str:
    return f"comms:{chat_id}:{user_id}"


class Composing(Filter):
    """Passes a message (not a command) of a member who has a draft.

    The step is checked by the handler under the draft's lock, not here: a button press still
    being handled may be about to move the draft to a step that waits for this very message."""

    async def __call__(self, message: Message, operator_state: StateStore) -> bool:
        user = message.from_user
        if user is None or user.is_bot or (message.text or "").startswith("/"):
            return False
        return await operator_state.get(draft_key(message.chat.id, user.id)) is not None


class HasDraft(Filter):
    async def __call__(self, message: Message, operator_state: StateStore) -> bool:
        user = message.from_user
        return user is not None and await operator_state.get(draft_key(message.chat.id, user.id)) is not None


# ------------------------------------------------------------------------------ what is shown


def kind_name(translator: Translator, kind: str) -> str:
    return t(translator, f"comms-kind-{kind}")


def kind_markup(
    cb: CommsCallbacks, translator: Translator, draft: Draft, chat_id: int
) -> InlineKeyboardMarkup:
    rows = [[cb.button(kind_name(translator, kind), f"k-{kind}", draft.serial, chat_id)] for kind in KINDS]
    rows.append([cb.button(t(translator, "comms-btn-cancel"), "x", draft.serial, chat_id)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def audience_lines(audience: Audience, catalog: Catalog, translator: Translator) -> list[str]:
    lines: list[str] = []
    if audience.everyone:
        lines.append(t(translator, "comms-aud-everyone"))
    if audience.municipalities:
        names = [catalog.municipality_name(m) or m for m in audience.municipalities]
        lines.append(t(translator, "comms-aud-municipalities", {"list": ", ".join(names)}))
    if audience.sectors:
        names = [catalog.sector(s).name(LANG) if s in catalog.sectors else s for s in audience.sectors]
        lines.append(t(translator, "comms-aud-sectors", {"list": ", ".join(names)}))
    if audience.reports:
        lines.append(t(translator, "comms-aud-reports", {"list": ", ".join(audience.reports)}))
    if audience.platforms:
        names = [t(translator, f"comms-platform-{p}") for p in audience.platforms]
        lines.append(t(translator, "comms-aud-platforms", {"list": ", ".join(names)}))
    return lines


def audience_text(audience: Audience, catalog: Catalog, translator: Translator) -> str:
    lines = audience_lines(audience, catalog, translator) or [t(translator, "comms-audience-nothing")]
    return t(translator, "comms-audience", {"chosen": "\n".join(lines)})


def fixed_markup(
    cb: CommsCallbacks,
    translator: Translator,
    draft: Draft,
    chat_id: int,
    layout: list[list[tuple[str, str]]],
) -> InlineKeyboardMarkup:
    """A keyboard of (text key, action) rows, every button signed for this draft and chat."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [cb.button(t(translator, key), action, draft.serial, chat_id) for key, action in row]
            for row in layout
        ]
    )


AUDIENCE_LAYOUT = [
    [("comms-btn-everyone", "a-all"), ("comms-btn-municipalities", "a-mun")],
    [("comms-btn-sectors", "a-sec"), ("comms-btn-platforms", "a-plat")],
    [("comms-btn-reports", "a-rep"), ("comms-btn-clear", "a-clr")],
    [("comms-btn-done", "a-done"), ("comms-btn-cancel", "x")],
]
PREVIEW_LAYOUT = [
    [("comms-btn-send", "ok")],
    [("comms-btn-edit", "ed"), ("comms-btn-cancel", "x")],
]
EDIT_LAYOUT = [
    [("comms-btn-edit-text", "e-txt"), ("comms-btn-edit-audience", "e-aud")],
    [("comms-btn-back", "pv-back")],
]


def mark(chosen: bool, text: str) -> str:
    return f"✓ {text}" if chosen else text


def sectors_markup(
    cb: CommsCallbacks, translator: Translator, catalog: Catalog, draft: Draft, chat_id: int
) -> InlineKeyboardMarkup:
    chosen = set(draft.get_audience().sectors)
    buttons = [
        cb.button(mark(sector.id in chosen, sector.name(LANG)), f"s-{sector.id}", draft.serial, chat_id)
        for sector in catalog.sectors.values()
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([cb.button(t(translator, "comms-btn-back"), "a-back", draft.serial, chat_id)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def platforms_markup(
    cb: CommsCallbacks, translator: Translator, draft: Draft, chat_id: int
) -> InlineKeyboardMarkup:
    chosen = set(draft.get_audience().platforms)
    row = [
        cb.button(mark(p in chosen, t(translator, f"comms-platform-{p}")), f"p-{p}", draft.serial, chat_id)
        for p in PLATFORMS
    ]
    back = [cb.button(t(translator, "comms-btn-back"), "a-back", draft.serial, chat_id)]
    return InlineKeyboardMarkup(inline_keyboard=[row, back])


def eta_text(translator: Translator, seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return t(translator, "comms-eta-unknown")
    if seconds < 90:
        return t(translator, "comms-eta-seconds", {"n": max(1, math.ceil(seconds))})
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return t(translator, "comms-eta-minutes", {"n": minutes})
    return t(translator, "comms-eta-hours", {"h": minutes // 60, "m": minutes % 60})


def rate_text(rate: float) -> str:
    return f"{rate:.0f}" if rate >= 10 else f"{rate:.1f}"


def progress_message(
    kind: str, stats: NoticeStats, chat_id: int, translator: Translator, cb: CommsCallbacks
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The progress message of a notice: live figures with its buttons, or the final totals."""
    args: dict[str, str | int | float] = {
        "id": stats.notice_id,
        "kind": kind_name(translator, kind),
        "total": stats.total,
        "sent": stats.sent,
        "failed": stats.failed,
        "unreachable": stats.unreachable,
        "waiting": stats.waiting,
        "paused": stats.paused,
        "cancelled": stats.cancelled,
    }
    if stats.status == NoticeStatus.DONE:
        return t(translator, "comms-progress-done", args), None
    if stats.status == NoticeStatus.CANCELLED:
        return t(translator, "comms-progress-cancelled", args), None
    paused = stats.status == NoticeStatus.PAUSED
    args["status"] = t(translator, "comms-status-paused" if paused else "comms-status-sending")
    args["rate"] = rate_text(stats.rate_per_minute)
    args["eta"] = eta_text(translator, None if paused else stats.eta_seconds)
    nid = stats.notice_id
    first = (
        cb.button(t(translator, "comms-btn-resume"), "n-resume", nid, chat_id)
        if paused
        else cb.button(t(translator, "comms-btn-pause"), "n-pause", nid, chat_id)
    )
    stop = cb.button(t(translator, "comms-btn-stop"), "n-stop", nid, chat_id)
    return t(translator, "comms-progress", args), InlineKeyboardMarkup(inline_keyboard=[[first, stop]])


async def edit_text(
    bot: Bot, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None
) -> bool:
    """Edit a message in place; False when it already shows exactly this."""
    try:
        await bot.edit_message_text(text=text, chat_id=chat_id, message_id=message_id, reply_markup=markup)
    except TelegramBadRequest as error:
        if "message is not modified" in error.message.lower():
            return False
        raise
    return True


async def drop_buttons(bot: Bot, message: Message | None) -> None:
    """The pressed menu loses its buttons, so an old step cannot be pressed again by mistake."""
    if message is None:
        return
    with contextlib.suppress(TelegramBadRequest):
        await bot.edit_message_reply_markup(
            chat_id=message.chat.id, message_id=message.message_id, reply_markup=None
        )


# ------------------------------------------------------------------------------ progress


class NoticeProgress:
    """Keeps the progress message of every notice that is going out up to date.

    `tick` edits each active notice's message (skipping ones whose text did not change) and gives
    a notice that finished, or was cancelled, its final totals without buttons. `run` ticks every
    `interval` seconds until `stop` is set.
    """

    def __init__(
        self,
        bot: Bot,
        notices: NoticeService,
        translator: Translator,
        signer: CallbackSigner | None = None,
    ) -> None:
        if signer is None:
            # The key the dispatcher signs with; imported here because setup.py imports this module.
            from handlers.telegram.setup import callback_signer

            signer = callback_signer(bot.token)
        self._bot = bot
        self._notices = notices
        self._translator = translator
        self._cb = CommsCallbacks(signer)
        # Notices shown as still going out: one that leaves `active()` (cancelled from the CLI,
        # finished) gets its final edit on the next tick.
        self._watching: set[int] = set()
        self._shown: dict[int, str] = {}
        # Notices whose message cannot be edited any more (deleted, the bot left): not retried.
        self._broken: set[int] = set()

    async def tick(self) -> int:
        """One round of edits; returns how many messages were edited."""
        edited = 0
        for notice_id in sorted((set(await self._notices.active()) | self._watching) - self._broken):
            try:
                if await self.refresh(notice_id):
                    edited += 1
            except TelegramRetryAfter as error:
                log.warning("notice progress: Telegram asks to wait %s s", error.retry_after)
                break
            except TelegramAPIError as error:
                # The message was deleted or the bot left the chat: the notice goes on without it.
                log.warning("notice %s: progress message not updated: %s", notice_id, error)
                self._watching.discard(notice_id)
                self._broken.add(notice_id)
        return edited

    async def refresh(self, notice_id: int, *, force: bool = False) -> bool:
        """Bring one notice's progress message up to date; True when it was edited."""
        notice = await self._notices.get(notice_id)
        if notice is not None and notice.status == NoticeStatus.SENDING:
            # Notices planned from the CLI have no progress message but must still end as done.
            await self._notices.finish_if_done(notice_id)
        if notice is None or notice.progress_chat_id is None or notice.progress_message_id is None:
            self._watching.discard(notice_id)
            return False
        stats = await self._notices.stats(notice_id)
        text, markup = progress_message(
            notice.kind, stats, notice.progress_chat_id, self._translator, self._cb
        )
        final = markup is None
        if final:
            self._watching.discard(notice_id)
        else:
            self._watching.add(notice_id)
        if not force and self._shown.get(notice_id) == text:
            return False
        edited = await edit_text(self._bot, notice.progress_chat_id, notice.progress_message_id, text, markup)
        if final:
            self._shown.pop(notice_id, None)
        else:
            self._shown[notice_id] = text
        return edited

    async def run(self, stop: asyncio.Event, interval: float = 15.0) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("notice progress tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)


# ------------------------------------------------------------------------------ input parsing


def resolve_municipalities(text: str, catalog: Catalog, translator: Translator) -> tuple[list[str], str]:
    """Municipality ids for a typed list of names or ids, or ([], the problems to show)."""
    directory = catalog.municipalities
    found: list[str] = []
    unknown: list[str] = []
    problems: list[str] = []
    for piece in re.split(r"[,;\n]+", text):
        piece = piece.strip().strip(".")
        if not piece:
            continue
        direct = directory.get(piece) or directory.get(piece.lower())
        match = directory.by_text(piece)
        if direct is not None:
            chosen = direct.id
        elif match.best is not None:
            chosen = match.best.id
        elif match.candidates:
            options = ", ".join(c.name for c in match.candidates[:5])
            problems.append(
                t(translator, "comms-municipalities-ambiguous", {"text": piece, "options": options})
            )
            continue
        else:
            unknown.append(piece)
            continue
        if chosen not in found:
            found.append(chosen)
    if unknown:
        problems.insert(0, t(translator, "comms-municipalities-unknown", {"list": ", ".join(unknown)}))
    if problems or not found:
        problems.append(t(translator, "comms-send-again"))
        return [], "\n".join(problems)
    return found, ""


async def resolve_reports(text: str, db: Database, translator: Translator) -> tuple[list[str], str]:
    """Report numbers ("26-000042", "26-42" or "№26-42"), each checked to exist."""
    numbers: list[str] = []
    bad: list[str] = []
    for token in re.split(r"[\s,;]+", text):
        token = token.strip().lstrip("№#")
        if not token:
            continue
        match = REPORT_NUMBER.match(token)
        if match is None:
            bad.append(token)
            continue
        number = f"{match.group(1)}-{int(match.group(2)):06d}"
        if number not in numbers:
            numbers.append(number)
    if numbers:
        async with db.session() as session:
            known = set(await session.scalars(select(Report.number).where(Report.number.in_(numbers))))
        bad += [number for number in numbers if number not in known]
    if bad or not numbers:
        problem = t(translator, "comms-reports-unknown", {"list": ", ".join(bad) or "—"})
        return [], f"{problem}\n{t(translator, 'comms-send-again')}"
    return numbers, ""


# ------------------------------------------------------------------------------ the router


@dataclass
class Screen:
    """Where and with what a handler answers: the chat, the draft's topic, and the helpers."""

    bot: Bot
    chat_id: int
    thread: int | None
    translator: Translator
    cb: CommsCallbacks

    async def send(self, text: str, markup: InlineKeyboardMarkup | None = None) -> Message:
        return await self.bot.send_message(
            self.chat_id, text, message_thread_id=self.thread, reply_markup=markup
        )

    async def say(self, key: str, args: Args | None = None) -> Message:
        return await self.send(t(self.translator, key, args))


async def show_audience(screen: Screen, draft: Draft, catalog: Catalog) -> None:
    await screen.send(
        audience_text(draft.get_audience(), catalog, screen.translator),
        fixed_markup(screen.cb, screen.translator, draft, screen.chat_id, AUDIENCE_LAYOUT),
    )


async def send_citizen_view(screen: Screen, draft: Draft, lang: str) -> None:
    """The notice's text as citizens reading the bot in `lang` get it, with their buttons inert."""
    assert draft.kind is not None and draft.text is not None
    views = notice_views(draft.kind, draft.text, draft.claim, draft.source)
    for outgoing in render(views, lang, screen.translator):
        markup = outgoing.markup
        if isinstance(markup, InlineKeyboardMarkup):
            # The citizen's buttons, inert here: pressing one only says what it does for citizens.
            markup = InlineKeyboardMarkup(
                inline_keyboard=[
                    [screen.cb.button(b.text, "pv", draft.serial, screen.chat_id) for b in row]
                    for row in markup.inline_keyboard
                ]
            )
        await screen.bot.send_message(
            screen.chat_id,
            outgoing.text,
            message_thread_id=screen.thread,
            reply_markup=markup if isinstance(markup, InlineKeyboardMarkup) else None,
        )


async def show_preview(screen: Screen, draft: Draft, catalog: Catalog, notices: NoticeService) -> None:
    """The notice exactly as a citizen receives it (photo, then the text), then a summary to confirm."""
    translator = screen.translator
    assert draft.kind is not None and draft.text is not None
    audience = draft.get_audience()
    by_language = await notices.count_by_language(audience)
    count = sum(by_language.values())
    await screen.say("comms-preview-head")
    if draft.photo:
        await screen.bot.send_photo(screen.chat_id, draft.photo, message_thread_id=screen.thread)
    await send_citizen_view(screen, draft, LANG)
    # The text is the team's own; the frame around it (header, button) is in each citizen's language.
    for lang in translator.languages:
        if lang != LANG and by_language.get(lang):
            language = t(translator, f"comms-language-{lang}")
            await screen.say("comms-preview-language", {"language": language, "count": by_language[lang]})
            await send_citizen_view(screen, draft, lang)
    timing = "comms-timing-urgent" if draft.kind == NoticeKind.EMERGENCY else "comms-timing-quiet"
    summary = t(
        translator,
        "comms-summary",
        {
            "kind": kind_name(translator, draft.kind),
            "audience": "\n".join(audience_lines(audience, catalog, translator)),
            "count": count,
            "timing": t(translator, timing),
        },
    )
    await screen.send(summary, fixed_markup(screen.cb, translator, draft, screen.chat_id, PREVIEW_LAYOUT))


def comms_router() -> Router:
    """Handlers for comms chats; include it before the operator router."""
    router = Router(name="comms")
    router.message.filter(F.chat.type.in_(GROUP_TYPES))
    router.callback_query.filter(F.data.startswith(f"{PREFIX}:"))

    @router.message(Command("notice"))
    async def start(
        message: Message,
        bot: Bot,
        db: Database,
        operator_state: StateStore,
        signer: CallbackSigner,
        translator: Translator,
    ) -> None:
        user = message.from_user
        if user is None or user.is_bot:
            return
        if not await is_comms_chat(db, message.chat.id):
            await message.reply(t(translator, "comms-not-comms-chat"))
            return
        draft = Draft.new(message.message_thread_id if message.is_topic_message else None)
        await operator_state.set(draft_key(message.chat.id, user.id), draft.to_json())
        screen = Screen(bot, message.chat.id, draft.thread, translator, CommsCallbacks(signer))
        await screen.send(
            t(translator, "comms-choose-kind"), kind_markup(screen.cb, translator, draft, message.chat.id)
        )

    @router.message(Command("cancel"), HasDraft())
    async def cancel(
        message: Message, notices: NoticeService, operator_state: StateStore, translator: Translator
    ) -> None:
        assert message.from_user is not None
        key = draft_key(message.chat.id, message.from_user.id)
        async with operator_state.lock(key):
            payload = await operator_state.get(key)
            if payload is not None:
                await drop_stored(notices, Draft.from_json(payload))
            await operator_state.delete(key)
        await message.reply(t(translator, "comms-cancelled"))

    @router.message(Composing())
    async def on_input(
        message: Message,
        bot: Bot,
        db: Database,
        catalog: Catalog,
        operator_state: StateStore,
        signer: CallbackSigner,
        translator: Translator,
    ) -> None:
        assert message.from_user is not None
        key = draft_key(message.chat.id, message.from_user.id)
        async with operator_state.lock(key):
            payload = await operator_state.get(key)
            draft = Draft.from_json(payload) if payload else None
            if draft is not None and draft.step in TEXT_STEPS:
                screen = Screen(bot, message.chat.id, draft.thread, translator, CommsCallbacks(signer))
                await take_input(message, draft, screen, db, catalog)
                await operator_state.set(key, draft.to_json())
                return
        # Not waiting for text (a menu is shown): the message is ordinary chat, for the next routers.
        raise SkipHandler

    @router.callback_query()
    async def on_button(
        query: CallbackQuery,
        bot: Bot,
        db: Database,
        catalog: Catalog,
        notices: NoticeService,
        operator_state: StateStore,
        signer: CallbackSigner,
        translator: Translator,
    ) -> None:
        message = query.message
        cb = CommsCallbacks(signer)
        verified = cb.verify(query.data or "", message.chat.id) if isinstance(message, Message) else None
        if not isinstance(message, Message) or verified is None:
            await query.answer(t(translator, "comms-forged"), show_alert=True)
            return
        if message.chat.type not in GROUP_TYPES or not await is_comms_chat(db, message.chat.id):
            await query.answer(t(translator, "comms-not-comms-chat"), show_alert=True)
            return
        action, ident = verified
        if action.startswith("n-"):
            await progress_action(query, message, action, ident, bot, notices, translator, signer)
            return
        key = draft_key(message.chat.id, query.from_user.id)
        async with operator_state.lock(key):
            payload = await operator_state.get(key)
            draft = Draft.from_json(payload) if payload else None
            if draft is None or draft.serial != ident:
                await query.answer(t(translator, "comms-stale"), show_alert=True)
                return
            screen = Screen(bot, message.chat.id, draft.thread, translator, cb)

            async def save(changed: Draft) -> None:
                await operator_state.set(key, changed.to_json())

            keep = await compose_action(query, message, action, draft, screen, db, catalog, notices, save)
            if keep:
                await operator_state.set(key, draft.to_json())
            else:
                await operator_state.delete(key)

    return router


async def take_input(message: Message, draft: Draft, screen: Screen, db: Database, catalog: Catalog) -> None:
    """The member's typed answer to the step the draft is at; the draft is changed in place."""
    translator = screen.translator
    text = (message.text or message.caption or "").strip()
    photo = message.photo[-1].file_id if message.photo else None
    if draft.step in (CLAIM, TEXT) and photo:
        draft.photo = photo
    if draft.step in (MUNICIPALITIES, REPORTS):
        if not text:
            await screen.say("comms-text-empty")
            return
        if draft.step == MUNICIPALITIES:
            found, problem = resolve_municipalities(text, catalog, translator)
            audience = replace(draft.get_audience(), everyone=False, reports=(), municipalities=tuple(found))
        else:
            found, problem = await resolve_reports(text, db, translator)
            audience = replace(
                draft.get_audience(), everyone=False, municipalities=(), sectors=(), reports=tuple(found)
            )
        if problem:
            await screen.send(problem)
            return
        draft.set_audience(audience)
        draft.step = AUDIENCE
        await show_audience(screen, draft, catalog)
        return
    if not text:
        await screen.say("comms-photo-added" if photo else "comms-text-empty")
        return
    limit = SOURCE_LIMIT if draft.step == SOURCE else TEXT_LIMIT
    if len(text) > limit:
        await screen.say("comms-text-too-long", {"length": len(text), "limit": limit})
        return
    if draft.step == CLAIM:
        draft.claim = text
        draft.step = TEXT
        await screen.say("comms-ask-facts")
    elif draft.step == TEXT:
        draft.text = text
        if draft.kind == NoticeKind.FACTCHECK:
            draft.step = SOURCE
            await screen.say("comms-ask-source")
        else:
            draft.step = AUDIENCE
            await show_audience(screen, draft, catalog)
    else:  # SOURCE
        draft.source = text
        draft.step = AUDIENCE
        await show_audience(screen, draft, catalog)


async def compose_action(
    query: CallbackQuery,
    message: Message,
    action: str,
    draft: Draft,
    screen: Screen,
    db: Database,
    catalog: Catalog,
    notices: NoticeService,
    save: Callable[[Draft], Awaitable[None]],
) -> bool:
    """One press on a draft's button; returns False when the draft is over (sent or dropped)."""
    translator, cb, bot, chat_id = screen.translator, screen.cb, screen.bot, screen.chat_id
    audience = draft.get_audience()

    async def stale() -> bool:
        await query.answer(t(translator, "comms-stale"), show_alert=True)
        return True

    async def redraw(text: str, markup: InlineKeyboardMarkup | None) -> None:
        with contextlib.suppress(TelegramBadRequest):
            await edit_text(bot, chat_id, message.message_id, text, markup)

    if action in ("x", "e-txt", "e-aud"):
        await drop_stored(notices, draft)
    if action == "x":
        await query.answer()
        await drop_buttons(bot, message)
        await screen.say("comms-cancelled")
        return False
    if action == "pv":
        await query.answer(t(translator, "comms-preview-button"), show_alert=True)
        return True

    if action.startswith("k-"):
        if draft.step != KIND or action[2:] not in {k.value for k in KINDS}:
            return await stale()
        await query.answer()
        draft.kind = action[2:]
        draft.text = draft.claim = draft.source = draft.photo = None
        await redraw(t(translator, "comms-kind-chosen", {"kind": kind_name(translator, draft.kind)}), None)
        if draft.kind == NoticeKind.FACTCHECK:
            draft.step = CLAIM
            await screen.say("comms-ask-claim")
        else:
            draft.step = TEXT
            await screen.say("comms-ask-text")
        return True

    if action in ("ok", "ed", "pv-back", "e-txt", "e-aud"):
        if draft.step != PREVIEW:
            return await stale()
        if action == "ed":
            await query.answer()
            await redraw(
                t(translator, "comms-edit-what"), fixed_markup(cb, translator, draft, chat_id, EDIT_LAYOUT)
            )
            return True
        if action == "pv-back":
            await query.answer()
            await drop_buttons(bot, message)
            await show_preview(screen, draft, catalog, notices)
            return True
        if action == "e-txt":
            await query.answer()
            await drop_buttons(bot, message)
            draft.step = KIND
            await screen.send(t(translator, "comms-choose-kind"), kind_markup(cb, translator, draft, chat_id))
            return True
        if action == "e-aud":
            await query.answer()
            await drop_buttons(bot, message)
            draft.step = AUDIENCE
            await show_audience(screen, draft, catalog)
            return True
        return await send_notice(query, message, draft, screen, notices, save)

    if draft.step not in AUDIENCE_STEPS:
        return await stale()
    draft.step = AUDIENCE
    if action == "a-all":
        on = not audience.everyone
        audience = replace(
            audience,
            everyone=on,
            municipalities=() if on else audience.municipalities,
            sectors=() if on else audience.sectors,
            reports=() if on else audience.reports,
        )
    elif action == "a-clr":
        audience = Audience()
    elif action.startswith("s-") and action[2:] in catalog.sectors:
        sector = action[2:]
        chosen = [s for s in audience.sectors if s != sector]
        if sector not in audience.sectors:
            chosen.append(sector)
        audience = replace(audience, everyone=False, reports=(), sectors=tuple(chosen))
    elif action.startswith("p-") and action[2:] in PLATFORMS:
        platform = action[2:]
        platforms = [p for p in audience.platforms if p != platform]
        if platform not in audience.platforms:
            platforms.append(platform)
        audience = replace(audience, platforms=tuple(platforms))
    elif action in ("a-mun", "a-rep"):
        await query.answer()
        await drop_buttons(bot, message)
        draft.step = MUNICIPALITIES if action == "a-mun" else REPORTS
        await screen.say("comms-ask-municipalities" if action == "a-mun" else "comms-ask-reports")
        return True
    elif action == "a-done":
        if audience.is_empty():
            await query.answer(t(translator, "comms-audience-empty"), show_alert=True)
            return True
        await query.answer()
        await drop_buttons(bot, message)
        draft.step = PREVIEW
        await show_preview(screen, draft, catalog, notices)
        return True
    elif action not in ("a-sec", "a-plat", "a-back"):
        return await stale()
    await query.answer()
    draft.set_audience(audience)
    text = audience_text(audience, catalog, translator)
    if action == "a-sec" or action.startswith("s-"):
        await redraw(
            f"{text}\n\n{t(translator, 'comms-choose-sectors')}",
            sectors_markup(cb, translator, catalog, draft, chat_id),
        )
    elif action == "a-plat" or action.startswith("p-"):
        await redraw(
            f"{text}\n\n{t(translator, 'comms-choose-platforms')}",
            platforms_markup(cb, translator, draft, chat_id),
        )
    else:
        await redraw(text, fixed_markup(cb, translator, draft, chat_id, AUDIENCE_LAYOUT))
    return True


async def drop_stored(notices: NoticeService, draft: Draft) -> None:
    """Forget the notice a failed send stored: the draft changes (or goes), so that one never goes out."""
    if draft.notice_id is None:
        return
    stored = await notices.get(draft.notice_id)
    if stored is not None and stored.status == NoticeStatus.DRAFT:
        await notices.cancel(draft.notice_id)
    draft.notice_id = None


async def send_notice(
    query: CallbackQuery,
    message: Message,
    draft: Draft,
    screen: Screen,
    notices: NoticeService,
    save: Callable[[Draft], Awaitable[None]],
) -> bool:
    """Create and confirm the notice, then post the one message that shows its progress."""
    translator = screen.translator
    assert draft.kind is not None and draft.text is not None
    audience = draft.get_audience()
    if draft.notice_id is None:
        if audience.is_empty() or await notices.count(audience) == 0:
            await query.answer(t(translator, "comms-no-recipients"), show_alert=True)
            return True
        user = query.from_user
        notice = NoticeDraft(
            kind=NoticeKind(draft.kind),
            text=draft.text,
            audience=audience,
            claim=draft.claim,
            source=draft.source,
            photo=draft.photo,
        )
        draft.notice_id = await notices.create(notice, f"tg:{user.id} {user.full_name}")
        # Kept before confirming: a press repeated after a failure confirms this notice, not a new one.
        await save(draft)
    await query.answer()
    recipients = await notices.confirm(draft.notice_id)
    with contextlib.suppress(TelegramBadRequest):
        await edit_text(
            screen.bot,
            screen.chat_id,
            message.message_id,
            f"{message.text or ''}\n\n{t(translator, 'comms-started', {'count': recipients})}",
            None,
        )
    stats = await notices.stats(draft.notice_id)
    text, markup = progress_message(draft.kind, stats, screen.chat_id, translator, screen.cb)
    progress = await screen.send(text, markup)
    await notices.set_progress_message(draft.notice_id, screen.chat_id, progress.message_id)
    return False


async def progress_action(
    query: CallbackQuery,
    message: Message,
    action: str,
    notice_id: int,
    bot: Bot,
    notices: NoticeService,
    translator: Translator,
    signer: CallbackSigner,
) -> None:
    """Pause, resume or cancel a notice from its progress message, then show the result at once."""
    notice = await notices.get(notice_id)
    if notice is None or notice.progress_chat_id != message.chat.id:
        await query.answer(t(translator, "comms-forged"), show_alert=True)
        return
    progress = NoticeProgress(bot, notices, translator, signer)
    cb = CommsCallbacks(signer)
    if action == "n-stop":
        await query.answer(t(translator, "comms-stop-ask"))
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [cb.button(t(translator, "comms-btn-stop-confirm"), "n-kill", notice_id, message.chat.id)],
                [cb.button(t(translator, "comms-btn-stop-back"), "n-back", notice_id, message.chat.id)],
            ]
        )
        with contextlib.suppress(TelegramBadRequest):
            await bot.edit_message_reply_markup(
                chat_id=message.chat.id, message_id=message.message_id, reply_markup=markup
            )
        return
    steps = {
        "n-pause": (notices.pause, "comms-paused"),
        "n-resume": (notices.resume, "comms-resumed"),
        "n-kill": (notices.cancel, "comms-stopped"),
    }
    if action in steps:
        change, done_key = steps[action]
        if await change(notice_id):
            await query.answer(t(translator, done_key))
        else:
            current = await notices.get(notice_id)
            status = t(translator, f"comms-state-{current.status if current else 'done'}")
            await query.answer(t(translator, "comms-not-possible", {"status": status}), show_alert=True)
    elif action == "n-back":
        await query.answer()
    else:
        await query.answer(t(translator, "comms-forged"), show_alert=True)
        return
    with contextlib.suppress(TelegramBadRequest):
        await progress.refresh(notice_id, force=True)
