"""Subscriptions to notices, what the citizen sees: the subscriptions screen, the pages of
municipalities, the topics, quiet hours, the offer after the first report. The buttons these views
carry are handled in `dialogs.notices_menu`, whose docstring lists them."""

from __future__ import annotations

import math
import re

from bot.core.buttons import UNSUBSCRIBE, Scope, button_id
from bot.core.messages import Button, Text, View
from bot.services.catalog import OTHER_SECTOR
from bot.services.citizens.subscriptions import ALL, MUNICIPALITY, SECTOR, Subscriptions, SubscriptionService
from dialogs.engine import Context, start_dialog

DIALOG = "subs"
# While the municipalities are on screen, the next short text is a place name (notices_menu.SearchStep).
SEARCH_STEP = "ns.find"
SCOPE = Scope.NOTICES
# The same id bot/services/notices/content.py puts under every notice (kept here to stay free of that module).
# Two per row, three rows, a paging row and Back: one VK inline keyboard (10 buttons, 6 rows).
PAGE_SIZE = 6
# Names listed on the screen before "and N more".
MAX_NAMES_SHOWN = 8
QUIET_CHOICES: dict[str, tuple[int, int]] = {"22-8": (22, 8), "23-7": (23, 7), "21-9": (21, 9)}
QUIET_OFF = "off"
CHECK = "✅ "
# Municipality kinds shortened on buttons, so two names fit a row (and VK's 40 characters).
_KIND_WORDS = (
    (re.compile("муниципальное образование", re.IGNORECASE), "МО"),
    (re.compile("городской округ", re.IGNORECASE), "ГО"),
    (re.compile("муниципальный округ", re.IGNORECASE), "МО"),
    (re.compile("муниципальный район", re.IGNORECASE), "МР"),
)


def short_name(name: str) -> str:
    for pattern, short in _KIND_WORDS:
        name = pattern.sub(short, name)
    return name


def format_hours(hours: tuple[int, int]) -> str:
    return f"{hours[0]:02d}:00–{hours[1]:02d}:00"


def _mark(chosen: bool) -> str:
    return CHECK if chosen else ""


def subscriptions_of(ctx: Context) -> SubscriptionService:
    return ctx.services.subscriptions


def citizen_id(ctx: Context) -> int:
    assert ctx.citizen is not None
    return ctx.citizen.id


def pairs(buttons: list[Button]) -> list[tuple[Button, ...]]:
    return [tuple(buttons[index : index + 2]) for index in range(0, len(buttons), 2)]


def listed_sectors(ctx: Context) -> list[str]:
    """The topics one can subscribe to: every sector but "other"."""
    return [s for s in ctx.services.catalog.sectors if s != OTHER_SECTOR]


# Entering and leaving the search step ---------------------------------------------------------------


def leave_search(ctx: Context) -> None:
    """Stop taking texts as place names (the municipalities are no longer on screen)."""
    if ctx.state.get("dialog") == DIALOG:
        ctx.state.clear()


def _enter_search(ctx: Context, page: int) -> bool:
    """Take the next text as a place name, unless that would drop another dialog (a report draft)."""
    if ctx.state.get("dialog") == DIALOG:
        ctx.data["page"] = page
        return True
    if ctx.state.get("step"):
        return False
    start_dialog(ctx, DIALOG, SEARCH_STEP, {"page": page})
    return True


# Views ----------------------------------------------------------------------------------------------


def _names(ctx: Context, subs: Subscriptions, scope: str) -> str:
    """The municipalities or topics chosen, as the screen lists them."""
    catalog = ctx.services.catalog
    if scope == MUNICIPALITY:
        if subs.all_municipalities:
            return ctx.label(Text("subs-all-region"))
        directory = catalog.municipalities
        names = [m.name for m in directory.all() if m.id in subs.municipalities]
    else:
        if subs.all_sectors:
            return ctx.label(Text("subs-all-sectors"))
        names = [s.name(ctx.lang) for s in catalog.sectors.values() if s.id in subs.sectors]
    if not names:
        return ctx.label(Text("subs-nothing"))
    shown = ", ".join(names[:MAX_NAMES_SHOWN])
    if len(names) > MAX_NAMES_SHOWN:
        shown += " " + ctx.label(Text("subs-and-more", {"count": len(names) - MAX_NAMES_SHOWN}))
    return shown


def _quiet_line(subs: Subscriptions) -> Text:
    if subs.quiet is None:
        return Text("subs-line-quiet-off")
    return Text("subs-line-quiet", {"hours": format_hours(subs.quiet)})


async def screen(ctx: Context) -> list[View]:
    """What the citizen is subscribed to, and the doors to change it."""
    if ctx.citizen is None:
        return []
    subs = await subscriptions_of(ctx).of(ctx.citizen.id)
    if subs.active:
        lines = [
            Text("subs-title-on"),
            Text("subs-line-municipalities", {"names": _names(ctx, subs, MUNICIPALITY)}),
            Text("subs-line-sectors", {"names": _names(ctx, subs, SECTOR)}),
        ]
    else:
        lines = [Text("subs-title-off")]
    lines.append(_quiet_line(subs))
    rows: list[tuple[Button, ...]] = [
        (
            Button(f"{SCOPE}:m:0", Text("btn-subs-municipalities")),
            Button(f"{SCOPE}:s", Text("btn-subs-sectors")),
        ),
        (Button(f"{SCOPE}:q", Text("btn-subs-quiet")),),
    ]
    if subs.active:
        rows.append((Button(UNSUBSCRIBE, Text("btn-subs-off")),))
    rows.append((Button(button_id(Scope.MENU, "home"), Text("btn-menu")),))
    return [View(tuple(lines), tuple(rows))]


