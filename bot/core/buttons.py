"""Button ids shared across rooms: the global scopes and the typed ids services put under messages.

A button id is "<scope>:<value>". A step's own buttons use the step's name as the scope and stay
inside its module; the scopes here answer from any state (a menu, a notice, an answer to a report),
so whoever builds such a button (a service writing a notice or an answer into the outbox) and the
dialog that reacts to it must agree on one spelling, which lives here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# Report ids are database serials; twelve digits leave room for decades and keep ids short.
MAX_ID_DIGITS = 12


class Scope(StrEnum):
    """The global button scopes the citizen dialogs register."""

    MENU = "menu"
    CONSENT = "consent"
    LANGUAGE = "lang"
    FORGET = "forget"
    MY_REPORTS = "my"
    LINK = "link"
    NOTICES = "ns"
    FEEDBACK = "fb"
    RATING = "rate"


def button_id(scope: Scope | str, *parts: object) -> str:
    """ "scope:part:part…", the id a pressed button comes back with."""
    return ":".join((str(scope), *(str(part) for part in parts)))


# Under every notice and in the subscriptions menu: stop receiving notices.
UNSUBSCRIBE = button_id(Scope.NOTICES, "off")


def _report_id(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) <= MAX_ID_DIGITS else None


@dataclass(frozen=True)
class FeedbackAnswer:
    """ "fb:yes|no:<report>": the citizen's answer to "is it solved?" under an operator's answer."""

    report_id: int
    solved: bool

    def pack(self) -> str:
        return button_id(Scope.FEEDBACK, "yes" if self.solved else "no", self.report_id)

    @classmethod
    def unpack(cls, value: str) -> FeedbackAnswer | None:
        """The answer from the part after the scope; None for anything malformed."""
        answer, _, report = value.partition(":")
        report_id = _report_id(report)
        if answer not in ("yes", "no") or report_id is None:
            return None
        return cls(report_id, answer == "yes")


@dataclass(frozen=True)
class Rating:
    """ "rate:<report>:<1-5>": the stars a citizen gives a closed report."""

    report_id: int
    stars: int

    def pack(self) -> str:
        return button_id(Scope.RATING, self.report_id, self.stars)

    @classmethod
    def unpack(cls, value: str) -> Rating | None:
        """The rating from the part after the scope; None for anything malformed."""
        report, _, stars = value.partition(":")
        report_id = _report_id(report)
        if report_id is None or stars not in ("1", "2", "3", "4", "5"):
            return None
        return cls(report_id, int(stars))
