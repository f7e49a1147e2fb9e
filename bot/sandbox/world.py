"""The training sandbox's people and chats: the staff it seeds (an admin, one operator per body,
two comms members), the operator forum of each body, the comms chat, and the citizens a trainee
creates on the page, all living on the local Telegram and VK servers."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.core.clock import ScaledClock
from bot.sandbox.telegram import FakeChat, FakeTelegramServer, FakeUser
from bot.sandbox.vk import FakeVkServer, FakeVkUser
from bot.services.catalog import Catalog
from bot.services.chats import chat_bindings
from bot.services.staff.registry import StaffService
from bot.services.staff.roles import Principal
from storage.db import Database

if TYPE_CHECKING:  # only for the annotation: the trainer reaches the world through its ports
    from bot.sandbox.training.trainer import Trainer

# The municipality the seeded bodies serve: the bodies its reports are routed to get an operator.
HOME_MUNICIPALITY = "ekaterinburg"
ADMIN_ID = 7000
COMMS_IDS = (7001, 7002)
OPERATOR_BASE_ID = 7100
COMMS_CHAT_ID = -100_7000
BODY_CHAT_BASE_ID = -100_7100
TELEGRAM_CITIZEN_BASE_ID = 100_001
VK_CITIZEN_BASE_ID = 200_001
OPERATOR_NAMES = ("Ольга", "Игорь", "Марина", "Денис", "Светлана", "Павел", "Наталья", "Артём", "Ирина")


@dataclass(frozen=True)
class BodyChat:
    """A body's operator forum and its one seeded operator."""

    body_id: str
    title: str
    chat: FakeChat
    operator: FakeUser


@dataclass(frozen=True)
class SandboxCitizen:
    """A citizen the trainee (or a scenario) plays, on one messenger."""

    key: str  # "tg-100001" / "vk-200001"
    platform: str  # tg | vk
    name: str
    language: str
    telegram: FakeUser | None = None
    vk: FakeVkUser | None = None


@dataclass
class SandboxWorld:
    """Everything the page and the scenarios act on; the bot itself runs beside it."""

    telegram: FakeTelegramServer
    vk: FakeVkServer
    clock: ScaledClock
    db: Database
    catalog: Catalog
    admin: FakeUser
    comms_chat: FakeChat
    # The comms member the trainee plays, and the one who approves by script (four eyes).
    comms: FakeUser
    approver: FakeUser
    body_chats: dict[str, BodyChat]
    citizens: dict[str, SandboxCitizen] = field(default_factory=dict)
    # Training scenarios and score cards (bot/sandbox/training); None until the sandbox attaches one.
    trainer: Trainer | None = None
    _telegram_ids: Iterator[int] = field(default_factory=lambda: itertools.count(TELEGRAM_CITIZEN_BASE_ID))
    _vk_ids: Iterator[int] = field(default_factory=lambda: itertools.count(VK_CITIZEN_BASE_ID))

    def new_citizen(self, platform: str, name: str, language: str) -> SandboxCitizen:
        """A new citizen on `platform` ("tg" or "vk") who has not written to the bot yet."""
        if language not in ("ru", "en"):
            raise ValueError(f"unsupported language {language!r}")
        name = name.strip()[:64] or ("Гражданин" if language == "ru" else "Citizen")
        if platform == "tg":
            user_id = next(self._telegram_ids)
            user = self.telegram.user(user_id, first_name=name, language_code=language)
            citizen = SandboxCitizen(f"tg-{user_id}", "tg", name, language, telegram=user)
        elif platform == "vk":
            user_id = next(self._vk_ids)
            vk_user = self.vk.user(user_id, first_name=name, lang_id=0 if language == "ru" else 3)
            citizen = SandboxCitizen(f"vk-{user_id}", "vk", name, language, vk=vk_user)
        else:
            raise ValueError(f"unknown platform {platform!r}")
        self.citizens[citizen.key] = citizen
        return citizen


def seeded_bodies(catalog: Catalog) -> list[str]:
    """The ЦУР and every body a report from the home municipality can be routed to, in order."""
    bodies = ["tsur"]
    for sector in catalog.sectors:
        body = catalog.route(sector, HOME_MUNICIPALITY)
        if body not in bodies:
            bodies.append(body)
    return bodies


async def seed_world(
    telegram: FakeTelegramServer,
    vk: FakeVkServer,
    clock: ScaledClock,
    db: Database,
    catalog: Catalog,
    staff: StaffService,
) -> SandboxWorld:
    """Create the staff and chats on the local servers and register them as the ЦУР would: roles
    in the staff registry, operator chats bound to their bodies, the comms chat."""
    shell = Principal.shell()
    admin = telegram.user(ADMIN_ID, first_name="Анна (админ ЦУР)", language_code="ru")
    await staff.add(shell, str(ADMIN_ID), "admin", name="Анна")
    comms, approver = (
        telegram.user(COMMS_IDS[0], first_name="Борис", language_code="ru"),
        telegram.user(COMMS_IDS[1], first_name="Вера", language_code="ru"),
    )
    for member in (comms, approver):
        await staff.add(shell, str(member.id), "comms", name=member.first_name)
    bindings = await chat_bindings(db)
    comms_chat = telegram.group(COMMS_CHAT_ID, "Информирование ЦУР", is_forum=False)
    comms_chat.add_member(admin, "administrator")
    comms_chat.add_member(comms, "member")
    comms_chat.add_member(approver, "member")
    await bindings.bind_comms(shell, COMMS_CHAT_ID)
    body_chats: dict[str, BodyChat] = {}
    for n, body_id in enumerate(seeded_bodies(catalog)):
        body = catalog.body(body_id)
        operator = telegram.user(
            OPERATOR_BASE_ID + n, first_name=OPERATOR_NAMES[n % len(OPERATOR_NAMES)], language_code="ru"
        )
        await staff.add(shell, str(operator.id), "operator", body_id, name=operator.first_name)
        chat = telegram.group(BODY_CHAT_BASE_ID - n, body.name("ru"), is_forum=True)
        chat.add_member(admin, "administrator")
        chat.add_member(operator, "member")
        await bindings.bind(shell, body_id, chat.id, confirmed=True)
        body_chats[body_id] = BodyChat(body_id, body.name("ru"), chat, operator)
    return SandboxWorld(telegram, vk, clock, db, catalog, admin, comms_chat, comms, approver, body_chats)
