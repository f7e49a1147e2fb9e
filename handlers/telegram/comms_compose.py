"""Composing a notice in the comms chat: the member's typed answers and button presses move their
draft from kind to text to audience to preview, and «✅ Отправить» hands it to the `NoticeService`
(which checks the `comms` role and, above the threshold, asks for a second person's approval).

Every function here is called with the draft's lock held and after the router checked that the
member may compose (`NoticeService.require_composer`); the service checks again when it stores or
confirms the notice.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.services.catalog import Catalog
from bot.services.notices.content import (
    TEXT_LIMIT,
    Audience,
    NoticeDraft,
    NoticeKind,
    NoticeStatus,
    notice_views,
)
from bot.services.notices.service import NoticeService
from bot.services.staff.roles import Principal
from dialogs.comms.draft import (
    AUDIENCE,
    AUDIENCE_STEPS,
    CLAIM,
    KIND,
    KINDS,
    MUNICIPALITIES,
    PLATFORMS,
    PREVIEW,
    REPORTS,
    SOURCE,
    SOURCE_LIMIT,
    TEXT,
    Draft,
    toggle_everyone,
    toggle_platform,
    toggle_sector,
    with_municipalities,
    with_reports,
)
from dialogs.comms.parsing import resolve_municipalities, resolve_reports
from handlers.telegram.comms import (
    AUDIENCE_LAYOUT,
    AWAITING_LAYOUT,
    EDIT_LAYOUT,
    LANG,
    PREVIEW_LAYOUT,
    Screen,
    audience_lines,
    audience_text,
    drop_buttons,
    edit_text,
    fixed_markup,
    kind_markup,
    kind_name,
    lines,
    platforms_markup,
    sectors_markup,
    t,
)
from handlers.telegram.comms_progress import approval_reason, approval_request, progress_message
from handlers.telegram.principal import query_principal
from handlers.telegram.render import render


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
    if notices.needs_approval(audience, count):
        reason = approval_reason(translator, audience, count, notices.threshold)
        summary += "\n" + t(translator, "comms-preview-approval", {"reason": reason})
    await screen.send(summary, fixed_markup(screen.cb, translator, draft, screen.chat_id, PREVIEW_LAYOUT))


async def take_input(message: Message, draft: Draft, screen: Screen, catalog: Catalog) -> None:
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
            found, problems = resolve_municipalities(text, catalog.municipalities)
            audience = with_municipalities(draft.get_audience(), found)
        else:
            found, problems = resolve_reports(text)
            audience = with_reports(draft.get_audience(), found)
        if problems:
            await screen.send(lines(translator, problems))
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
        reason = "withdrawn" if action == "x" else "edited"
        await drop_stored(query_principal(query), notices, draft, screen, reason)
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
        draft.choose_kind(action[2:])
        await redraw(t(translator, "comms-kind-chosen", {"kind": kind_name(translator, action[2:])}), None)
        await screen.say("comms-ask-claim" if draft.step == CLAIM else "comms-ask-text")
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
        return await send_notice(query, message, draft, screen, catalog, notices, save)

    if draft.step not in AUDIENCE_STEPS:
        return await stale()
    draft.step = AUDIENCE
    if action == "a-all":
        audience = toggle_everyone(audience)
    elif action == "a-clr":
        audience = Audience()
    elif action.startswith("s-") and action[2:] in catalog.sectors:
        audience = toggle_sector(audience, action[2:])
    elif action.startswith("p-") and action[2:] in PLATFORMS:
        audience = toggle_platform(audience, action[2:])
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


async def drop_stored(
    who: Principal, notices: NoticeService, draft: Draft, screen: Screen, reason: str
) -> None:
    """Cancel the notice this draft stored but did not send: the draft changes (or goes), so that
    one never goes out, and an approval asked for it is void (its request says so)."""
    if draft.notice_id is None:
        return
    notice_id, draft.notice_id = draft.notice_id, None
    if not await notices.cancel(notice_id, who, chat_id=screen.chat_id, reason=reason, unsent_only=True):
        return
    notice = await notices.get(notice_id)
    if notice is None or notice.progress_chat_id is None or notice.progress_message_id is None:
        return
    text, _ = progress_message(
        notice, await notices.stats(notice_id), screen.chat_id, screen.translator, screen.cb
    )
    with contextlib.suppress(TelegramBadRequest):
        await edit_text(screen.bot, notice.progress_chat_id, notice.progress_message_id, text, None)


async def send_notice(
    query: CallbackQuery,
    message: Message,
    draft: Draft,
    screen: Screen,
    catalog: Catalog,
    notices: NoticeService,
    save: Callable[[Draft], Awaitable[None]],
) -> bool:
    """Store and confirm the notice as the member who pressed; then either the progress message
    (it goes out) or the approval request (it waits for a second person, the draft stays)."""
    translator, chat_id = screen.translator, screen.chat_id
    assert draft.kind is not None and draft.text is not None
    audience = draft.get_audience()
    who = query_principal(query)
    if draft.notice_id is not None:
        stored = await notices.get(draft.notice_id)
        if stored is None or stored.status == NoticeStatus.CANCELLED:
            # Rejected by the approver: sending again asks anew, for a new notice.
            draft.notice_id = None
    if draft.notice_id is None:
        if audience.is_empty() or await notices.count(audience) == 0:
            await query.answer(t(translator, "comms-no-recipients"), show_alert=True)
            return True
        notice = NoticeDraft(
            kind=NoticeKind(draft.kind),
            text=draft.text,
            audience=audience,
            claim=draft.claim,
            source=draft.source,
            photo=draft.photo,
        )
        draft.notice_id = await notices.create(notice, who, chat_id=chat_id)
        # Kept before confirming: a press repeated after a failure confirms this notice, not a new one.
        await save(draft)
    confirmation = await notices.confirm(draft.notice_id, who, chat_id=chat_id)
    stored = await notices.get(draft.notice_id)
    assert stored is not None
    if confirmation.awaiting:
        if not confirmation.requested:
            await query.answer(t(translator, "comms-awaiting-already"), show_alert=True)
            return True
        await query.answer()
        reason = approval_reason(translator, audience, confirmation.recipients, notices.threshold)
        with contextlib.suppress(TelegramBadRequest):
            await edit_text(
                screen.bot,
                chat_id,
                message.message_id,
                f"{message.text or ''}\n\n{t(translator, 'comms-awaiting', {'reason': reason})}",
                fixed_markup(screen.cb, translator, draft, chat_id, AWAITING_LAYOUT),
            )
        lines = audience_lines(audience, catalog, translator)
        text, markup = approval_request(stored, lines, notices.threshold, chat_id, translator, screen.cb)
        request = await screen.send(text, markup)
        await notices.set_progress_message(draft.notice_id, chat_id, request.message_id)
        return True
    await query.answer()
    with contextlib.suppress(TelegramBadRequest):
        await edit_text(
            screen.bot,
            chat_id,
            message.message_id,
            f"{message.text or ''}\n\n{t(translator, 'comms-started', {'count': confirmation.recipients})}",
            None,
        )
    stats = await notices.stats(draft.notice_id)
    text, progress_markup = progress_message(stored, stats, chat_id, translator, screen.cb)
    progress = await screen.send(text, progress_markup)
    await notices.set_progress_message(draft.notice_id, chat_id, progress.message_id)
    return False
