"""The staff registry's vocabulary: roles and their scopes, rights and who holds them, the
principal asking, and the refusals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

INVITE_PREFIX = "inv_"


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    HEAD = "head"
    CURATOR = "curator"
    COMMS = "comms"
    MCU = "mcu"


# What a role's scope names; roles missing here hold no scope and cover every one.
SCOPE_KIND: dict[Role, str] = {
    Role.OPERATOR: "body",
    Role.HEAD: "sector",
    Role.CURATOR: "sector",
    Role.MCU: "municipality",
}


class Right(StrEnum):
    """Things staff do; `RULES` says which roles grant each."""

    MANAGE_STAFF = "manage_staff"  # invite, revoke, list the registry
    BIND_CHAT = "bind_chat"  # bind / unbind operator and comms chats, strict mode
    OPERATE = "operate"  # act on a body's reports as a registered operator (scope: body)
    COMPOSE_NOTICE = "compose_notice"
    APPROVE_NOTICE = "approve_notice"
    READ_MUNICIPALITY = "read_municipality"  # a municipal centre reads its share (scope: municipality)
    OVERSEE_SECTOR = "oversee_sector"  # block head / curator (scope: sector)
    READ_AUDIT = "read_audit"
    EDIT_REFERENCE = "edit_reference"  # routing rules and other reference data


RULES: dict[Right, tuple[Role, ...]] = {
    Right.MANAGE_STAFF: (Role.ADMIN,),
    Right.BIND_CHAT: (Role.ADMIN,),
    # ЦУР administrators supervise every queue.
    Right.OPERATE: (Role.ADMIN, Role.OPERATOR),
    Right.COMPOSE_NOTICE: (Role.COMMS,),
    Right.APPROVE_NOTICE: (Role.COMMS, Role.ADMIN),
    Right.READ_MUNICIPALITY: (Role.ADMIN, Role.MCU),
    Right.OVERSEE_SECTOR: (Role.ADMIN, Role.HEAD, Role.CURATOR),
    Right.READ_AUDIT: (Role.ADMIN,),
    Right.EDIT_REFERENCE: (Role.ADMIN,),
}


SHELL_PLATFORM = "cli"


@dataclass(frozen=True)
class Principal:
    """Who asks: a messenger user, or the server's shell (whoever can run `python -m bot` there)."""

    platform: str
    user_id: str
    name: str = ""
    # A message sent on behalf of a chat (an anonymous group admin, a channel) names no person.
    anonymous: bool = False

    @classmethod
    def telegram(cls, user_id: int | str, name: str = "", *, anonymous: bool = False) -> Principal:
        return cls("tg", str(user_id), name, anonymous)

    @classmethod
    def shell(cls) -> Principal:
        return cls(SHELL_PLATFORM, "shell", "cli")

    @property
    def is_shell(self) -> bool:
        return self.platform == SHELL_PLATFORM

    @property
    def label(self) -> str:
        return "cli" if self.is_shell else f"{self.platform}:{self.user_id}"


@dataclass(frozen=True)
class Grant:
    """The role (and its scope) that allowed an action; recorded in the audit trail."""

    role: str
    scope: str = ""


SHELL_GRANT = Grant("shell")


class NotAllowed(Exception):
    """The registry grants no such right; `reason` is a locale key for the person refused."""

    def __init__(self, reason: str = "staff-not-allowed") -> None:
        super().__init__(reason)
        self.reason = reason


class StaffError(ValueError):
    """A registry change that cannot be made (unknown role, bad scope, the last admin…)."""


@dataclass(frozen=True)
class StaffEntry:
    """One member and the roles they hold now."""

    platform_user_id: str
    name: str
    position: str
    roles: tuple[Grant, ...]


def parse_role(role: str, scope: str, known_scopes: Mapping[str, Sequence[str]] | None = None) -> Role:
    """Validate a role and its scope; StaffError says what is wrong."""
    try:
        parsed = Role(role)
    except ValueError as error:
        raise StaffError(f"unknown role {role!r}: one of {', '.join(r.value for r in Role)}") from error
    kind = SCOPE_KIND.get(parsed)
    if kind is None and scope:
        raise StaffError(f"role {parsed} takes no scope")
    if kind is not None:
        if not scope:
            raise StaffError(f"role {parsed} needs a {kind} id")
        if known_scopes is not None and scope not in known_scopes.get(kind, ()):
            raise StaffError(f"unknown {kind} {scope!r}")
    return parsed
