"""Report a problem: text → photos → place → sector → phone → summary → filed."""

from __future__ import annotations

import re
import uuid
from typing import Any

from bot.core.messages import Ask, Button, InboundKind, Text, View
from bot.services.catalog import OTHER_SECTOR
from bot.services.geo import GeoMatch
from bot.services.reports.filing import ReportDraft
from bot.services.reports.lifecycle import MAX_PHOTOS
from dialogs.engine import Context, Step, Transition, start_dialog
from dialogs.incident_offer import SameProblemStep, after_sector, file_joined
from dialogs.notices_screens import offer_after_report

DIALOG = "intake"
MIN_TEXT_CHARS = 15
MIN_TEXT_WORDS = 3
# Telegram splits long texts into 4096-char messages; a citizen may send several. The cap only
# stops abuse: a genuine report is far below it and is stored whole.
MAX_TEXT_CHARS = 20_000
MAX_ADDRESS_CHARS = 500
SUMMARY_TEXT_CHARS = 1_200
MAX_CANDIDATES = 6
# Below this calibrated probability the citizen picks from the top three (and "all topics")
# instead of confirming one guess: on the development set guesses under 0.6 are right about
# half the time, guesses above it two times in three or more.
UNSURE_CONFIDENCE = 0.6
PHONE_DIGITS = re.compile(r"\d")


def begin(ctx: Context) -> None:
    """Start a fresh intake draft; its key makes filing it idempotent."""
    start_dialog(ctx, DIALOG, TextStep.name, {"key": uuid.uuid4().hex, "photos": []})


def _word_count(text: str) -> int:
    return len([w for w in re.split(r"\W+", text) if w])


def _add_photos(data: dict[str, Any], photos: tuple[str, ...]) -> int:
    """Add photos up to the limit; returns how many did not fit."""
    have: list[str] = data.setdefault("photos", [])
    room = MAX_PHOTOS - len(have)
    have.extend(photos[: max(room, 0)])
    return max(len(photos) - max(room, 0), 0)


class TextStep(Step):
    name = "i.text"
    has_back = False

    async def prompt(self, ctx: Context) -> list[View]:
        return [View((Text("intake-text-prompt"),), ((self.nav_row()),))]

    async def on_input(self, ctx: Context) -> Transition:
        inbound = ctx.inbound
        if inbound.kind is InboundKind.PHOTOS and not inbound.text.strip():
            dropped = _add_photos(ctx.data, inbound.photos)
            return Transition.stay(
                View.of("intake-photo-before-text", count=len(ctx.data["photos"]), dropped=dropped)
            )
        if inbound.kind not in (InboundKind.TEXT, InboundKind.PHOTOS):
            return Transition.stay(View.of("intake-text-needed", media=inbound.media or inbound.kind.value))
        text = inbound.text.strip()
        if not text:
            return Transition.stay(View.of("intake-text-empty"))
        if len(text) < MIN_TEXT_CHARS or _word_count(text) < MIN_TEXT_WORDS:
            return Transition.stay(View.of("intake-text-too-short", min=MIN_TEXT_CHARS))
        if len(text) > MAX_TEXT_CHARS:
            return Transition.stay(View.of("intake-text-too-long", max=MAX_TEXT_CHARS, length=len(text)))
        ctx.data["text"] = text
        if inbound.kind is InboundKind.PHOTOS:
            _add_photos(ctx.data, inbound.photos)
        return Transition.to(PhotosStep.name)


