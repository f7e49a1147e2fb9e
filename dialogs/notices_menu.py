"""Subscriptions to notices, the citizen's side: what to hear about (municipalities, topics), quiet
hours, the offer after the first report, and the one-tap unsubscribe under every notice.

Reached from the main menu ("🔔 Уведомления") and by /notices or /subscribe. Every button is in the
global "ns" scope, so it works from any state (an old notice, the middle of a report), carries
what it needs in its id, and is checked before use:
    ns:off              unsubscribe from everything (the button under every notice)
    ns:show             the subscriptions screen
    ns:m:<page>         a page of municipalities; ns:mt:<page>:<id|*> toggles one and shows the page
    ns:s                the topics; ns:st:<id|*> toggles one
    ns:q                quiet hours; ns:qs:<22-8|23-7|21-9|off> sets them
    ns:yes[:<id>]       the offer after a report accepted (subscribes that municipality); ns:no
While the municipalities are on screen (and no other dialog is open) the next short text is taken
as a place name to search for (SearchStep); anything else leaves the list and is handled as usual.
"""

from __future__ import annotations

import math
import re

from bot.core.buttons import UNSUBSCRIBE, Scope, button_id
from bot.core.messages import Button, InboundKind, Text, View
from bot.services.catalog import OTHER_SECTOR
from bot.services.citizens.subscriptions import ALL, MUNICIPALITY, SECTOR, Subscriptions, SubscriptionService
from dialogs.engine import Context, Dialogs, Step, Transition, start_dialog

DIALOG = "subs"
SCOPE = Scope.NOTICES
# The same id bot/services/notices/content.py puts under every notice (kept here to stay free of that module).
# Two per row, three rows, a paging row and Back: one VK inline keyboard (10 buttons, 6 rows).
PAGE_SIZE = 6
MAX_PAGE_DIGITS = 3
# Names listed on the screen before "and N more".
MAX_NAMES_SHOWN = 8
# A place name is short; a longer message is something else (a follow-up about a report).
MAX_SEARCH_CHARS = 48
MAX_SEARCH_WORDS = 4
MAX_FOUND = 6
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


def _service(ctx: Context) -> SubscriptionService:
    return ctx.services.subscriptions


def _citizen_id(ctx: Context) -> int:
    assert ctx.citizen is not None
    return ctx.citizen.id


def _pairs(buttons: list[Button]) -> list[tuple[Button, ...]]:
    return [tuple(buttons[index : index + 2]) for index in range(0, len(buttons), 2)]


def _listed_sectors(ctx: Context) -> list[str]:
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
    start_dialog(ctx, DIALOG, SearchStep.name, {"page": page})
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
    subs = await _service(ctx).of(ctx.citizen.id)
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
    own = [m for m in await _service(ctx).report_municipalities(_citizen_id(ctx)) if directory.get(m)]
    return own + [m.id for m in directory.all() if m.id not in own]


def _municipality_button(ctx: Context, subs: Subscriptions, page: int, municipality_id: str) -> Button:
    found = ctx.services.catalog.municipalities.get(municipality_id)
    name = short_name(found.name) if found is not None else municipality_id
    chosen = municipality_id in subs.municipalities
    return Button(f"{SCOPE}:mt:{page}:{municipality_id}", Text.raw(_mark(chosen) + name))


async def municipality_page(ctx: Context, page: int) -> list[View]:
    """One page of the municipalities to toggle; typing a name searches while it is on screen."""
    if ctx.citizen is None:
        return []
    subs = await _service(ctx).of(ctx.citizen.id)
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
    rows += _pairs([_municipality_button(ctx, subs, page, m) for m in chunk])
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
    subs = await _service(ctx).of(ctx.citizen.id)
    catalog = ctx.services.catalog
    lines = [Text("subs-sectors-title"), Text("subs-chosen", {"names": _names(ctx, subs, SECTOR)})]
    rows: list[tuple[Button, ...]] = [
        (Button(f"{SCOPE}:st:{ALL}", Text("btn-subs-all-sectors", {"mark": _mark(ALL in subs.sectors)})),)
    ]
    rows += _pairs(
        [
            Button(
                f"{SCOPE}:st:{sector_id}",
                Text.raw(_mark(sector_id in subs.sectors) + catalog.sector(sector_id).name(ctx.lang)),
            )
            for sector_id in _listed_sectors(ctx)
        ]
    )
    rows.append((Button(f"{SCOPE}:show", Text("btn-back")),))
    return [View(tuple(lines), tuple(rows))]


