"""My reports: the citizen's list and one report with its history. Stateless: ids ride the buttons,
and every id is checked against the citizen who pressed it."""

from __future__ import annotations

from bot.core.buttons import Scope, button_id
from bot.core.messages import Button, Text, View
from dialogs.engine import Context

PAGE = 5
TEXT_PREVIEW = 700


def _status(ctx: Context, status: str) -> str:
    return ctx.label(Text(f"status-{status}"))


async def show_list(ctx: Context, offset: int) -> list[View]:
    if ctx.citizen is None:
        return []
    reports = ctx.services.reports
    total = await reports.count_for_citizen(ctx.citizen.id)
    if total == 0:
        return [
            View(
                (Text("my-empty"),),
                (
                    (Button(button_id(Scope.MENU, "report"), Text("btn-report")),),
                    (Button(button_id(Scope.MENU, "home"), Text("btn-menu")),),
                ),
            )
        ]
    offset = max(0, min(offset, max(total - 1, 0)))
    cards = await reports.list_for_citizen(ctx.citizen.id, limit=PAGE, offset=offset)
    catalog = ctx.services.catalog
    rows: list[tuple[Button, ...]] = []
    for card in cards:
        label = Text(
            "my-item",
            {
                "number": card.number,
                "sector": catalog.sector(card.sector_id).name(ctx.lang),
                "status": _status(ctx, card.status),
                "date": ctx.local(card.created_at).strftime("%d.%m.%y"),
            },
        )
        rows.append((Button(button_id(Scope.MY_REPORTS, "open", card.id), label),))
    paging: list[Button] = []
    if offset > 0:
        paging.append(Button(button_id(Scope.MY_REPORTS, "list", max(offset - PAGE, 0)), Text("btn-newer")))
    if offset + PAGE < total:
        paging.append(Button(button_id(Scope.MY_REPORTS, "list", offset + PAGE), Text("btn-older")))
    if paging:
        rows.append(tuple(paging))
    rows.append((Button(button_id(Scope.MENU, "home"), Text("btn-menu")),))
    title = Text("my-title", {"total": total, "first": offset + 1, "last": offset + len(cards)})
    return [View((title,), tuple(rows))]


async def show_report(ctx: Context, report_id: int) -> list[View]:
    if ctx.citizen is None:
        return []
    card = await ctx.services.reports.card_for_citizen(ctx.citizen.id, report_id)
    if card is None:
        # Someone else's report, or a made-up id: the same answer, so ids can't be probed.
        return [View.of("my-not-found"), *await show_list(ctx, 0)]
    catalog = ctx.services.catalog
    text = card.text if len(card.text) <= TEXT_PREVIEW else card.text[:TEXT_PREVIEW] + "…"
    place = ", ".join(p for p in (catalog.municipality_name(card.municipality_id), card.address) if p)
    lines = [
        Text(
            "my-report-head",
            {
                "number": card.number,
                "sector": catalog.sector(card.sector_id).name(ctx.lang),
                "status": _status(ctx, card.status),
                "date": ctx.datetime(card.created_at),
                "body": catalog.body(card.body_id).name(ctx.lang),
                "due": ctx.date(card.answer_due),
                "place": place or "—",
                "photos": card.photos,
            },
        ),
        Text.raw(text),
        Text("my-history-title"),
    ]
    for entry in card.history:
        lines.append(
            Text(
                "my-history-line",
                {"at": ctx.datetime(entry.at), "status": _status(ctx, entry.to_status)},
            )
        )
        if entry.comment and entry.to_status not in ("routed",):
            lines.append(Text.raw(f"   {entry.comment}"))
    rows = (
        (Button(button_id(Scope.MY_REPORTS, "list", "0"), Text("btn-back-to-list")),),
        (Button(button_id(Scope.MENU, "home"), Text("btn-menu")),),
    )
    return [View(tuple(lines), rows)]


async def my_reports_scope(ctx: Context, value: str) -> list[View]:
    action, _, arg = value.partition(":")
    if action in ("list", "open") and arg.isdigit() and len(arg) <= 12:
        if action == "list":
            return await show_list(ctx, int(arg))
        return await show_report(ctx, int(arg))
    return [View.of("button-outdated"), *await show_list(ctx, 0)]
