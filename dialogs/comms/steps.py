"""The composer's steps on the dialog engine: kind → text (claim, facts, source) → audience.

Every step shares one button scope ("cm"), so a press is judged by the step the draft is at, as the
Telegram composer always did: an action of another step is stale, «✖️ Отмена» works everywhere.
The draft itself is `ctx.data` (a `Draft` as JSON); the engine's step name mirrors `Draft.step`.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

from bot.core.messages import Inbound, InboundKind, Text, View
from bot.services.notices.content import TEXT_LIMIT, Audience, NoticeKind
from bot.services.staff.roles import Principal
from dialogs.comms import draft as stage
from dialogs.comms.draft import (
    KINDS,
    PLATFORMS,
    SOURCE_LIMIT,
    Draft,
    chat_of,
    toggle_everyone,
    toggle_platform,
    toggle_sector,
    with_municipalities,
    with_reports,
)
from dialogs.comms.parsing import resolve_municipalities, resolve_reports
from dialogs.comms.screens import (
    SCOPE,
    UNBUTTONED,
    alert,
    audience_menu,
    edited,
    kind_menu,
    platforms_menu,
    say,
    sectors_menu,
)
from dialogs.steps import Context, Step, Transition

DIALOG = "comms"


def step_name(draft_step: str) -> str:
    return f"c.{draft_step}"


def draft_of(ctx: Context) -> Draft:
    return Draft.from_json(ctx.data)


def keep(ctx: Context, draft: Draft) -> None:
    ctx.data.clear()
    ctx.data.update(draft.to_json())


def go(ctx: Context, draft: Draft, draft_step: str, *before: View) -> Transition:
    """Move the draft to `draft_step`: the views before, then that step's prompt."""
    draft.step = draft_step
    keep(ctx, draft)
    return Transition.to(step_name(draft_step), *before)


def stale() -> Transition:
    return Transition.stay(alert("comms-stale"))


def principal(inbound: Inbound) -> Principal:
    """Who the staff registry is asked about."""
    return Principal(inbound.platform, inbound.user_id, inbound.sender_name, inbound.anonymous)


async def withdraw(ctx: Context, draft: Draft, reason: str) -> tuple[View, ...]:
    """Cancel the notice this draft stored but did not send: the draft changes (or goes), so that
    one never goes out, and an approval asked for it is void (its request is redrawn to say so)."""
    if draft.notice_id is None:
        return ()
    notice_id, draft.notice_id = draft.notice_id, None
    keep(ctx, draft)
    notices = ctx.services.notice_service()
    who, chat_id = principal(ctx.inbound), chat_of(ctx.inbound.state_key)
    if not await notices.cancel(notice_id, who, chat_id=chat_id, reason=reason, unsent_only=True):
        return ()
    return (View((), edit=True, notice=notice_id),)


class ComposeStep(Step):
    """What every composer step shares: its scope, free chat around it, cancel and inert buttons."""

    draft_step: ClassVar[str]
    has_back = False
    typed_buttons = False
    expired_key = None

    def owns(self, scope: str) -> bool:
        return scope == SCOPE

    async def on_input(self, ctx: Context) -> Transition:
        # A menu is shown, not a question: the message is ordinary chat, not for the composer.
        return Transition.stay()

    async def on_button(self, ctx: Context, value: str) -> Transition:
        # The gate has checked the serial against the draft's.
        value = value.rpartition(":")[0]
        if value == "x":
            withdrawn = await withdraw(ctx, draft_of(ctx), "withdrawn")
            return Transition.end(*withdrawn, UNBUTTONED, say("comms-cancelled"))
        if value == "pv":
            return Transition.stay(alert("comms-preview-button"))
        return await self.on_action(ctx, draft_of(ctx), value)

    async def on_action(self, ctx: Context, draft: Draft, action: str) -> Transition:
        """This step's own buttons; anything else is a button of another step."""
        return stale()


class KindStep(ComposeStep):
    name = step_name(stage.KIND)
    draft_step = stage.KIND

    async def prompt(self, ctx: Context) -> list[View]:
        return [kind_menu(draft_of(ctx))]

    async def on_action(self, ctx: Context, draft: Draft, action: str) -> Transition:
        kind = action.removeprefix("k-")
        if not action.startswith("k-") or kind not in {k.value for k in KINDS}:
            return stale()
        draft.choose_kind(kind)
        label = ctx.label(Text(f"comms-kind-{kind}"))
        chosen = View((Text("comms-kind-chosen", {"kind": label}),), edit=True)
        return go(ctx, draft, draft.step, chosen)


class TypedStep(ComposeStep):
    """A question answered by the member's next message."""

    limit: ClassVar[int] = TEXT_LIMIT

    async def on_input(self, ctx: Context) -> Transition:
        inbound = ctx.inbound
        draft = draft_of(ctx)
        text = inbound.text.strip() if inbound.kind in (InboundKind.TEXT, InboundKind.PHOTOS) else ""
        if not text:
            return Transition.stay(say("comms-photo-added" if inbound.photos else "comms-text-empty"))
        if len(text) > self.limit:
            return Transition.stay(say("comms-text-too-long", length=len(text), limit=self.limit))
        return self.take(ctx, draft, text)

    @abstractmethod
    def take(self, ctx: Context, draft: Draft, text: str) -> Transition:
        """Keep the checked answer in the draft and say where the dialog goes next."""


