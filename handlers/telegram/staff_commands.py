"""The staff registry from Telegram: invites, joining, revoking, the list, and `/whoami`.

Include this router first. It refuses every staff command sent on behalf of a chat (an anonymous
group admin, a channel: `sender_chat` set), wherever it comes from and before any other handler
sees it. In a private chat it takes `/start inv_<code>` and `/join CODE` before citizen intake
does: a plain message there is a citizen's report and never redeems anything.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message

from bot.core.i18n import Translator, pick_language
from bot.services.catalog import Catalog
from bot.services.staff.registry import StaffService, invite_start_parameter
from bot.services.staff.roles import INVITE_PREFIX, SCOPE_KIND, Grant, NotAllowed, Right, Role, StaffError
from handlers.telegram.principal import message_principal

# Commands only staff use; `/cancel` is left out, as it only drops one's own comms draft.
STAFF_COMMANDS = (
    "bind",
    "unbind",
    "comms",
    "strict",
    "notice",
    "invite",
    "revoke",
    "staff",
    "join",
    "whoami",
    "incident",
)
PRIVATE = "private"


def language(message: Message) -> str:
    user = message.from_user
    return pick_language(user.language_code if user else None)


def grant_text(grant: Grant, catalog: Catalog, translator: Translator, lang: str) -> str:
    """A role as people read it: «оператор органа «Администрация …»»."""
    role = translator.text(lang, f"staff-role-{grant.role}")
    if not grant.scope:
        return role
    try:
        kind = SCOPE_KIND.get(Role(grant.role))
    except ValueError:
        kind = None
    scope = grant.scope
    if kind == "body" and scope in catalog.bodies:
        scope = catalog.body(scope).name(lang)
    elif kind == "sector" and scope in catalog.sectors:
        scope = catalog.sector(scope).name(lang)
    elif kind == "municipality":
        scope = catalog.municipality_name(scope) or scope
    return translator.text(lang, "staff-role-scoped", {"role": role, "scope": scope})


def grants_text(grants: tuple[Grant, ...], catalog: Catalog, translator: Translator, lang: str) -> str:
    if not grants:
        return translator.text(lang, "staff-whoami-none")
    return "; ".join(grant_text(g, catalog, translator, lang) for g in grants)


def staff_router() -> Router:
    """Registry commands; include it before the citizen router."""
    router = Router(name="staff")

    @router.message(Command(*STAFF_COMMANDS), F.sender_chat)
    async def anonymous(message: Message, translator: Translator) -> None:
        await message.reply(translator.text("ru", "staff-anonymous"))

    @router.message(Command("whoami"))
    async def whoami(message: Message, staff: StaffService, catalog: Catalog, translator: Translator) -> None:
        who = message_principal(message)
        if who is None:
            return
        lang = language(message)
        roles = grants_text(await staff.roles(who), catalog, translator, lang)
        await message.reply(translator.text(lang, "staff-whoami", {"user": who.user_id, "roles": roles}))

    @router.message(Command("invite", "revoke", "staff", "join"), F.chat.type != PRIVATE)
    async def not_here(message: Message, translator: Translator) -> None:
        # An invite code shown in a group is an invite for everyone in it.
        await message.reply(translator.text("ru", "staff-private-only"))

    @router.message(Command("invite"), F.chat.type == PRIVATE)
    async def invite(
        message: Message,
        command: CommandObject,
        bot: Bot,
        staff: StaffService,
        catalog: Catalog,
        translator: Translator,
    ) -> None:
        who = message_principal(message)
        if who is None:
            return
        lang = language(message)
        words = (command.args or "").split()
        try:
            # The right first: a stranger learns nothing, not even the usage line.
            await staff.require(who, Right.MANAGE_STAFF)
            if not 1 <= len(words) <= 2:
                await message.reply(translator.text(lang, "staff-invite-usage"))
                return
            role, scope = words[0].lower(), words[1] if len(words) == 2 else ""
            code = await staff.invite(who, role, scope, chat_id=message.chat.id)
        except NotAllowed as refused:
            await message.reply(translator.text(lang, _admins_only(refused)))
            return
        except StaffError as error:
            bad = translator.text(lang, "staff-invite-bad", {"error": str(error)})
            await message.reply(f"{bad}\n{translator.text(lang, 'staff-invite-usage')}")
            return
        me = await bot.me()
        link = f"https://t.me/{me.username}?start={invite_start_parameter(code)}"
        args = {
            "grant": grant_text(Grant(role, scope), catalog, translator, lang),
            "link": link,
            "code": code,
        }
        await message.reply(translator.text(lang, "staff-invite-created", args))

    @router.message(
        CommandStart(deep_link=True, magic=F.args.startswith(INVITE_PREFIX)), F.chat.type == PRIVATE
    )
    async def start_with_invite(
        message: Message,
        command: CommandObject,
        staff: StaffService,
        catalog: Catalog,
        translator: Translator,
    ) -> None:
        await redeem(message, (command.args or "").removeprefix(INVITE_PREFIX), staff, catalog, translator)

    @router.message(Command("join"), F.chat.type == PRIVATE)
    async def join(
        message: Message,
        command: CommandObject,
        staff: StaffService,
        catalog: Catalog,
        translator: Translator,
    ) -> None:
        code = (command.args or "").strip().removeprefix(INVITE_PREFIX)
        if not code:
            await message.reply(translator.text(language(message), "staff-join-usage"))
            return
        await redeem(message, code, staff, catalog, translator)

    @router.message(Command("revoke"), F.chat.type == PRIVATE)
    async def revoke(
        message: Message, command: CommandObject, staff: StaffService, translator: Translator
    ) -> None:
        who = message_principal(message)
        if who is None:
            return
        lang = language(message)
        words = (command.args or "").split()
        try:
            await staff.require(who, Right.MANAGE_STAFF)
            if not 1 <= len(words) <= 2 or not words[0].isdigit():
                await message.reply(translator.text(lang, "staff-revoke-usage"))
                return
            count = await staff.revoke(who, words[0], words[1].lower() if len(words) == 2 else None)
        except NotAllowed as refused:
            await message.reply(translator.text(lang, _admins_only(refused)))
            return
        except StaffError:
            await message.reply(translator.text(lang, "staff-revoke-last-admin"))
            return
        await message.reply(translator.text(lang, "staff-revoked", {"user": words[0], "count": count}))

    @router.message(Command("staff"), F.chat.type == PRIVATE)
    async def members(
        message: Message, staff: StaffService, catalog: Catalog, translator: Translator
    ) -> None:
        who = message_principal(message)
        if who is None:
            return
        lang = language(message)
        try:
            await staff.require(who, Right.MANAGE_STAFF)
        except NotAllowed as refused:
            await message.reply(translator.text(lang, _admins_only(refused)))
            return
        entries = await staff.members()
        if not entries:
            await message.reply(translator.text(lang, "staff-list-empty"))
            return
        lines = [translator.text(lang, "staff-list-head")]
        for entry in entries:
            args = {
                "user": entry.platform_user_id,
                "name": entry.name or "—",
                "roles": grants_text(entry.roles, catalog, translator, lang),
            }
            lines.append(translator.text(lang, "staff-list-line", args))
        # One message holds 4096 characters; a registry that outgrows it is read from the CLI.
        await message.reply("\n".join(lines)[:4096])

    return router


async def redeem(
    message: Message, code: str, staff: StaffService, catalog: Catalog, translator: Translator
) -> None:
    who = message_principal(message)
    if who is None:
        return
    lang = language(message)
    try:
        grant = await staff.redeem(code, who, chat_id=message.chat.id)
    except NotAllowed as refused:
        await message.reply(translator.text(lang, refused.reason))
        return
    await message.reply(
        translator.text(lang, "staff-joined", {"grant": grant_text(grant, catalog, translator, lang)})
    )


def _admins_only(refused: NotAllowed) -> str:
    return "staff-admins-only" if refused.reason == "staff-not-allowed" else refused.reason
