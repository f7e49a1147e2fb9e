"""After filing: a citizen's messages about an open report go to its operators, and the citizen
answers "Solved?" for an answered report."""

from __future__ import annotations

import uuid

from bot.core.buttons import FeedbackAnswer, Rating
from bot.core.messages import Button, InboundKind, Text, View
from bot.services.reports.access import ActionRefused
from bot.services.reports.lifecycle import OPEN_STATUSES, Status
from dialogs.engine import Context, Step, Transition, start_dialog

DIALOG = "relay"
MAX_RELAY_CHARS = 4000


async def open_reports(ctx: Context) -> list[tuple[int, str]]:
    """(id, number) of the citizen's reports that operators still work on."""
    if ctx.citizen is None:
        return []
    cards = await ctx.services.reports.list_for_citizen(ctx.citizen.id, limit=20)
    return [(c.id, c.number) for c in cards if Status(c.status) in OPEN_STATUSES]


async def relay(ctx: Context, report_id: int, text: str, photos: list[str]) -> list[View]:
    assert ctx.citizen is not None and ctx.services.actions is not None
    try:
        await ctx.services.actions.relay_to_topic(
            report_id, ctx.citizen.id, text[:MAX_RELAY_CHARS], tuple(photos), uuid.uuid4().hex
        )
    except ActionRefused:
        return [View.of("relay-report-closed")]
    return [View.of("relay-sent")]


async def follow_up(ctx: Context) -> list[View] | None:
    """Relay free text/photos outside a dialog to the citizen's open report; None when there is none."""
    inbound = ctx.inbound
    if ctx.services.actions is None or inbound.kind not in (InboundKind.TEXT, InboundKind.PHOTOS):
        return None
    text = inbound.text.strip()
    if not text and not inbound.photos:
        return None
    reports = await open_reports(ctx)
    if not reports:
        return None
    if len(reports) == 1:
        return await relay(ctx, reports[0][0], text, list(inbound.photos))
    start_dialog(ctx, DIALOG, PickReportStep.name, {"text": text, "photos": list(inbound.photos)})
    return await PickReportStep().prompt(ctx)


class PickReportStep(Step):
    expired_key = None
    name = "r.pick"
    has_back = False

    async def prompt(self, ctx: Context) -> list[View]:
        rows = [
            (Button(f"{self.name}:{report_id}", Text("relay-pick-item", {"number": number})),)
            for report_id, number in await open_reports(ctx)
        ]
        return [View((Text("relay-pick"),), (*rows, self.nav_row()))]

    async def on_input(self, ctx: Context) -> Transition:
        return Transition.stay(View.of("intake-use-buttons"), *await self.prompt(ctx))

    async def on_button(self, ctx: Context, value: str) -> Transition:
        allowed = {str(report_id) for report_id, _ in await open_reports(ctx)}
        if value not in allowed:
            return await super().on_button(ctx, value)
        data = ctx.data
        views = await relay(ctx, int(value), str(data.get("text", "")), list(data.get("photos", [])))
        return Transition.end(*views)


async def on_feedback(ctx: Context, value: str) -> list[View]:
    """Buttons "fb:yes:<id>" / "fb:no:<id>" under an answer (`FeedbackAnswer`)."""
    answer = FeedbackAnswer.unpack(value)
    if ctx.citizen is None or ctx.services.actions is None or answer is None:
        return [View.of("button-outdated")]
    try:
        report = await ctx.services.actions.citizen_feedback(
            answer.report_id, ctx.citizen.id, answer.solved, None
        )
    except ActionRefused:
        return [View.of("feedback-not-expected")]
    if not answer.solved:
        return [View.of("feedback-reopened")]
    stars = tuple(
        Button(Rating(report.id, n).pack(), Text.raw("⭐" * n if n < 3 else f"{n} ⭐")) for n in range(1, 6)
    )
    return [
        View.of("feedback-closed"),
        View((Text("rate-prompt", {"number": report.number or ""}),), (stars,)),
    ]


async def on_rate(ctx: Context, value: str) -> list[View]:
    """Buttons "rate:<id>:<1-5>" (`Rating`): store the rating, then offer an optional comment."""
    rating = Rating.unpack(value)
    if ctx.citizen is None or ctx.services.actions is None or rating is None:
        return [View.of("button-outdated")]
    try:
        await ctx.services.actions.rate(rating.report_id, ctx.citizen.id, rating.stars, None)
    except ActionRefused:
        return [View.of("feedback-not-expected")]
    start_dialog(
        ctx, "rating", RatingCommentStep.name, {"report_id": rating.report_id, "stars": rating.stars}
    )
    return await RatingCommentStep().prompt(ctx)


class RatingCommentStep(Step):
    expired_key = None
    name = "rt.comment"
    has_back = False

    async def prompt(self, ctx: Context) -> list[View]:
        return [View((Text("rate-thanks"),), ((Button(f"{self.name}:skip", Text("btn-skip-comment")),),))]

    async def on_input(self, ctx: Context) -> Transition:
        text = ctx.inbound.text.strip() if ctx.inbound.kind is InboundKind.TEXT else ""
        if not text or ctx.citizen is None or ctx.services.actions is None:
            return Transition.stay(*await self.prompt(ctx))
        try:
            await ctx.services.actions.rate(
                int(ctx.data["report_id"]), ctx.citizen.id, int(ctx.data["stars"]), text
            )
        except ActionRefused:
            return Transition.end(View.of("feedback-not-expected"))
        return Transition((View.of("rate-comment-saved"),), done=True, menu=True)

    async def on_button(self, ctx: Context, value: str) -> Transition:
        if value == "skip":
            return Transition((View.of("rate-done"),), done=True, menu=True)
        return await super().on_button(ctx, value)
