"""The preview (the notice exactly as citizens get it, the recipients, the timing) and «Отправить».

Sending hands the draft to the `NoticeService`, which checks the `comms` role again and, for
everyone or above the threshold, asks a second person to approve instead of sending.
"""

from __future__ import annotations

from bot.core.messages import Button, Text, View
from bot.services.notices.content import Audience, NoticeDraft, NoticeKind, NoticeStatus, notice_views
from dialogs.comms import draft as stage
from dialogs.comms.draft import Draft, chat_of
from dialogs.comms.screens import (
    AWAITING_LAYOUT,
    BLANK,
    EDIT_LAYOUT,
    LANG,
    PREVIEW_LAYOUT,
    UNBUTTONED,
    alert,
    button,
    chosen_lines,
    edited,
    rows,
    say,
)
from dialogs.comms.steps import ComposeStep, draft_of, go, keep, principal, stale, step_name, withdraw
from dialogs.steps import Context, Transition


def approval_reason(ctx: Context, audience: Audience, recipients: int) -> str:
    if audience.everyone:
        return ctx.label(Text("comms-awaiting-reason-everyone"))
    threshold = ctx.services.notice_service().threshold
    return ctx.label(Text("comms-awaiting-reason-many", {"count": recipients, "threshold": threshold}))


def citizen_view(ctx: Context, draft: Draft, lang: str) -> list[View]:
    """The text as citizens reading the bot in `lang` get it, their buttons inert here."""
    assert draft.kind is not None and draft.text is not None
    translator = ctx.services.translator

    def local(text: Text) -> Text:
        return Text.raw(translator.text(lang, text.key, text.args))

    return [
        View(
            tuple(local(line) for line in view.lines),
            tuple(tuple(button(draft.serial, "pv", local(b.label)) for b in row) for row in view.buttons),
        )
        for view in notice_views(draft.kind, draft.text, draft.claim, draft.source)
    ]


class PreviewStep(ComposeStep):
    name = step_name(stage.PREVIEW)
    draft_step = stage.PREVIEW

    async def prompt(self, ctx: Context) -> list[View]:
        draft = draft_of(ctx)
        notices = ctx.services.notice_service()
        assert draft.kind is not None
        audience = draft.get_audience()
        by_language = await notices.count_by_language(audience)
        count = sum(by_language.values())
        views = [say("comms-preview-head")]
        if draft.photo:
            views.append(View((), photo=draft.photo))
        views += citizen_view(ctx, draft, LANG)
        # The text is the team's own; the frame around it (header, button) is in each citizen's language.
        for lang in ctx.services.translator.languages:
            if lang != LANG and by_language.get(lang):
                language = ctx.label(Text(f"comms-language-{lang}"))
                views.append(say("comms-preview-language", language=language, count=by_language[lang]))
                views += citizen_view(ctx, draft, lang)
        timing = "comms-timing-urgent" if draft.kind == NoticeKind.EMERGENCY else "comms-timing-quiet"
        summary = [
            Text(
                "comms-summary",
                {
                    "kind": ctx.label(Text(f"comms-kind-{draft.kind}")),
                    "audience": "\n".join(chosen_lines(ctx, audience)),
                    "count": count,
                    "timing": ctx.label(Text(timing)),
                },
            )
        ]
        if notices.needs_approval(audience, count):
            summary.append(Text("comms-preview-approval", {"reason": approval_reason(ctx, audience, count)}))
        views.append(View(tuple(summary), rows(draft.serial, PREVIEW_LAYOUT)))
        return views

    async def on_action(self, ctx: Context, draft: Draft, action: str) -> Transition:
        if action == "ed":
            return Transition.stay(edited(View((Text("comms-edit-what"),), rows(draft.serial, EDIT_LAYOUT))))
        if action == "pv-back":
            return go(ctx, draft, stage.PREVIEW, UNBUTTONED)
        if action in ("e-txt", "e-aud"):
            before = await withdraw(ctx, draft, "edited")
            target = stage.KIND if action == "e-txt" else stage.AUDIENCE
            return go(ctx, draft, target, *before, UNBUTTONED)
        if action == "ok":
            return await send(ctx, draft)
        return stale()


def pressed_with(ctx: Context, line: Text, buttons: tuple[tuple[Button, ...], ...] = ()) -> View:
    """The pressed summary, kept, with a line added under it."""
    return View((Text.raw(ctx.inbound.text), BLANK, line), buttons, edit=True)


async def send(ctx: Context, draft: Draft) -> Transition:
    """Store and confirm the notice as the member who pressed; then either its progress message (it
    goes out, the draft is over) or its approval request (it waits for a second person)."""
    notices = ctx.services.notice_service()
    assert draft.kind is not None and draft.text is not None
    audience = draft.get_audience()
    who = principal(ctx.inbound)
    chat_id = chat_of(ctx.inbound.state_key)
    if draft.notice_id is not None:
        stored = await notices.get(draft.notice_id)
        if stored is None or stored.status == NoticeStatus.CANCELLED:
            # Rejected by the approver: sending again asks anew, for a new notice.
            draft.notice_id = None
    if draft.notice_id is None:
        if audience.is_empty() or await notices.count(audience) == 0:
            return Transition.stay(alert("comms-no-recipients"))
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
        keep(ctx, draft)
        await ctx.services.state.set(ctx.inbound.state_key, ctx.state)
    confirmation = await notices.confirm(draft.notice_id, who, chat_id=chat_id)
    keep(ctx, draft)
    if confirmation.awaiting:
        if not confirmation.requested:
            return Transition.stay(alert("comms-awaiting-already"))
        reason = approval_reason(ctx, audience, confirmation.recipients)
        waiting = pressed_with(
            ctx, Text("comms-awaiting", {"reason": reason}), rows(draft.serial, AWAITING_LAYOUT)
        )
        return Transition.stay(waiting, View((), notice=draft.notice_id))
    started = pressed_with(ctx, Text("comms-started", {"count": confirmation.recipients}))
    return Transition.end(started, View((), notice=draft.notice_id))
