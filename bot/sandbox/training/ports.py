"""What the training package needs of the sandbox world, as protocols: the world holds the trainer
(`SandboxWorld.trainer`), so the trainer names the world's parts, never its module."""

from __future__ import annotations

from typing import Protocol

from bot.core.clock import ScaledClock
from bot.sandbox.telegram import FakeChat, FakeTelegramServer, FakeUser
from bot.sandbox.vk import FakeVkServer, FakeVkUser
from bot.services.catalog import Catalog
from storage.db import Database


class WorldCitizen(Protocol):
    """A citizen created in the world: a user on one of the two local messengers."""

    @property
    def telegram(self) -> FakeUser | None: ...

    @property
    def vk(self) -> FakeVkUser | None: ...


class TrainingWorld(Protocol):
    """The parts of `bot.sandbox.world.SandboxWorld` the scenarios act on."""

    @property
    def telegram(self) -> FakeTelegramServer: ...

    @property
    def vk(self) -> FakeVkServer: ...

    @property
    def clock(self) -> ScaledClock: ...

    @property
    def db(self) -> Database: ...

    @property
    def catalog(self) -> Catalog: ...

    @property
    def comms_chat(self) -> FakeChat: ...

    @property
    def approver(self) -> FakeUser: ...

    def new_citizen(self, platform: str, name: str, language: str) -> WorldCitizen: ...
