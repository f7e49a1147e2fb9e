"""Before filing: the same problem may be reported already. Up to three open reports near the
place, of the same sector and alike in words, are offered by neutral title; «Это моя проблема»
joins the citizen to one, «Нет, другое» files as usual."""

from __future__ import annotations

from bot.core.messages import Button, Text, View
from bot.services.incidents.desk import Joined
from bot.services.incidents.nearby import Probe
from bot.services.reports.filing import ReportDraft
from dialogs.engine import Context, Step, Transition


async def after_sector(ctx: Context, next_step: str) -> Transition:
    """Go to the offer when there are reports to join, else straight on to `next_step`."""
    desk = ctx.services.incidents
    data = ctx.data
    data.pop("join", None)
    if desk is None or ctx.citizen is None or not data.get("municipality"):
        return Transition.to(next_step)
    probe = Probe(
        str(data["sector"]),
        data.get("municipality"),
        data.get("address"),
        data.get("lat"),
        data.get("lon"),
        str(data.get("text", "")),
    )
    offers = await desk.offers(ctx.citizen.id, probe, ctx.lang)
    if not offers:
        return Transition.to(next_step)
    data["offers"] = [
        {
            "id": o.report_id,
            "number": o.number,
            "title": o.title,
            "status": o.status,
            "reporters": o.reporters,
        }
        for o in offers
    ]
    data["after_offer"] = next_step
    return Transition.to(SameProblemStep.name)


class SameProblemStep(Step):
    name = "i.same"

    async def prompt(self, ctx: Context) -> list[View]:
        lines: list[Text] = [Text("intake-same-prompt")]
        rows: list[tuple[Button, ...]] = []
        for offer in ctx.data.get("offers", []):
            lines.append(
                Text(
                    "intake-same-line",
                    {
                        "number": offer["number"],
                        "title": offer["title"],
                        "reporters": offer["reporters"],
                        "status": offer["status"],
                    },
                )
            )
            rows.append(
                (Button(f"{self.name}:{offer['id']}", Text("btn-same-mine", {"number": offer["number"]})),)
            )
        rows.append((Button(f"{self.name}:no", Text("btn-same-other")),))
        rows.append(self.nav_row())
        return [View(tuple(lines), tuple(rows))]

    async def on_input(self, ctx: Context) -> Transition:
        return Transition.stay(View.of("intake-use-buttons"), *await self.prompt(ctx))

    async def on_button(self, ctx: Context, value: str) -> Transition:
        data = ctx.data
        next_step = str(data.get("after_offer", ""))
        if value == "no" and next_step:
            data.pop("join", None)
            return Transition.to(next_step)
        # Only an offered report can be joined: the id came back from the client.
        offered = {str(o["id"]): o for o in data.get("offers", [])}
        if value not in offered or not next_step:
            return await super().on_button(ctx, value)
        data["join"] = int(value)
        return Transition.to(next_step, View.of("intake-same-chosen", number=offered[value]["number"]))


async def file_joined(ctx: Context, draft: ReportDraft) -> list[View] | None:
    """File as a follower of the chosen report; None when none was chosen or it can no longer be
    joined (closed or merged meanwhile), and the report is filed as usual."""
    lead_id = ctx.data.get("join")
    desk = ctx.services.incidents
    if lead_id is None or desk is None:
        return None
    joined: Joined | None = await desk.join(draft, int(lead_id))
    if joined is None:
        return None
    return [
        View.of(
            "intake-joined",
            number=joined.filed.number,
            lead=joined.lead_number,
            status=joined.status,
            reporters=joined.reporters,
        )
    ]
