"""One member's notice in the making, the steps it moves through, and how the audience changes."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from bot.services.notices.content import Audience, NoticeKind

SOURCE_LIMIT = 500
KINDS = tuple(NoticeKind)
PLATFORMS = ("tg", "vk")

# Draft steps. The ones in TEXT_STEPS wait for the member's next message.
KIND, CLAIM, TEXT, SOURCE, AUDIENCE, MUNICIPALITIES, REPORTS, PREVIEW = (
    "kind",
    "claim",
    "text",
    "source",
    "audience",
    "municipalities",
    "reports",
    "preview",
)
TEXT_STEPS = frozenset({CLAIM, TEXT, SOURCE, MUNICIPALITIES, REPORTS})
AUDIENCE_STEPS = frozenset({AUDIENCE, MUNICIPALITIES, REPORTS})


def draft_key(chat_id: int, user_id: int) -> str:
    """The state-store key of one member's draft in one chat."""
    return f"comms:{chat_id}:{user_id}"


def stored_draft(state: Mapping[str, Any] | None) -> Draft | None:
    """The draft in a member's dialog state, if they have one."""
    data = state.get("data") if state else None
    return Draft.from_json(data) if data else None


def chat_of(key: str) -> int:
    """The chat of a `draft_key`: the chat a notice is composed in is recorded with it."""
    return int(key.split(":")[1])


@dataclass
class Draft:
    """One member's notice in the making, as kept in the state store."""

    serial: int
    step: str
    thread: int | None = None
    kind: str | None = None
    text: str | None = None
    claim: str | None = None
    source: str | None = None
    photo: str | None = None
    audience: dict[str, Any] = field(default_factory=lambda: Audience().to_json())
    # Set once the notice row exists, so a repeated "send" confirms that one instead of a new one.
    notice_id: int | None = None

    @classmethod
    def new(cls, thread: int | None) -> Draft:
        # A random serial: a button of an older or another member's draft never matches.
        return cls(serial=secrets.randbelow(999_999_999) + 1, step=KIND, thread=thread)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Draft:
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def get_audience(self) -> Audience:
        return Audience.from_json(self.audience)

    def set_audience(self, audience: Audience) -> None:
        self.audience = audience.to_json()

    def choose_kind(self, kind: str) -> None:
        """A (new) kind starts the text over; a fact-check asks for the claim first."""
        self.kind = kind
        self.text = self.claim = self.source = self.photo = None
        self.step = CLAIM if kind == NoticeKind.FACTCHECK else TEXT


def toggle_everyone(audience: Audience) -> Audience:
    """Everyone on clears the narrower filters (platforms still narrow it); off keeps them."""
    on = not audience.everyone
    return replace(
        audience,
        everyone=on,
        municipalities=() if on else audience.municipalities,
        sectors=() if on else audience.sectors,
        reports=() if on else audience.reports,
    )


def toggle_sector(audience: Audience, sector: str) -> Audience:
    """Topics narrow subscribers, so choosing one leaves "everyone" and report authors."""
    chosen = [s for s in audience.sectors if s != sector]
    if sector not in audience.sectors:
        chosen.append(sector)
    return replace(audience, everyone=False, reports=(), sectors=tuple(chosen))


def toggle_platform(audience: Audience, platform: str) -> Audience:
    """Messengers narrow whatever else is chosen."""
    platforms = [p for p in audience.platforms if p != platform]
    if platform not in audience.platforms:
        platforms.append(platform)
    return replace(audience, platforms=tuple(platforms))


def with_municipalities(audience: Audience, municipalities: list[str]) -> Audience:
    return replace(audience, everyone=False, reports=(), municipalities=tuple(municipalities))


def with_reports(audience: Audience, reports: list[str]) -> Audience:
    """Report authors get it whatever they subscribed to: the subscription filters go."""
    return replace(audience, everyone=False, municipalities=(), sectors=(), reports=tuple(reports))
