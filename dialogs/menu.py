"""Start, consent (152-ФЗ), main menu, help, language and erasure of personal data."""

from __future__ import annotations

from bot.core.buttons import Scope, button_id
from bot.core.messages import Button, Text, View
from dialogs import intake, linking, notices_screens
from dialogs.engine import Context, Dialogs
from dialogs.my_reports import my_reports_scope, show_list

SUPPORTED = ("ru", "en")


def main_menu(ctx: Context) -> View:
    """The doors: report, my reports, notices, linking Telegram and VK, language, help."""
    rows: list[tuple[Button, ...]] = []
    # A list of municipalities on screen is no draft to resume.
    if ctx.state.get("step") and ctx.state.get("dialog") != notices_screens.DIALOG:
        rows.append((Button(button_id(Scope.MENU, "resume"), Text("btn-resume")),))
    rows += [
        (Button(button_id(Scope.MENU, "report"), Text("btn-report")),),
        (Button(button_id(Scope.MENU, "my"), Text("btn-my-reports")),),
        (Button(button_id(Scope.MENU, "notices"), Text("btn-notices")),),
        (Button(button_id(Scope.MENU, "link"), Text("btn-link")),),
        (
            Button(button_id(Scope.MENU, "lang"), Text("btn-language")),
            Button(button_id(Scope.MENU, "help"), Text("btn-help")),
        ),
    ]
    return View((Text("menu-title"),), tuple(rows))


def consent_view(lang: str, policy_url: str) -> View:
    other = "en" if lang == "ru" else "ru"
    return View(
        (Text("consent-text", {"url": policy_url}),),
        (
            (Button(button_id(Scope.CONSENT, "yes", lang), Text("btn-consent-yes")),),
            (Button(button_id(Scope.CONSENT, "no", lang), Text("btn-consent-no")),),
            (Button(button_id(Scope.CONSENT, "lang", other), Text(f"btn-lang-{other}")),),
        ),
    )


async def consent_prompt(ctx: Context) -> list[View]:
    return [View.of("welcome"), consent_view(ctx.lang, ctx.services.privacy_policy_url)]


async def on_consent(ctx: Context, value: str) -> list[View]:
    action, _, lang = value.partition(":")
    if lang not in SUPPORTED:
        lang = ctx.lang
    if ctx.citizen is not None:
        return [View.of("consent-already"), main_menu(ctx)]
    if action == "lang":
        ctx.lang = lang
        return [consent_view(lang, ctx.services.privacy_policy_url)]
    if action == "no":
        ctx.lang = lang
        return [View.of("consent-declined")]
    if action == "yes":
        ctx.lang = lang
        ctx.citizen = await ctx.services.citizens.give_consent(
            ctx.inbound.platform, ctx.inbound.user_id, lang
        )
        return [View.of("consent-thanks"), main_menu(ctx)]
    return [View.of("button-outdated")]


async def start_report(ctx: Context) -> list[View]:
    if ctx.state.get("dialog") == intake.DIALOG and ctx.state.get("step"):
        return [View.of("intake-draft-exists"), *await _current_prompt(ctx)]
    intake.begin(ctx)
    return await intake.TextStep().prompt(ctx)


async def _current_prompt(ctx: Context) -> list[View]:
    return await ctx.dialogs.current_prompt(ctx)


def language_view() -> View:
    return View(
        (Text("language-prompt"),),
        (
            (
                Button(button_id(Scope.LANGUAGE, "ru"), Text("btn-lang-ru")),
                Button(button_id(Scope.LANGUAGE, "en"), Text("btn-lang-en")),
            ),
        ),
    )


async def on_language(ctx: Context, value: str) -> list[View]:
    if value not in SUPPORTED or ctx.citizen is None:
        return [View.of("button-outdated"), language_view()]
    await ctx.services.citizens.set_language(ctx.citizen.id, value)
    ctx.lang = value
    return [View.of("language-set"), main_menu(ctx)]


async def help_views(ctx: Context) -> list[View]:
    return [View((Text("help-text", {"url": ctx.services.privacy_policy_url}),))]


async def on_menu(ctx: Context, value: str) -> list[View]:
    if value != "resume":
        notices_screens.leave_search(ctx)
    if value == "report":
        return await start_report(ctx)
    if value == "resume":
        return await _current_prompt(ctx)
    if value == "my":
        return await show_list(ctx, 0)
    if value == "notices":
        return await notices_screens.screen(ctx)
    if value == "link":
        return await linking.link_screen(ctx)
    if value == "lang":
        return [language_view()]
    if value == "help":
        return [*await help_views(ctx), main_menu(ctx)]
    if value == "home":
        return [main_menu(ctx)]
    return [View.of("button-outdated"), main_menu(ctx)]


async def on_start(ctx: Context) -> list[View]:
    if ctx.citizen is None:
        return await consent_prompt(ctx)
    return [View.of("welcome-back"), main_menu(ctx)]


async def on_help(ctx: Context) -> list[View]:
    views = await help_views(ctx)
    if ctx.citizen is None:
        views.append(consent_view(ctx.lang, ctx.services.privacy_policy_url))
    return views


async def on_policy(ctx: Context) -> list[View]:
    return [View.of("policy-text", url=ctx.services.privacy_policy_url)]


async def on_cancel_command(ctx: Context) -> list[View]:
    if not ctx.state.get("step"):
        return [View.of("nothing-to-cancel"), main_menu(ctx)]
    ctx.state.clear()
    return [View.of("dialog-cancelled"), main_menu(ctx)]


def forget_view() -> View:
    return View(
        (Text("forget-confirm"),),
        (
            (
                Button(button_id(Scope.FORGET, "yes"), Text("btn-forget-yes")),
                Button(button_id(Scope.FORGET, "no"), Text("btn-forget-no")),
            ),
        ),
    )


async def on_forget_command(ctx: Context) -> list[View]:
    return [forget_view()]


async def on_forget(ctx: Context, value: str) -> list[View]:
    if ctx.citizen is None:
        return [View.of("forget-nothing")]
    if value == "yes":
        kept = await ctx.services.citizens.forget(ctx.citizen.id)
        # The flood counter is keyed by the user id; the dialog state goes when this update ends.
        await ctx.services.flood.forget(ctx.inbound.state_key)
        ctx.citizen = None
        ctx.state.clear()
        return [View.of("forget-done", reports=kept)]
    return [View.of("forget-kept"), main_menu(ctx)]


async def on_menu_command(ctx: Context) -> list[View]:
    return [main_menu(ctx)]


async def on_my_command(ctx: Context) -> list[View]:
    return await show_list(ctx, 0)


async def on_language_command(ctx: Context) -> list[View]:
    return [language_view()]


def register(dialogs: Dialogs) -> None:
    """Add the menu's commands and button scopes to the registry."""
    dialogs.scopes.update(
        {
            Scope.CONSENT: on_consent,
            Scope.MENU: on_menu,
            Scope.LANGUAGE: on_language,
            Scope.FORGET: on_forget,
            Scope.MY_REPORTS: my_reports_scope,
        }
    )
    dialogs.commands.update(
        start=on_start,
        help=on_help,
        policy=on_policy,
        privacy=on_policy,
        menu=on_menu_command,
        report=start_report,
        new=start_report,
        my=on_my_command,
        language=on_language_command,
        lang=on_language_command,
        cancel=on_cancel_command,
        forget=on_forget_command,
    )
    dialogs.open_scopes = frozenset({Scope.CONSENT})
    dialogs.open_commands = frozenset({"start", "help", "policy", "privacy"})
    dialogs.consent_prompt = consent_prompt
    dialogs.main_menu = main_menu
