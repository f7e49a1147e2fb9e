"""What the composer shows, as platform-neutral views: menus of actions, the audience summary.

A button's id is "cm:<action>"; the Telegram adapter signs the action with the draft's serial, so
the same menus serve any messenger that can keep a button's data unforgeable.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.core.messages import Button, Text, View
from bot.services.catalog import Catalog
from bot.services.notices.content import Audience
from dialogs.comms.draft import KINDS, PLATFORMS, Draft
from dialogs.steps import Context

SCOPE = "cm"
LANG = "ru"  # the comms team works in Russian

Layout = list[list[tuple[str, str]]]
AUDIENCE_LAYOUT: Layout = [
    [("comms-btn-everyone", "a-all"), ("comms-btn-municipalities", "a-mun")],
    [("comms-btn-sectors", "a-sec"), ("comms-btn-platforms", "a-plat")],
    [("comms-btn-reports", "a-rep"), ("comms-btn-clear", "a-clr")],
    [("comms-btn-done", "a-done"), ("comms-btn-cancel", "x")],
]
PREVIEW_LAYOUT: Layout = [
    [("comms-btn-send", "ok")],
    [("comms-btn-edit", "ed"), ("comms-btn-cancel", "x")],
]
# While the notice waits for a second person's approval its composer may still edit or withdraw it.
AWAITING_LAYOUT: Layout = [
    [("comms-btn-edit", "ed"), ("comms-btn-cancel", "x")],
]
EDIT_LAYOUT: Layout = [
    [("comms-btn-edit-text", "e-txt"), ("comms-btn-edit-audience", "e-aud")],
    [("comms-btn-back", "pv-back")],
]


def button(serial: int, action: str, label: Text) -> Button:
    """A draft's button: "cm:<action>:<serial>", so a press of an older draft is told apart."""
    return Button(f"{SCOPE}:{action}:{serial}", label)


def rows(serial: int, layout: Layout) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(button(serial, action, Text(key)) for key, action in row) for row in layout)


def say(key: str, **args: object) -> View:
    return View.of(key, **args)


def alert(key: str, **args: object) -> View:
    """The answer to a press, as a pop-up; nothing is posted."""
    return View((Text(key, dict(args)),), alert=True)


def edited(view: View) -> View:
    """`view` in place of the message whose button was pressed."""
    return View(view.lines, view.buttons, edit=True)


# The pressed menu loses its buttons, so an old step cannot be pressed again by mistake.
UNBUTTONED = View((), edit=True)


# An empty line between the audience summary and what a sub-menu asks.
BLANK = Text.raw("")


def mark(chosen: bool, text: str) -> str:
    return f"✓ {text}" if chosen else text


def kind_menu(draft: Draft) -> View:
    kinds = tuple((button(draft.serial, f"k-{kind}", Text(f"comms-kind-{kind}")),) for kind in KINDS)
    cancel = (button(draft.serial, "x", Text("comms-btn-cancel")),)
    return View((Text("comms-choose-kind"),), (*kinds, cancel))


def audience_lines(audience: Audience, catalog: Catalog, label: Callable[[Text], str]) -> list[str]:
    """One line per filter chosen, in the team's language (`label` renders a Text)."""
    lines: list[str] = []
    if audience.everyone:
        lines.append(label(Text("comms-aud-everyone")))
    if audience.municipalities:
        names = [catalog.municipality_name(m) or m for m in audience.municipalities]
        lines.append(label(Text("comms-aud-municipalities", {"list": ", ".join(names)})))
    if audience.sectors:
        names = [catalog.sector(s).name(LANG) if s in catalog.sectors else s for s in audience.sectors]
        lines.append(label(Text("comms-aud-sectors", {"list": ", ".join(names)})))
    if audience.reports:
        lines.append(label(Text("comms-aud-reports", {"list": ", ".join(audience.reports)})))
    if audience.platforms:
        names = [label(Text(f"comms-platform-{p}")) for p in audience.platforms]
        lines.append(label(Text("comms-aud-platforms", {"list": ", ".join(names)})))
    return lines


def chosen_lines(ctx: Context, audience: Audience) -> list[str]:
    return audience_lines(audience, ctx.services.catalog, ctx.label)


def audience_summary(ctx: Context, audience: Audience) -> Text:
    lines = chosen_lines(ctx, audience) or [ctx.label(Text("comms-audience-nothing"))]
    return Text("comms-audience", {"chosen": "\n".join(lines)})


def audience_menu(ctx: Context, draft: Draft) -> View:
    return View((audience_summary(ctx, draft.get_audience()),), rows(draft.serial, AUDIENCE_LAYOUT))


def sectors_menu(ctx: Context, draft: Draft) -> View:
    audience = draft.get_audience()
    chosen = set(audience.sectors)
    buttons = [
        button(draft.serial, f"s-{sector.id}", Text.raw(mark(sector.id in chosen, sector.name(LANG))))
        for sector in ctx.services.catalog.sectors.values()
    ]
    pairs = tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2))
    back = (button(draft.serial, "a-back", Text("comms-btn-back")),)
    lines = (audience_summary(ctx, audience), BLANK, Text("comms-choose-sectors"))
    return View(lines, (*pairs, back))


def platforms_menu(ctx: Context, draft: Draft) -> View:
    audience = draft.get_audience()
    chosen = set(audience.platforms)
    labels = {p: ctx.label(Text(f"comms-platform-{p}")) for p in PLATFORMS}
    row = tuple(button(draft.serial, f"p-{p}", Text.raw(mark(p in chosen, labels[p]))) for p in PLATFORMS)
    back = (button(draft.serial, "a-back", Text("comms-btn-back")),)
    return View((audience_summary(ctx, audience), BLANK, Text("comms-choose-platforms")), (row, back))