async def _ordered_municipalities(ctx: Context) -> list[str]:
    """Every municipality, those of the citizen's own reports first."""
    directory = ctx.services.catalog.municipalities
    own = [m for m in await subscriptions_of(ctx).report_municipalities(citizen_id(ctx)) if directory.get(m)]
    return own + [m.id for m in directory.all() if m.id not in own]


def municipality_button(ctx: Context, subs: Subscriptions, page: int, municipality_id: str) -> Button:
    found = ctx.services.catalog.municipalities.get(municipality_id)
    name = short_name(found.name) if found is not None else municipality_id
    chosen = municipality_id in subs.municipalities
    return Button(f"{SCOPE}:mt:{page}:{municipality_id}", Text.raw(_mark(chosen) + name))


async def municipality_page(ctx: Context, page: int) -> list[View]:
    """One page of the municipalities to toggle; typing a name searches while it is on screen."""
    if ctx.citizen is None:
        return []
    subs = await subscriptions_of(ctx).of(ctx.citizen.id)
    ordered = await _ordered_municipalities(ctx)
    pages = max(1, math.ceil(len(ordered) / PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    lines = [
        Text("subs-muni-title", {"page": page + 1, "pages": pages}),
        Text("subs-chosen", {"names": _names(ctx, subs, MUNICIPALITY)}),
    ]
    if _enter_search(ctx, page):
        lines.append(Text("subs-muni-search-hint"))
    rows: list[tuple[Button, ...]] = []
    if page == 0:
        region = Text("btn-subs-region", {"mark": _mark(ALL in subs.municipalities)})
        rows.append((Button(f"{SCOPE}:mt:0:{ALL}", region),))
    chunk = ordered[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    rows += pairs([municipality_button(ctx, subs, page, m) for m in chunk])
    paging: list[Button] = []
    if page > 0:
        paging.append(Button(f"{SCOPE}:m:{page - 1}", Text("btn-subs-prev", {"page": page})))
    if page + 1 < pages:
        paging.append(Button(f"{SCOPE}:m:{page + 1}", Text("btn-subs-next", {"page": page + 2})))
    if paging:
        rows.append(tuple(paging))
    rows.append((Button(f"{SCOPE}:show", Text("btn-back")),))
    return [View(tuple(lines), tuple(rows))]


async def sectors_view(ctx: Context) -> list[View]:
    """The topics to toggle, and "all topics"."""
    if ctx.citizen is None:
        return []
    subs = await subscriptions_of(ctx).of(ctx.citizen.id)
    catalog = ctx.services.catalog
    lines = [Text("subs-sectors-title"), Text("subs-chosen", {"names": _names(ctx, subs, SECTOR)})]
    rows: list[tuple[Button, ...]] = [
        (Button(f"{SCOPE}:st:{ALL}", Text("btn-subs-all-sectors", {"mark": _mark(ALL in subs.sectors)})),)
    ]
    rows += pairs(
        [
            Button(
                f"{SCOPE}:st:{sector_id}",
                Text.raw(_mark(sector_id in subs.sectors) + catalog.sector(sector_id).name(ctx.lang)),
            )
            for sector_id in listed_sectors(ctx)
        ]
    )
    rows.append((Button(f"{SCOPE}:show", Text("btn-back")),))
    return [View(tuple(lines), tuple(rows))]


async def quiet_view(ctx: Context) -> list[View]:
    """Quiet hours: three choices and "off"."""
    if ctx.citizen is None:
        return []
    subs = await subscriptions_of(ctx).of(ctx.citizen.id)
    rows: list[tuple[Button, ...]] = [
        (
            Button(
                f"{SCOPE}:qs:{key}",
                Text(
                    "btn-subs-quiet-hours", {"mark": _mark(subs.quiet == hours), "hours": format_hours(hours)}
                ),
            ),
        )
        for key, hours in QUIET_CHOICES.items()
    ]
    rows.append(
        (Button(f"{SCOPE}:qs:{QUIET_OFF}", Text("btn-subs-quiet-off", {"mark": _mark(subs.quiet is None)})),)
    )
    rows.append((Button(f"{SCOPE}:show", Text("btn-back")),))
    return [View((Text("subs-quiet-title"),), tuple(rows))]


def unsubscribed_view(ctx: Context) -> View:
    rows: list[tuple[Button, ...]] = [(Button(f"{SCOPE}:show", Text("btn-subs-again")),)]
    if ctx.state.get("step"):
        # A report draft (or another dialog) is open: one tap back to it.
        rows.append((Button(button_id(Scope.MENU, "resume"), Text("btn-resume")),))
    else:
        rows.append((Button(button_id(Scope.MENU, "home"), Text("btn-menu")),))
    return View((Text("subs-unsubscribed"),), tuple(rows))


async def offer_after_report(ctx: Context, municipality_id: str | None) -> list[View]:
    """After a filed report: offer notices about its municipality, once per person."""
    if ctx.citizen is None or not await subscriptions_of(ctx).offer_once(ctx.citizen.id):
        return []
    found = ctx.services.catalog.municipalities.get(municipality_id) if municipality_id else None
    if found is None:
        yes = Button(f"{SCOPE}:yes", Text("btn-subs-offer-yes"))
        text = Text("subs-offer-anywhere")
    else:
        if (await subscriptions_of(ctx).of(ctx.citizen.id)).covers_municipality(found.id):
            return []
        yes = Button(f"{SCOPE}:yes:{found.id}", Text("btn-subs-offer-yes"))
        text = Text("subs-offer", {"place": found.name})
    return [View((text,), ((yes, Button(f"{SCOPE}:no", Text("btn-subs-offer-no"))),))]


# Reactions ------------------------------------------------------------------------------------------
