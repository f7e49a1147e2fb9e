"""The comms chat's dialogs: `/notice` starts a draft, `/cancel` drops it, the steps do the rest.

Being in the chat grants nothing: `composer_gate` asks the `NoticeService` (the staff registry) on
`/notice`, on every typed answer and on every press, and the service checks again when it stores or
confirms a notice. Whether the chat is a comms chat, and whether a press is authentic and of the
member's current draft, is the adapter's check, made before anything here runs.
"""

from __future__ import annotations

import contextlib

from bot.core.messages import InboundKind, Text, View
from bot.services.staff.roles import NotAllowed
from dialogs.comms.draft import TEXT_STEPS, Draft
from dialogs.comms.preview import PreviewStep
from dialogs.comms.screens import LANG, alert, kind_menu, say
from dialogs.comms.steps import (
    DIALOG,
    AudienceStep,
    ClaimStep,
    KindStep,
    MunicipalitiesStep,
    ReportsStep,
    SourceStep,
    TextStep,
    draft_of,
    principal,
    step_name,
    withdraw,
)
from dialogs.steps import Context, Dialogs, start_dialog

NOT_COMPOSER = "comms-not-comms-staff"
# What the person refused is told, by the reason `NotAllowed` gives.
REFUSALS = {"staff-anonymous": "comms-anonymous", "comms-self-approval": "comms-self-approval"}
TYPED = frozenset(step_name(step) for step in TEXT_STEPS)


def refusal(reason: str, default: str = NOT_COMPOSER) -> Text:
    """The text for a `NotAllowed(reason)`; `default` says which right was missing."""
    return Text(REFUSALS.get(reason, default))


async def composer_gate(ctx: Context) -> list[View] | None:
    """None to go on; else what to answer (nothing at all for chat that is not for the composer)."""
    inbound = ctx.inbound
    if inbound.kind is InboundKind.COMMAND:
        if inbound.command != "notice":
            # `/cancel` needs no role: a member whose role was revoked still drops their draft.
            return None
    elif inbound.kind is InboundKind.BUTTON:
        # A press of an older (or no) draft is stale before anyone's role is looked up.
        serial = inbound.button.rpartition(":")[2]
        data = ctx.state.get("data") or {}
        if not ctx.state.get("step") or serial != str(data.get("serial")):
            return [alert("comms-stale")]
    elif ctx.state.get("step") not in TYPED:
        return []
    try:
        await ctx.services.notice_service().require_composer(principal(inbound))
    except NotAllowed as error:
        pressed = inbound.kind is InboundKind.BUTTON
        return [View((refusal(error.reason),), alert=pressed)]
    return None


async def start(ctx: Context) -> list[View]:
    """A new draft, replacing any older one (its buttons become stale)."""
    draft = Draft.new(ctx.inbound.thread)
    start_dialog(ctx, DIALOG, step_name(draft.step), draft.to_json())
    return [kind_menu(draft)]


async def cancel(ctx: Context) -> list[View]:
    if not ctx.state.get("step"):
        return []
    withdrawn: tuple[View, ...] = ()
    # Their role gone, the draft still goes; what it stored was never sent.
    with contextlib.suppress(NotAllowed):
        withdrawn = await withdraw(ctx, draft_of(ctx), "withdrawn")
    ctx.state.clear()
    return [*withdrawn, say("comms-cancelled")]


def build_comms_dialogs() -> Dialogs:
    dialogs = Dialogs(staff=True, gate=composer_gate, language=LANG)
    for step in (KindStep, ClaimStep, TextStep, SourceStep, AudienceStep, MunicipalitiesStep, ReportsStep):
        dialogs.add_step(step())
    dialogs.add_step(PreviewStep())
    dialogs.commands["notice"] = start
    dialogs.commands["cancel"] = cancel
    return dialogs