class PhotosStep(Step):
    name = "i.photos"

    async def prompt(self, ctx: Context) -> list[View]:
        count = len(ctx.data.get("photos", []))
        key = "btn-next" if count else "btn-skip-photos"
        return [
            View(
                (Text("intake-photos-prompt", {"count": count, "max": MAX_PHOTOS}),),
                ((Button(f"{self.name}:next", Text(key)),), self.nav_row()),
            )
        ]

    async def on_input(self, ctx: Context) -> Transition:
        inbound = ctx.inbound
        if inbound.kind is InboundKind.PHOTOS:
            dropped = _add_photos(ctx.data, inbound.photos)
            if inbound.text.strip():
                self._append_text(ctx, inbound.text.strip())
            count = len(ctx.data["photos"])
            if count >= MAX_PHOTOS:
                return Transition.to(
                    WhereStep.name, View.of("intake-photos-full", max=MAX_PHOTOS, dropped=dropped)
                )
            return Transition.stay(*await self.prompt(ctx))
        if inbound.kind is InboundKind.TEXT and inbound.text.strip():
            if not self._append_text(ctx, inbound.text.strip()):
                return Transition.stay(View.of("intake-text-too-long", max=MAX_TEXT_CHARS, length=0))
            return Transition.stay(View.of("intake-text-appended"), *await self.prompt(ctx))
        return Transition.stay(View.of("intake-photos-unsupported"), *await self.prompt(ctx))

    @staticmethod
    def _append_text(ctx: Context, extra: str) -> bool:
        # A long description arrives as several messages; they belong together.
        text = str(ctx.data.get("text", ""))
        if len(text) + len(extra) + 1 > MAX_TEXT_CHARS:
            return False
        ctx.data["text"] = f"{text}\n{extra}" if text else extra
        return True

    async def on_button(self, ctx: Context, value: str) -> Transition:
        if value == "next":
            return Transition.to(WhereStep.name)
        return await super().on_button(ctx, value)


class WhereStep(Step):
    name = "i.where"
    ask = Ask.LOCATION

    async def prompt(self, ctx: Context) -> list[View]:
        rows: list[tuple[Button, ...]] = []
        if ctx.data.get("where_misses", 0) >= 1:
            rows.append((Button(f"{self.name}:unknown", Text("btn-place-unknown")),))
        rows.append(self.nav_row())
        return [View((Text("intake-where-prompt"),), tuple(rows), ask=Ask.LOCATION)]

    async def on_input(self, ctx: Context) -> Transition:
        inbound = ctx.inbound
        directory = ctx.services.catalog.municipalities
        data = ctx.data
        if inbound.kind is InboundKind.LOCATION and inbound.lat is not None and inbound.lon is not None:
            match = directory.by_point(inbound.lat, inbound.lon)
            if match.outside_region:
                return Transition.stay(View.of("intake-where-outside"), *await self.prompt(ctx))
            data.update(lat=inbound.lat, lon=inbound.lon, address=None)
            return self._matched(ctx, match)
        if inbound.kind is InboundKind.TEXT and inbound.text.strip():
            address = inbound.text.strip()[:MAX_ADDRESS_CHARS]
            data.update(address=address, lat=None, lon=None)
            match = directory.by_text(address)
            if match.best is None and not match.candidates:
                data["where_misses"] = int(data.get("where_misses", 0)) + 1
                return Transition.stay(View.of("intake-where-unknown"), *await self.prompt(ctx))
            return self._matched(ctx, match)
        return Transition.stay(View.of("intake-where-needed"), *await self.prompt(ctx))

    def _matched(self, ctx: Context, match: GeoMatch) -> Transition:
        if match.best is not None:
            ctx.data["municipality"] = match.best.id
            return Transition.to(SectorStep.name, View.of("intake-where-found", place=match.best.name))
        ctx.data["candidates"] = [m.id for m in match.candidates[:MAX_CANDIDATES]]
        return Transition.to(MunicipalityStep.name, View.of("intake-where-received"))

    async def on_button(self, ctx: Context, value: str) -> Transition:
        if value == "unknown":
            # The ЦУР triage works out the place from the address text.
            ctx.data["municipality"] = None
            return Transition.to(SectorStep.name, View.of("intake-where-left-to-tsur"))
        return await super().on_button(ctx, value)