async def quiet_view(ctx: Context) -> list[View]:
    """Quiet hours: three choices and "off"."""
    if ctx.citizen is None:
        return []
    subs = await _service(ctx).of(ctx.citizen.id)
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


def _unsubscribed_view(ctx: Context) -> View:
    rows: list[tuple[Button, ...]] = [(Button(f"{SCOPE}:show", Text("btn-subs-again")),)]
    if ctx.state.get("step"):
        # A report draft (or another dialog) is open: one tap back to it.
        rows.append((Button(button_id(Scope.MENU, "resume"), Text("btn-resume")),))
    else:
        rows.append((Button(button_id(Scope.MENU, "home"), Text("btn-menu")),))
    return View((Text("subs-unsubscribed"),), tuple(rows))


async def offer_after_report(ctx: Context, municipality_id: str | None) -> list[View]:
    """After a filed report: offer notices about its municipality, once per person."""
    if ctx.citizen is None or not await _service(ctx).offer_once(ctx.citizen.id):
        return []
    found = ctx.services.catalog.municipalities.get(municipality_id) if municipality_id else None
    if found is None:
        yes = Button(f"{SCOPE}:yes", Text("btn-subs-offer-yes"))
        text = Text("subs-offer-anywhere")
    else:
        if (await _service(ctx).of(ctx.citizen.id)).covers_municipality(found.id):
            return []
        yes = Button(f"{SCOPE}:yes:{found.id}", Text("btn-subs-offer-yes"))
        text = Text("subs-offer", {"place": found.name})
    return [View((text,), ((yes, Button(f"{SCOPE}:no", Text("btn-subs-offer-no"))),))]


# Reactions ------------------------------------------------------------------------------------------


async def _outdated(ctx: Context) -> list[View]:
    leave_search(ctx)
    return [View.of("button-outdated"), *await screen(ctx)]


