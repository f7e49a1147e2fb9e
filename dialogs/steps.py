"""What dialogs are made of: the services they use, the context of one Inbound, steps, transitions
and the registry the runner dispatches on (`dialogs.engine.DialogRunner`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from bot.classify import Classifier
from bot.core.clock import Clock
from bot.core.i18n import Translator
from bot.core.messages import Ask, Button, Inbound, Text, View
from bot.services.catalog import Catalog
from bot.services.citizens.accounts import CitizenInfo, CitizenService
from bot.services.citizens.flood import FloodGuard
from bot.services.citizens.replies import Replies
from bot.services.citizens.subscriptions import SubscriptionService
from bot.services.incidents.desk import IncidentDesk
from bot.services.notices.service import NoticeService
from bot.services.reports.casework import Casework
from bot.services.reports.filing import ReportFiling
from storage.state import StateStore

BACK = "back"
CANCEL = "cancel"


@dataclass
class DialogServices:
    """What dialogs may use: platform-neutral services only."""

    citizens: CitizenService
    reports: ReportFiling
    catalog: Catalog
    classifier: Classifier
    translator: Translator
    state: StateStore
    flood: FloodGuard
    clock: Clock
    timezone: ZoneInfo
    dialog_ttl: timedelta
    privacy_policy_url: str
    # Notices: what each citizen subscribed to, quiet hours, the offer after a first report.
    subscriptions: SubscriptionService
    # Operator-side actions (relay, feedback); absent where no operator loop is wired.
    actions: Casework | None = None
    # Notices the comms team composes; only the staff dialogs of the comms chat use it.
    notices: NoticeService | None = None
    # Where a citizen's replies are queued for delivery; without it the caller sends them.
    replies: Replies | None = None
    # Open reports of the same problem offered at intake; absent, nothing is offered.
    incidents: IncidentDesk | None = None

    def notice_service(self) -> NoticeService:
        assert self.notices is not None, "comms dialogs need DialogServices.notices"
        return self.notices


@dataclass
class Context:
    """Everything one step needs to react to one Inbound."""

    inbound: Inbound
    services: DialogServices
    citizen: CitizenInfo | None
    lang: str
    state: dict[str, Any]
    now: datetime
    dialogs: Dialogs

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.state.setdefault("data", {})
        return data

    def label(self, text: Text) -> str:
        return self.services.translator.text(self.lang, text.key, text.args)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.services.timezone)

    def date(self, moment: datetime) -> str:
        return self.local(moment).strftime("%d.%m.%Y")

    def datetime(self, moment: datetime) -> str:
        return self.local(moment).strftime("%d.%m.%Y %H:%M")


@dataclass(frozen=True)
class Reply:
    """The views to send, and the language to render them in."""

    lang: str
    views: list[View]
    # The views are already in the outbox (the caller must not send them again).
    queued: bool = False


@dataclass(frozen=True)
class Transition:
    """What a step decided: stay (and show `views`), go to another step, or end the dialog."""

    views: tuple[View, ...] = ()
    goto: str | None = None
    done: bool = False
    # With done: show the main menu after the views.
    menu: bool = False
    # With goto: show the new step's prompt after the views (off when a view redraws it in place).
    prompt: bool = True

    @classmethod
    def stay(cls, *views: View) -> Transition:
        return cls(views)

    @classmethod
    def to(cls, step: str, *before: View) -> Transition:
        return cls(before, goto=step)

    @classmethod
    def end(cls, *views: View) -> Transition:
        return cls(views, done=True)


class Step(ABC):
    """One question of a guided dialog."""

    name: ClassVar[str]
    ask: ClassVar[Ask] = Ask.NONE
    has_back: ClassVar[bool] = True
    # A typed message equal to one of the prompt's button labels presses it (native keyboards send
    # labels as text); off where people chat freely around the dialog.
    typed_buttons: ClassVar[bool] = True
    # Said when the citizen comes back after the dialog expired on this step; None = expire quietly
    # (a short side question is not worth a warning).
    expired_key: ClassVar[str | None] = "dialog-expired"

    @abstractmethod
    async def prompt(self, ctx: Context) -> list[View]:
        """The question itself, shown on entering the step and after anything it could not use."""

    @abstractmethod
    async def on_input(self, ctx: Context) -> Transition:
        """React to text, photos, a location or a contact sent on this step."""

    def owns(self, scope: str) -> bool:
        """Whether a button of `scope` is this step's; other scopes are outdated here."""
        return scope == self.name

    async def on_button(self, ctx: Context, value: str) -> Transition:
        """Buttons other than back/cancel; unknown values are treated as outdated."""
        return Transition.stay(View.of("button-outdated"), *await self.prompt(ctx))

    def nav_row(self) -> tuple[Button, ...]:
        """The Back / Cancel row every step carries."""
        row = []
        if self.has_back:
            row.append(Button(f"{self.name}:{BACK}", Text("btn-back")))
        row.append(Button(f"{self.name}:{CANCEL}", Text("btn-cancel")))
        return tuple(row)


GlobalHandler = Callable[[Context, str], Awaitable[list[View]]]
CommandHandler = Callable[[Context], Awaitable[list[View]]]


@dataclass
class Dialogs:
    """The registry the runner dispatches on: steps, global button scopes, commands."""

    steps: dict[str, Step] = field(default_factory=dict)
    scopes: dict[str, GlobalHandler] = field(default_factory=dict)
    commands: dict[str, CommandHandler] = field(default_factory=dict)
    # Scopes and commands anyone may use before giving consent (nothing is stored for them).
    open_scopes: frozenset[str] = frozenset()
    open_commands: frozenset[str] = frozenset()
    consent_prompt: CommandHandler | None = None
    main_menu: Callable[[Context], View] | None = None
    # Input outside any dialog (e.g. a follow-up about an open report); None means "not mine".
    on_idle: Callable[[Context], Awaitable[list[View] | None]] | None = None
    # A staff audience (the comms chat): no citizen account and no consent gate; `gate` asks the
    # staff registry on every update instead (views to refuse with, None to go on), the state never
    # expires, and everything is said in `language`.
    staff: bool = False
    gate: Callable[[Context], Awaitable[list[View] | None]] | None = None
    language: str = "ru"

    def add_step(self, step: Step) -> None:
        self.steps[step.name] = step

    async def current_prompt(self, ctx: Context) -> list[View]:
        """The question the citizen is on, or the menu when there is none."""
        step = self.steps.get(str(ctx.state.get("step")))
        if step is not None:
            return await step.prompt(ctx)
        return [self.main_menu(ctx)] if self.main_menu is not None else []


def start_dialog(ctx: Context, dialog: str, first_step: str, data: Mapping[str, Any] | None = None) -> None:
    """Reset the state to a new dialog at its first step."""
    ctx.state.clear()
    ctx.state.update({"dialog": dialog, "step": first_step, "trail": [], "data": dict(data or {})})