class MunicipalityStep(Step):
    name = "i.muni"

    async def prompt(self, ctx: Context) -> list[View]:
        directory = ctx.services.catalog.municipalities
        rows: list[tuple[Button, ...]] = []
        for municipality_id in ctx.data.get("candidates", []):
            found = directory.get(municipality_id)
            if found is not None:
                rows.append((Button(f"{self.name}:{found.id}", Text.raw(found.name)),))
        rows.append((Button(f"{self.name}:none", Text("btn-none-of-these")),))
        rows.append(self.nav_row())
        return [View((Text("intake-muni-prompt"),), tuple(rows))]

    async def on_input(self, ctx: Context) -> Transition:
        return Transition.stay(View.of("intake-use-buttons"), *await self.prompt(ctx))

    async def on_button(self, ctx: Context, value: str) -> Transition:
        if value == "none":
            ctx.data.pop("candidates", None)
            ctx.data["where_misses"] = int(ctx.data.get("where_misses", 0)) + 1
            return Transition.to(WhereStep.name, View.of("intake-muni-type-it"))
        # Only the offered candidates are acceptable: the id came from the client.
        if value not in ctx.data.get("candidates", []):
            return await super().on_button(ctx, value)
        found = ctx.services.catalog.municipalities.get(value)
        if found is None:
            return await super().on_button(ctx, value)
        ctx.data["municipality"] = found.id
        return Transition.to(SectorStep.name, View.of("intake-where-found", place=found.name))


class SectorStep(Step):
    name = "i.sector"

    async def prompt(self, ctx: Context) -> list[View]:
        catalog = ctx.services.catalog
        data = ctx.data
        if "ranked" not in data:
            prediction = ctx.services.classifier.predict(str(data.get("text", "")))
            ranked = [s for s, _ in prediction.ranked if s in catalog.sectors]
            data["ranked"] = ranked
            data["confidence"] = round(prediction.confidence, 4)
            data["guess"] = prediction.sector if prediction.sector in catalog.sectors else OTHER_SECTOR
        if data.get("show_all"):
            rows = [
                (Button(f"{self.name}:{s.id}", Text.raw(s.name(ctx.lang))),) for s in catalog.sectors.values()
            ]
            return [View((Text("intake-sector-all"),), (*rows, self.nav_row()))]
        guess = catalog.sector(str(data["guess"]))
        unsure = float(data["confidence"]) < UNSURE_CONFIDENCE or guess.id == OTHER_SECTOR
        choices = [s for s in data["ranked"] if s != OTHER_SECTOR][:3]
        if not unsure:
            choices = [guess.id, *[s for s in choices if s != guess.id]][:3]
        buttons: list[tuple[Button, ...]] = []
        for index, sector_id in enumerate(choices):
            label = catalog.sector(sector_id).name(ctx.lang)
            key = "btn-sector-yes" if index == 0 and not unsure else "btn-sector"
            buttons.append((Button(f"{self.name}:{sector_id}", Text(key, {"sector": label})),))
        buttons.append(
            (
                Button(f"{self.name}:{OTHER_SECTOR}", Text("btn-sector-other")),
                Button(f"{self.name}:all", Text("btn-sector-all")),
            )
        )
        buttons.append(self.nav_row())
        if unsure:
            return [View((Text("intake-sector-unsure"),), tuple(buttons))]
        return [View((Text("intake-sector-guess", {"sector": guess.name(ctx.lang)}),), tuple(buttons))]

    async def on_input(self, ctx: Context) -> Transition:
        return Transition.stay(View.of("intake-use-buttons"), *await self.prompt(ctx))

    async def on_button(self, ctx: Context, value: str) -> Transition:
        if value == "all":
            ctx.data["show_all"] = True
            return Transition.stay(*await self.prompt(ctx))
        if value not in ctx.services.catalog.sectors:
            return await super().on_button(ctx, value)
        ctx.data["sector"] = value
        ctx.data.pop("show_all", None)
        return await after_sector(ctx, PhoneStep.name)


def normalise_phone(raw: str) -> str | None:
    """A Russian mobile/landline number as +7XXXXXXXXXX, or None when it is not one."""
    digits = "".join(PHONE_DIGITS.findall(raw))
    if len(digits) == 11 and digits[0] in "78":
        digits = digits[1:]
    if len(digits) != 10 or len(raw) > 32:
        return None
    return "+7" + digits