def _page_number(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and len(raw) <= MAX_PAGE_DIGITS else None


async def unsubscribe(ctx: Context) -> list[View]:
    """One tap under a notice: no more notices, whatever the citizen was doing."""
    leave_search(ctx)
    await _service(ctx).unsubscribe_all(_citizen_id(ctx))
    return [_unsubscribed_view(ctx)]


async def _toggle_municipality(ctx: Context, arg: str) -> list[View]:
    raw_page, _, municipality_id = arg.partition(":")
    page = _page_number(raw_page)
    if page is None or not _service(ctx).is_valid(MUNICIPALITY, municipality_id):
        return await _outdated(ctx)
    await _service(ctx).toggle(_citizen_id(ctx), MUNICIPALITY, municipality_id)
    return await municipality_page(ctx, page)


async def _toggle_sector(ctx: Context, sector_id: str) -> list[View]:
    if sector_id != ALL and sector_id not in _listed_sectors(ctx):
        return await _outdated(ctx)
    await _service(ctx).toggle(_citizen_id(ctx), SECTOR, sector_id)
    return await sectors_view(ctx)


async def _set_quiet(ctx: Context, choice: str) -> list[View]:
    if choice == QUIET_OFF:
        await _service(ctx).set_quiet(_citizen_id(ctx), None)
        return [View.of("subs-quiet-off"), *await screen(ctx)]
    hours = QUIET_CHOICES.get(choice)
    if hours is None:
        return await _outdated(ctx)
    await _service(ctx).set_quiet(_citizen_id(ctx), hours)
    return [View.of("subs-quiet-set", hours=format_hours(hours)), *await screen(ctx)]


async def _accept_offer(ctx: Context, municipality_id: str) -> list[View]:
    if not municipality_id:
        # The report's place was unknown: let the citizen pick.
        return await municipality_page(ctx, 0)
    found = ctx.services.catalog.municipalities.get(municipality_id)
    if found is None:
        return await _outdated(ctx)
    service, citizen_id = _service(ctx), _citizen_id(ctx)
    await service.subscribe(citizen_id, MUNICIPALITY, found.id)
    if not (await service.of(citizen_id)).sectors:
        await service.subscribe(citizen_id, SECTOR, ALL)
    return [View.of("subs-offer-accepted", place=found.name), *await screen(ctx)]


async def on_notices(ctx: Context, value: str) -> list[View]:
    """Every "ns:..." button (see the module docstring)."""
    if ctx.citizen is None:
        return []
    action, _, arg = value.partition(":")
    if action == "off" and not arg:
        return await unsubscribe(ctx)
    if action == "m":
        page = _page_number(arg)
        return await (municipality_page(ctx, page) if page is not None else _outdated(ctx))
    if action == "mt":
        return await _toggle_municipality(ctx, arg)
    if action == "yes":
        return await _accept_offer(ctx, arg)
    # Everything else takes the municipalities off the screen.
    leave_search(ctx)
    if action == "show" and not arg:
        return await screen(ctx)
    if action == "s" and not arg:
        return await sectors_view(ctx)
    if action == "st":
        return await _toggle_sector(ctx, arg)
    if action == "q" and not arg:
        return await quiet_view(ctx)
    if action == "qs":
        return await _set_quiet(ctx, arg)
    if action == "no" and not arg:
        return [View.of("subs-offer-declined")]
    return await _outdated(ctx)


async def on_notices_command(ctx: Context) -> list[View]:
    """/notices and /subscribe."""
    leave_search(ctx)
    return await screen(ctx)


class SearchStep(Step):
    """The municipalities are on screen: a short text is a place name to find and subscribe to."""

    expired_key = None
    name = "ns.find"
    has_back = False

    async def prompt(self, ctx: Context) -> list[View]:
        return await municipality_page(ctx, int(ctx.data.get("page", 0)))

    async def on_input(self, ctx: Context) -> Transition:
        inbound = ctx.inbound
        text = inbound.text.strip() if inbound.kind is InboundKind.TEXT else ""
        if not text or len(text) > MAX_SEARCH_CHARS or len(text.split()) > MAX_SEARCH_WORDS:
            return await self._not_a_search(ctx)
        match = ctx.services.catalog.municipalities.by_text(text)
        if match.best is not None:
            await _service(ctx).subscribe(_citizen_id(ctx), MUNICIPALITY, match.best.id)
            return Transition.stay(View.of("subs-muni-added", place=match.best.name), *await self.prompt(ctx))
        if not match.candidates:
            return Transition.stay(View.of("subs-muni-not-found", text=text), *await self.prompt(ctx))
        subs = await _service(ctx).of(_citizen_id(ctx))
        page = int(ctx.data.get("page", 0))
        found = [_municipality_button(ctx, subs, page, m.id) for m in match.candidates[:MAX_FOUND]]
        rows = [*_pairs(found), (Button(f"{SCOPE}:m:{page}", Text("btn-subs-to-list")),)]
        return Transition.stay(View((Text("subs-muni-pick", {"text": text}),), tuple(rows)))

    @staticmethod
    async def _not_a_search(ctx: Context) -> Transition:
        # Not a place name (a photo, a long message): leave the list and handle it as any message
        # outside a dialog, e.g. a follow-up about an open report.
        ctx.state.clear()
        dialogs = ctx.dialogs
        if dialogs.on_idle is not None:
            handled = await dialogs.on_idle(ctx)
            if handled is not None:
                # on_idle may have started its own dialog: "stay" keeps whatever state it set.
                return Transition.stay(*handled)
        key = "idle-unsupported" if ctx.inbound.kind is InboundKind.UNSUPPORTED else "idle-hint"
        menu = [dialogs.main_menu(ctx)] if dialogs.main_menu is not None else []
        return Transition.stay(View.of(key), *menu)


def register(dialogs: Dialogs) -> None:
    """The search step, the "ns" scope (any state, after consent) and /notices, /subscribe."""
    dialogs.add_step(SearchStep())
    dialogs.scopes[SCOPE] = on_notices
    dialogs.commands["notices"] = on_notices_command
    dialogs.commands["subscribe"] = on_notices_command
