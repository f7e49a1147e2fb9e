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

from bot.core.messages import Button, InboundKind, Text, View
from bot.services.citizens.subscriptions import ALL, MUNICIPALITY, SECTOR
from dialogs.engine import Context, Dialogs, Step, Transition
from dialogs.notices_screens import (
    QUIET_CHOICES,
    QUIET_OFF,
    SCOPE,
    SEARCH_STEP,
    citizen_id,
    format_hours,
    leave_search,
    listed_sectors,
    municipality_button,
    municipality_page,
    pairs,
    quiet_view,
    screen,
    sectors_view,
    subscriptions_of,
    unsubscribed_view,
)

MAX_PAGE_DIGITS = 3
# A place name is short; a longer message is something else (a follow-up about a report).
MAX_SEARCH_CHARS = 48
MAX_SEARCH_WORDS = 4
MAX_FOUND = 6


async def _outdated(ctx: Context) -> list[View]:
    leave_search(ctx)
    return [View.of("button-outdated"), *await screen(ctx)]


def _page_number(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and len(raw) <= MAX_PAGE_DIGITS else None


async def unsubscribe(ctx: Context) -> list[View]:
    """One tap under a notice: no more notices, whatever the citizen was doing."""
    leave_search(ctx)
    await subscriptions_of(ctx).unsubscribe_all(citizen_id(ctx))
    return [unsubscribed_view(ctx)]


async def _toggle_municipality(ctx: Context, arg: str) -> list[View]:
    raw_page, _, municipality_id = arg.partition(":")
    page = _page_number(raw_page)
    if page is None or not subscriptions_of(ctx).is_valid(MUNICIPALITY, municipality_id):
        return await _outdated(ctx)
    await subscriptions_of(ctx).toggle(citizen_id(ctx), MUNICIPALITY, municipality_id)
    return await municipality_page(ctx, page)


async def _toggle_sector(ctx: Context, sector_id: str) -> list[View]:
    if sector_id != ALL and sector_id not in listed_sectors(ctx):
        return await _outdated(ctx)
    await subscriptions_of(ctx).toggle(citizen_id(ctx), SECTOR, sector_id)
    return await sectors_view(ctx)


async def _set_quiet(ctx: Context, choice: str) -> list[View]:
    if choice == QUIET_OFF:
        await subscriptions_of(ctx).set_quiet(citizen_id(ctx), None)
        return [View.of("subs-quiet-off"), *await screen(ctx)]
    hours = QUIET_CHOICES.get(choice)
    if hours is None:
        return await _outdated(ctx)
    await subscriptions_of(ctx).set_quiet(citizen_id(ctx), hours)
    return [View.of("subs-quiet-set", hours=format_hours(hours)), *await screen(ctx)]


async def _accept_offer(ctx: Context, municipality_id: str) -> list[View]:
    if not municipality_id:
        # The report's place was unknown: let the citizen pick.
        return await municipality_page(ctx, 0)
    found = ctx.services.catalog.municipalities.get(municipality_id)
    if found is None:
        return await _outdated(ctx)
    service, who = subscriptions_of(ctx), citizen_id(ctx)
    await service.subscribe(who, MUNICIPALITY, found.id)
    if not (await service.of(who)).sectors:
        await service.subscribe(who, SECTOR, ALL)
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
    name = SEARCH_STEP
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
            await subscriptions_of(ctx).subscribe(citizen_id(ctx), MUNICIPALITY, match.best.id)
            return Transition.stay(View.of("subs-muni-added", place=match.best.name), *await self.prompt(ctx))
        if not match.candidates:
            return Transition.stay(View.of("subs-muni-not-found", text=text), *await self.prompt(ctx))
        subs = await subscriptions_of(ctx).of(citizen_id(ctx))
        page = int(ctx.data.get("page", 0))
        found = [municipality_button(ctx, subs, page, m.id) for m in match.candidates[:MAX_FOUND]]
        rows = [*pairs(found), (Button(f"{SCOPE}:m:{page}", Text("btn-subs-to-list")),)]
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