class PhoneStep(Step):
    name = "i.phone"
    ask = Ask.CONTACT

    async def prompt(self, ctx: Context) -> list[View]:
        rows = ((Button(f"{self.name}:skip", Text("btn-skip-phone")),), self.nav_row())
        return [View((Text("intake-phone-prompt"),), rows, ask=Ask.CONTACT)]

    async def on_input(self, ctx: Context) -> Transition:
        inbound = ctx.inbound
        if inbound.kind is InboundKind.CONTACT:
            if not inbound.contact_is_own:
                return Transition.stay(View.of("intake-phone-not-own"), *await self.prompt(ctx))
            phone = normalise_phone(inbound.phone) or inbound.phone.strip()[:32]
        elif inbound.kind is InboundKind.TEXT:
            found = normalise_phone(inbound.text)
            if found is None:
                return Transition.stay(View.of("intake-phone-invalid"), *await self.prompt(ctx))
            phone = found
        else:
            return Transition.stay(View.of("intake-phone-needed"), *await self.prompt(ctx))
        ctx.data["phone"] = phone
        return Transition.to(SummaryStep.name, View.of("intake-phone-saved"))

    async def on_button(self, ctx: Context, value: str) -> Transition:
        if value == "skip":
            ctx.data["phone"] = None
            return Transition.to(SummaryStep.name, View.of("intake-phone-skipped"))
        return await super().on_button(ctx, value)


class SummaryStep(Step):
    name = "i.summary"

    async def prompt(self, ctx: Context) -> list[View]:
        data = ctx.data
        catalog = ctx.services.catalog
        text = str(data.get("text", ""))
        shown = text if len(text) <= SUMMARY_TEXT_CHARS else text[:SUMMARY_TEXT_CHARS] + "…"
        place_parts = [
            p for p in (catalog.municipality_name(data.get("municipality")), data.get("address")) if p
        ]
        lines = [
            Text("intake-summary-title"),
            Text.raw(shown),
            Text("intake-summary-length", {"length": len(text)}) if len(text) > SUMMARY_TEXT_CHARS else None,
            Text("intake-summary-photos", {"count": len(data.get("photos", []))}),
            Text("intake-summary-place", {"place": ", ".join(place_parts)})
            if place_parts
            else Text("intake-summary-place-unknown"),
            Text("intake-summary-sector", {"sector": catalog.sector(str(data.get("sector"))).name(ctx.lang)}),
            Text("intake-summary-phone", {"phone": data["phone"]})
            if data.get("phone")
            else Text("intake-summary-no-phone"),
            Text("intake-summary-confirm"),
        ]
        rows = ((Button(f"{self.name}:confirm", Text("btn-confirm")),), self.nav_row())
        return [View(tuple(line for line in lines if line is not None), rows)]

    async def on_input(self, ctx: Context) -> Transition:
        return Transition.stay(View.of("intake-use-buttons"), *await self.prompt(ctx))

    async def on_button(self, ctx: Context, value: str) -> Transition:
        if value != "confirm" or ctx.citizen is None:
            return await super().on_button(ctx, value)
        data = ctx.data
        draft = ReportDraft(
            intake_key=str(data["key"]),
            platform=ctx.inbound.platform,
            citizen_id=ctx.citizen.id,
            language=ctx.lang,
            text=str(data["text"]),
            photos=list(data.get("photos", [])),
            latitude=data.get("lat"),
            longitude=data.get("lon"),
            address=data.get("address"),
            municipality_id=data.get("municipality"),
            sector_id=str(data.get("sector", OTHER_SECTOR)),
            classifier_sector=data.get("guess"),
            classifier_confidence=data.get("confidence"),
            phone=data.get("phone"),
        )
        joined = await file_joined(ctx, draft)
        if joined is not None:
            return Transition(tuple(joined), done=True, menu=True)
        filed = await ctx.services.reports.file(draft)
        body = ctx.services.catalog.body(filed.body_id).name(ctx.lang)
        views = [
            View.of(
                "intake-filed",
                number=filed.number,
                body=body,
                first=ctx.datetime(filed.first_reaction_due),
                due=ctx.date(filed.answer_due),
            ),
            # Once per person: notices about the report's municipality.
            *await offer_after_report(ctx, data.get("municipality")),
        ]
        return Transition(tuple(views), done=True, menu=True)


INTAKE_STEPS: tuple[type[Step], ...] = (
    TextStep,
    PhotosStep,
    WhereStep,
    MunicipalityStep,
    SectorStep,
    SameProblemStep,
    PhoneStep,
    SummaryStep,
)
