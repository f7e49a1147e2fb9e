"""Platform-neutral input and output of dialogs: what a citizen sent, what to show them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.core.i18n import RAW_KEY

# Telegram allows 64 bytes of callback data; VK payloads are small too. Ids stay well below.
MAX_BUTTON_ID_BYTES = 60


class Ask(StrEnum):
    """A special input the view asks for, rendered natively by each messenger."""

    NONE = "none"
    LOCATION = "location"
    CONTACT = "contact"


class InboundKind(StrEnum):
    TEXT = "text"
    COMMAND = "command"
    PHOTOS = "photos"
    LOCATION = "location"
    CONTACT = "contact"
    BUTTON = "button"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class Text:
    """A localisable text: a message id and its arguments."""

    key: str
    args: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def raw(cls, text: str) -> Text:
        """Words shown exactly as given (a citizen's description, a place name)."""
        return cls(RAW_KEY, {"text": text})


@dataclass(frozen=True)
class Button:
    """A button: the id comes back in an Inbound of kind BUTTON when pressed."""

    id: str
    label: Text

    def __post_init__(self) -> None:
        if len(self.id.encode()) > MAX_BUTTON_ID_BYTES:
            raise ValueError(f"button id too long: {self.id!r}")


@dataclass(frozen=True)
class View:
    """One message to show: lines of text, rows of buttons, and what to ask for."""

    lines: tuple[Text, ...]
    buttons: tuple[tuple[Button, ...], ...] = ()
    ask: Ask = Ask.NONE
    # Set on the first message after an Ask view, so the native request keyboard goes away.
    remove_keyboard: bool = False
    # Replaces the message whose button was pressed instead of sending a new one (a menu redrawn);
    # with no lines, that message keeps its text and only loses its buttons.
    edit: bool = False
    # The answer to a button press as a pop-up alert; nothing is posted in the chat.
    alert: bool = False
    # A photo (a messenger file id) shown before the lines.
    photo: str = ""
    # Stands for notice N's status message (its approval request or progress), which the adapter
    # renders: posted here and recorded as that notice's message; with `edit`, redrawn where it is.
    notice: int | None = None

    @classmethod
    def of(cls, key: str, **args: Any) -> View:
        return cls((Text(key, args),))

    def all_buttons(self) -> list[Button]:
        return [button for row in self.buttons for button in row]


@dataclass(frozen=True)
class Inbound:
    """One thing a citizen (or a staff member) did, translated from a platform update by its adapter."""

    platform: str
    user_id: str
    kind: InboundKind
    # What was typed (a photo's caption); for a press, the text of the message the button is on.
    text: str = ""
    command: str = ""
    button: str = ""
    photos: tuple[str, ...] = ()
    lat: float | None = None
    lon: float | None = None
    phone: str = ""
    contact_is_own: bool = True
    language_hint: str | None = None
    # What was sent when it is unsupported ("sticker", "voice", ...), for a precise answer.
    media: str = ""
    # A staff conversation keeps its state under its own key ("comms:<chat>:<member>"): one person
    # may have a draft in each staff chat besides their citizen dialog.
    conversation: str = ""
    # Who sent it, as staff checks need: a display name, and whether it came on behalf of a chat.
    sender_name: str = ""
    anonymous: bool = False
    # The forum topic it was sent in, where there are topics; replies go back there.
    thread: int | None = None
    # The platform update it came in ("tg:<update_id>"): its reply is queued under this key, so an
    # update processed twice (after a crash) is answered once.
    key: str = ""

    @property
    def state_key(self) -> str:
        return self.conversation or f"{self.platform}:{self.user_id}"
