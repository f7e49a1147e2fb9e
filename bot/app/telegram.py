"""The Telegram side of the wiring: Bot, Dispatcher with one Router per audience, middlewares."""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeDefault,
)

from bot.app.wiring import App
from bot.core.i18n import DEFAULT_LANGUAGE, Translator
from bot.delivery.worker import OutboxWorker
from bot.services.chats import ChatBindings
from bot.services.incidents.spike_watch import SpikeWatch
from bot.services.reports.topics import ReportTopics
from bot.services.staff.municipal_centre import MunicipalCentre
from handlers.telegram.callbacks import CallbackSigner
from handlers.telegram.citizen import citizen_router
from handlers.telegram.errors import ExpiredQueriesTolerated
from handlers.telegram.incident_sends import IncidentLimits
from handlers.telegram.messenger import TelegramMessenger
from handlers.telegram.operator import operator_router
from handlers.telegram.operator_cards import OperatorDesk
from handlers.telegram.response_models import ResponseModelsKept

# Command menus, described from the locale files (`locales/*/commands.ftl`).
CITIZEN_COMMANDS = ("report", "my", "notices", "link", "language", "help", "policy", "forget", "cancel")
GROUP_COMMANDS = ("notice", "cancel", "bind", "unbind", "comms", "strict")


def build_bot(token: str, api_url: str | None) -> Bot:
    """A Bot talking to api.telegram.org, or to `api_url` (self-hosted or test Bot API server)."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url)) if api_url else AiohttpSession()
    session.middleware(ResponseModelsKept())
    session.middleware(ExpiredQueriesTolerated())
    return Bot(token, session=session)


def build_dispatcher(app: App, *, signer: CallbackSigner, callbacks_answered: bool = False) -> Dispatcher:
    """Routers per audience; services reach handlers as workflow data, not globals.

    `callbacks_answered`: the webhook answers citizens' button presses on receipt.
    """
    from dialogs.comms.registry import build_comms_dialogs
    from dialogs.engine import DialogRunner
    from handlers.telegram.binding import binding_router
    from handlers.telegram.comms_router import comms_router
    from handlers.telegram.incident_commands import incident_router
    from handlers.telegram.municipal import municipal_router
    from handlers.telegram.spike_alerts import spike_alerts_router, spike_button_signer
    from handlers.telegram.staff_commands import staff_router

    dispatcher = Dispatcher(
        runner=app.runner,
        callbacks_answered=callbacks_answered,
        # The comms chat's composer: the same engine, staff dialogs, drafts in the same state store.
        comms=DialogRunner(
            replace(app.services, notices=app.notices), build_comms_dialogs(), app.runner.retry_delays
        ),
        translator=app.services.translator,
        db=app.db,
        topics=ReportTopics(app.db),
        catalog=app.services.catalog,
        actions=app.actions,
        incidents=app.services.incidents,
        incident_limits=IncidentLimits(
            app.settings.incident_confirm_reporters, app.settings.notice_approval_threshold
        ),
        signer=signer,
        operator_state=app.services.state,
        notices=app.notices,
        staff=app.staff,
        bindings=ChatBindings(app.db, app.staff, app.services.clock, app.services.catalog),
        municipal=MunicipalCentre(app.db, app.staff, app.services.clock),
    )
    incidents = app.services.incidents
    if incidents is not None:
        # The spike detector posts into the ЦУР chat with buttons signed like the cards'.
        dispatcher["spike_watch"] = SpikeWatch(
            app.db,
            app.services.catalog,
            app.services.clock,
            app.staff,
            sign=spike_button_signer(signer),
            open_incident=incidents.attach_cluster,
            timezone=ZoneInfo(app.settings.timezone),
        )
    # Staff commands first: an anonymous one is refused before anything else sees it, and an invite
    # is redeemed (and a municipal centre's list read) before citizen intake. Comms chats before
    # operator chats: the operator router takes every message in a topic.
    dispatcher.include_routers(
        staff_router(),
        incident_router(),
        municipal_router(),
        citizen_router(),
        binding_router(),
        comms_router(),
        spike_alerts_router(),
        operator_router(),
    )
    return dispatcher


def build_delivery(
    app: App,
    bot: Bot,
    signer: CallbackSigner,
    *,
    global_rate: float | None = None,
    chat_rate: float | None = None,
    group_rate: float = 20 / 60,
) -> OutboxWorker:
    """The outbox worker delivering to Telegram citizens and operator chats, within Telegram's rates."""
    translator = app.services.translator
    settings = app.settings
    paid = settings.telegram_paid_broadcast
    messenger = TelegramMessenger(
        bot,
        translator,
        # A paid broadcast may go up to 1000 messages a second.
        global_rate=global_rate or (1000.0 if paid else settings.telegram_rate),
        chat_rate=chat_rate or settings.telegram_chat_rate,
        group_rate=group_rate,
        paid_broadcast=paid,
    )
    incidents = app.services.incidents
    desk = OperatorDesk(
        bot,
        ReportTopics(app.db),
        app.services.catalog,
        translator,
        signer,
        inner=messenger,
        extras=incidents.card_extras if incidents is not None else None,
    )

    return app.outbox_worker({"tg": desk})


def command_menu(translator: Translator, lang: str, names: tuple[str, ...], prefix: str) -> list[BotCommand]:
    """A command menu in one language: each command with its description from the locale files."""
    return [BotCommand(command=name, description=translator.text(lang, f"{prefix}{name}")) for name in names]


async def publish_commands(bot: Bot, translator: Translator) -> None:
    """The command menus Telegram shows: the citizen's in private chats, the staff's in groups."""
    for lang in translator.languages:
        # The default language's menu is the one without a language code; others go to clients set to them.
        code = None if lang == DEFAULT_LANGUAGE else lang
        await bot.set_my_commands(
            command_menu(translator, lang, CITIZEN_COMMANDS, "cmd-"),
            scope=BotCommandScopeDefault(),
            language_code=code,
        )
        await bot.set_my_commands(
            command_menu(translator, lang, GROUP_COMMANDS, "cmd-group-"),
            scope=BotCommandScopeAllGroupChats(),
            language_code=code,
        )