class WordingStep(TypedStep):
    """The claim and the text: a photo sent with them is the notice's photo."""

    async def on_input(self, ctx: Context) -> Transition:
        inbound = ctx.inbound
        if inbound.kind is InboundKind.PHOTOS and inbound.photos:
            draft = draft_of(ctx)
            draft.photo = inbound.photos[-1]
            keep(ctx, draft)
        return await super().on_input(ctx)


class ClaimStep(WordingStep):
    name = step_name(stage.CLAIM)
    draft_step = stage.CLAIM

    async def prompt(self, ctx: Context) -> list[View]:
        return [say("comms-ask-claim")]

    def take(self, ctx: Context, draft: Draft, text: str) -> Transition:
        draft.claim = text
        return go(ctx, draft, stage.TEXT)


class TextStep(WordingStep):
    name = step_name(stage.TEXT)
    draft_step = stage.TEXT

    async def prompt(self, ctx: Context) -> list[View]:
        factcheck = draft_of(ctx).kind == NoticeKind.FACTCHECK
        return [say("comms-ask-facts" if factcheck else "comms-ask-text")]

    def take(self, ctx: Context, draft: Draft, text: str) -> Transition:
        draft.text = text
        return go(ctx, draft, stage.SOURCE if draft.kind == NoticeKind.FACTCHECK else stage.AUDIENCE)


class SourceStep(TypedStep):
    name = step_name(stage.SOURCE)
    draft_step = stage.SOURCE
    limit = SOURCE_LIMIT

    async def prompt(self, ctx: Context) -> list[View]:
        return [say("comms-ask-source")]

    def take(self, ctx: Context, draft: Draft, text: str) -> Transition:
        draft.source = text
        return go(ctx, draft, stage.AUDIENCE)


class AudienceActions(ComposeStep):
    """The audience menu's buttons, pressed on the menu or while a list is being typed."""

    async def on_action(self, ctx: Context, draft: Draft, action: str) -> Transition:
        audience = draft.get_audience()
        catalog = ctx.services.catalog
        if action in ("a-mun", "a-rep"):
            return go(ctx, draft, stage.MUNICIPALITIES if action == "a-mun" else stage.REPORTS, UNBUTTONED)
        if action == "a-done":
            if audience.is_empty():
                return Transition.stay(alert("comms-audience-empty"))
            return go(ctx, draft, stage.PREVIEW, UNBUTTONED)
        if action == "a-all":
            audience = toggle_everyone(audience)
        elif action == "a-clr":
            audience = Audience()
        elif action.startswith("s-") and action[2:] in catalog.sectors:
            audience = toggle_sector(audience, action[2:])
        elif action.startswith("p-") and action[2:] in PLATFORMS:
            audience = toggle_platform(audience, action[2:])
        elif action not in ("a-sec", "a-plat", "a-back"):
            return stale()
        draft.set_audience(audience)
        draft.step = stage.AUDIENCE
        keep(ctx, draft)
        if action == "a-sec" or action.startswith("s-"):
            menu = sectors_menu(ctx, draft)
        elif action == "a-plat" or action.startswith("p-"):
            menu = platforms_menu(ctx, draft)
        else:
            menu = audience_menu(ctx, draft)
        return Transition((edited(menu),), goto=step_name(stage.AUDIENCE), prompt=False)


class AudienceStep(AudienceActions):
    name = step_name(stage.AUDIENCE)
    draft_step = stage.AUDIENCE

    async def prompt(self, ctx: Context) -> list[View]:
        return [audience_menu(ctx, draft_of(ctx))]


class ListStep(AudienceActions):
    """Municipalities or report numbers, typed; a list with problems is refused whole."""

    async def on_input(self, ctx: Context) -> Transition:
        inbound = ctx.inbound
        text = inbound.text.strip() if inbound.kind in (InboundKind.TEXT, InboundKind.PHOTOS) else ""
        if not text:
            return Transition.stay(say("comms-text-empty"))
        draft = draft_of(ctx)
        audience = draft.get_audience()
        if self.draft_step == stage.MUNICIPALITIES:
            found, problems = resolve_municipalities(text, ctx.services.catalog.municipalities)
            audience = with_municipalities(audience, found)
        else:
            found, problems = resolve_reports(text)
            audience = with_reports(audience, found)
        if problems:
            return Transition.stay(View(problems))
        draft.set_audience(audience)
        return go(ctx, draft, stage.AUDIENCE)


class MunicipalitiesStep(ListStep):
    name = step_name(stage.MUNICIPALITIES)
    draft_step = stage.MUNICIPALITIES

    async def prompt(self, ctx: Context) -> list[View]:
        return [say("comms-ask-municipalities")]


class ReportsStep(ListStep):
    name = step_name(stage.REPORTS)
    draft_step = stage.REPORTS

    async def prompt(self, ctx: Context) -> list[View]:
        return [say("comms-ask-reports")]
