"""Linking one person's Telegram and VK accounts: a one-time code shown in one messenger is sent
to the bot in the other, and from then on "My reports" in each shows the reports of both.

Reached from the main menu ("link" scope) and by /link, or /link CODE to redeem directly.
"""

from __future__ import annotations

from bot.core.buttons import Scope, button_id
from bot.core.messages import Button, InboundKind, Text, View
from bot.services.citizens.accounts import LINK_CODE_TTL, LinkResult
from dialogs import notices_screens
from dialogs.engine import Context, Dialogs, Step, Transition, start_dialog

DIALOG = "link"
# Brand names: the same in every language.
PLATFORM_NAMES = {"tg": "Telegram", "vk": "VK"}
# A code is 8 characters; anything much longer is not a code, and is not echoed or looked up.
MAX_CODE_INPUT = 40

RESULT_TEXTS: dict[LinkResult, Text] = {
    LinkResult.LINKED: Text("link-done"),
    LinkResult.ALREADY_LINKED: Text("link-already"),
    LinkResult.INVALID: Text("link-invalid"),
    LinkResult.SAME_ACCOUNT: Text("link-same-account"),
    LinkResult.SAME_PLATFORM: Text("link-same-platform"),
    LinkResult.TOO_MANY_ATTEMPTS: Text("link-too-many"),
}
# After these the citizen may simply try another code.
RETRYABLE = frozenset({LinkResult.INVALID, LinkResult.SAME_ACCOUNT, LinkResult.SAME_PLATFORM})


def platform_name(platform: str) -> str:
    return PLATFORM_NAMES.get(platform, platform)


async def _linked_names(ctx: Context) -> list[str]:
    assert ctx.citizen is not None
    return [platform_name(a.platform) for a in await ctx.services.citizens.linked_accounts(ctx.citizen.id)]


def _menu(ctx: Context) -> list[View]:
    return [ctx.dialogs.main_menu(ctx)] if ctx.dialogs.main_menu is not None else []


async def link_screen(ctx: Context) -> list[View]:
    """Who this account is linked with, a fresh code for the other messenger, and what else to do."""
    if ctx.citizen is None:
        return []
    names = await _linked_names(ctx)
    code = await ctx.services.citizens.issue_link_code(ctx.citizen.id)
    minutes = int(LINK_CODE_TTL.total_seconds() // 60)
    here = platform_name(ctx.citizen.platform)
    lines = [
        Text("link-status-linked", {"here": here, "accounts": ", ".join(names)})
        if names
        else Text("link-status-unlinked", {"here": here}),
        Text("link-code", {"code": code, "minutes": minutes}),
    ]
    rows: list[tuple[Button, ...]] = [(Button(button_id(Scope.LINK, "enter"), Text("btn-link-enter")),)]
    if names:
        rows.append((Button(button_id(Scope.LINK, "unlink"), Text("btn-link-unlink")),))
    rows.append((Button(button_id(Scope.MENU, "home"), Text("btn-menu")),))
    return [View(tuple(lines), tuple(rows))]


async def redeem(ctx: Context, raw_code: str) -> tuple[LinkResult, list[View]]:
    """Try a code; the answer, with the accounts now linked when it worked."""
    assert ctx.citizen is not None
    result = await ctx.services.citizens.redeem_link_code(ctx.citizen.id, raw_code[:MAX_CODE_INPUT])
    text = RESULT_TEXTS[result]
    if result is LinkResult.LINKED:
        text = Text(text.key, {"accounts": ", ".join(await _linked_names(ctx))})
    return result, [View((text,))]


def _unlink_confirm_view(accounts: str) -> View:
    return View(
        (Text("link-unlink-confirm", {"accounts": accounts}),),
        (
            (
                Button(button_id(Scope.LINK, "unlink-yes"), Text("btn-link-unlink-yes")),
                Button(button_id(Scope.LINK, "unlink-no"), Text("btn-link-unlink-no")),
            ),
        ),
    )


async def on_link_command(ctx: Context) -> list[View]:
    """/link shows the screen; /link CODE (also "/link abcd-2345") links at once."""
    if ctx.citizen is None:
        return []
    # The adapter gives the word in `command` and the whole message in `text`.
    parts = ctx.inbound.text.split(maxsplit=1)
    argument = parts[1].strip() if len(parts) > 1 else ""
    if not argument:
        return await link_screen(ctx)
    result, views = await redeem(ctx, argument)
    if result in RETRYABLE:
        return views
    if ctx.state.get("dialog") == DIALOG:
        ctx.state.clear()  # the code came by command while the enter-code step was waiting
    return [*views, *_menu(ctx)]


async def start_entering(ctx: Context) -> list[View]:
    """Take the next message as a code, unless that would drop an unfinished report."""
    notices_screens.leave_search(ctx)
    if ctx.state.get("step") and ctx.state.get("dialog") != DIALOG:
        return [View.of("link-draft-exists"), *await ctx.dialogs.current_prompt(ctx)]
    start_dialog(ctx, DIALOG, EnterCodeStep.name)
    return await EnterCodeStep().prompt(ctx)


async def on_link(ctx: Context, value: str) -> list[View]:
    """Buttons of the link screen: "link:enter", "link:unlink" (then "-yes"/"-no"), "link:show"."""
    if ctx.citizen is None:
        return []
    if value == "show":
        return await link_screen(ctx)
    if value == "enter":
        return await start_entering(ctx)
    if value == "unlink":
        names = await _linked_names(ctx)
        if not names:
            return [View.of("link-not-linked"), *await link_screen(ctx)]
        return [_unlink_confirm_view(", ".join(names))]
    if value == "unlink-yes":
        if not await ctx.services.citizens.unlink(ctx.citizen.id):
            return [View.of("link-not-linked"), *_menu(ctx)]
        return [View.of("link-unlinked"), *_menu(ctx)]
    if value == "unlink-no":
        return [View.of("link-unlink-kept"), *_menu(ctx)]
    return [View.of("button-outdated"), *_menu(ctx)]


class EnterCodeStep(Step):
    """The next text message is the code from the other messenger."""

    expired_key = None
    name = "l.code"
    # The engine's Back would have nowhere to go (this is the dialog's first step): our own Back
    # returns to the link screen instead.
    has_back = False

    async def prompt(self, ctx: Context) -> list[View]:
        back = Button(f"{self.name}:screen", Text("btn-back"))
        return [View((Text("link-enter-prompt"),), ((back, *self.nav_row()),))]

    async def on_input(self, ctx: Context) -> Transition:
        inbound = ctx.inbound
        text = inbound.text.strip() if inbound.kind is InboundKind.TEXT else ""
        if not text:
            return Transition.stay(View.of("link-code-needed"), *await self.prompt(ctx))
        result, views = await redeem(ctx, text)
        if result in RETRYABLE:
            return Transition.stay(*views, *await self.prompt(ctx))
        return Transition(tuple(views), done=True, menu=True)

    async def on_button(self, ctx: Context, value: str) -> Transition:
        if value == "screen":
            return Transition.end(*await link_screen(ctx))
        return await super().on_button(ctx, value)


def register(dialogs: Dialogs) -> None:
    """The step, the "link" button scope and /link; none of them open before consent."""
    dialogs.add_step(EnterCodeStep())
    dialogs.scopes[Scope.LINK] = on_link
    dialogs.commands["link"] = on_link_command
