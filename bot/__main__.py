"""Command line: `python -m bot run [--webhook] | classify | migrate | bodies | sectors | bind | contacts |
comms | notice ...`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import ValidationError

from bot.app.command_database import database
from bot.core.config import ConfigError, Settings

if TYPE_CHECKING:
    pass

log = logging.getLogger("bot")


# The process roles of `run` (bot.app.runtime.Role), spelled here so --help needs no imports.
ROLES = ("web", "worker", "all")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="tsur-bot: the ЦУР messenger bot")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the bot (long polling, or a webhook server)")
    run.add_argument("--webhook", action="store_true", help="receive updates through the HTTP webhook")
    run.add_argument(
        "--role",
        choices=ROLES,
        default="all",
        help="web: receive webhooks only (several may share a port); worker: process, deliver, "
        "poll, deadlines; all: both (default)",
    )
    check = commands.add_parser(
        "check", help="check the settings of `run` (exit 0; 2 on an error; 3 when no messenger token)"
    )
    check.add_argument("--webhook", action="store_true", help="check what --webhook needs as well")
    sandbox = commands.add_parser(
        "sandbox", help="the training sandbox: the bot with local messengers and a page on 127.0.0.1"
    )
    sandbox.add_argument("--port", type=int, default=8080, help="port of the page (default 8080)")
    sandbox.add_argument(
        "--database",
        default="sandbox.sqlite3",
        help="its SQLite file, emptied on start (default sandbox.sqlite3)",
    )
    sandbox.add_argument("--speed", type=float, default=1.0, help="clock speed, 1 to 3600 (default 1)")
    sandbox.add_argument("--scenario", default=None, help="start a training scenario (see the page)")
    sandbox.add_argument("--trainee", default=None, help="the trainee's name on the score card")
    sandbox.add_argument("--report", action="store_true", help="print the trainees' score cards and exit")
    commands.add_parser(
        "classify", help="classify texts: one per line on stdin, or --csv FILE", add_help=False
    )
    commands.add_parser("migrate", help="create/upgrade the database schema and seed reference data")
    commands.add_parser("bodies", help="list bodies and where their reports come from")
    commands.add_parser("sectors", help="list sectors with their deadlines")
    bind = commands.add_parser("bind", help="make a Telegram chat the operator chat of a body")
    bind.add_argument("body_id", help="body id, see `bodies`")
    bind.add_argument("chat_id", type=int, help="Telegram chat id of the supergroup (negative)")
    bind.add_argument("--yes", action="store_true", help="confirm moving a body or chat bound already")
    contacts = commands.add_parser("contacts", help="set a sector block's head or curator (escalation)")
    contacts.add_argument("sector_id")
    contacts.add_argument("level", choices=["head", "curator"])
    contacts.add_argument("user_id", help="Telegram user id who gets escalations, or - to clear")
    contacts.add_argument("--name", default=None, help="name or position shown in the operator chat")
    comms = commands.add_parser("comms", help="make a Telegram chat a comms chat (members compose notices)")
    comms.add_argument("chat_id", type=int, help="Telegram chat id of the group (negative)")
    comms.add_argument("--off", action="store_true", help="the chat stops being a comms chat")
    from bot.app.notice_cli import add_notice_parsers

    add_notice_parsers(commands)
    from bot.app.staff_cli import add_staff_parsers

    add_staff_parsers(commands)
    commands.add_parser("purge", help="delete data past its retention period once (the bot does it hourly)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["classify"]:
        from bot.classify.cli import run_classify_cli

        return run_classify_cli(args_list[1:], sys.stdin, sys.stdout)
    args = _parser().parse_args(args_list)
    if args.command == "sandbox":
        # Before Settings(): the sandbox reads nothing from the environment or .env.
        from bot.app.sandbox_cli import run_sandbox_command

        return run_sandbox_command(args)
    try:
        settings = Settings()
    except ValidationError as error:
        first = error.errors()[0]
        print(
            f"configuration error: {'.'.join(map(str, first['loc'])).upper()}: {first['msg']}",
            file=sys.stderr,
        )
        return 2
    from bot.core.redaction import setup_logging

    # Tokens and secrets are masked in every line, tracebacks included (bot/redaction.py).
    setup_logging(settings.log_level, secrets=_secrets(settings))
    # Migration chatter on every command start hides what the command printed.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if args.command == "check":
        from bot.app.runtime import check_command

        return check_command(settings, webhook=args.webhook)
    if args.command == "run":
        from bot.app.runtime import Role, check_settings, run_bot

        try:
            check_settings(settings, webhook=args.webhook)
            asyncio.run(run_bot(settings, webhook=args.webhook, role=Role(args.role)))
        except ConfigError as error:
            print(str(error), file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            # Ctrl+C is the normal way to stop a foreground bot, not an error.
            return 0
        return 0
    if args.command == "purge":
        from bot.services.retention import run_purge_command

        return asyncio.run(run_purge_command(settings))
    if args.command == "migrate":
        return asyncio.run(_migrate(settings))
    if args.command == "bodies":
        return asyncio.run(_bodies(settings))
    if args.command == "sectors":
        return asyncio.run(_sectors(settings))
    if args.command == "bind":
        return asyncio.run(_bind(settings, args.body_id, args.chat_id, confirmed=args.yes))
    if args.command == "comms":
        return asyncio.run(_comms(settings, args.chat_id, off=args.off))
    if args.command == "notice":
        from bot.app.notice_cli import run_notice_command

        return asyncio.run(run_notice_command(settings, args))
    if args.command in ("staff", "audit", "route"):
        from bot.app.staff_cli import run_audit_command, run_route_command, run_staff_command

        run = {"staff": run_staff_command, "audit": run_audit_command, "route": run_route_command}
        return asyncio.run(run[args.command](settings, args))
    if args.command == "contacts":
        user_id = None if args.user_id == "-" else args.user_id
        return asyncio.run(_contacts(settings, args.sector_id, args.level, user_id, args.name))
    return 2


def _secrets(settings: Settings) -> list[str | None]:
    values = (
        settings.telegram_bot_token,
        settings.vk_bot_token,
        settings.webhook_secret,
        settings.vk_callback_secret,
    )
    return [value.get_secret_value() if value else None for value in values]


async def _migrate(settings: Settings) -> int:
    async with database(settings) as db:
        print(f"database is up to date ({db.engine.url.render_as_string(hide_password=True)})")
    return 0


async def _bodies(settings: Settings) -> int:
    from bot.services.catalog import Catalog

    async with database(settings) as db:
        catalog = await Catalog.load(db)
    routed: dict[str, set[str]] = {}
    for rule in catalog.rules:
        routed.setdefault(rule.body_id, set()).add(rule.sector_id)
    for body in sorted(catalog.bodies.values(), key=lambda b: (b.kind, b.id)):
        sectors = ",".join(sorted(routed.get(body.id, set()))) or "-"
        print(f"{body.id}\t{body.kind}\t{sectors}\t{body.name_ru}")
    return 0


async def _sectors(settings: Settings) -> int:
    from bot.services.catalog import Catalog

    async with database(settings) as db:
        catalog = await Catalog.load(db)
    for sector in catalog.sectors.values():
        print(f"{sector.id}\t{sector.first_reaction_hours}h\t{sector.answer_days}d\t{sector.name_ru}")
    return 0


async def _bind(settings: Settings, body_id: str, chat_id: int, *, confirmed: bool) -> int:
    from bot.services.chats import Outcome, chat_bindings
    from bot.services.staff.roles import Principal

    async with database(settings) as db:
        bindings = await chat_bindings(db)
        if not bindings.knows(body_id):
            print(f"unknown body {body_id!r}; see `python -m bot bodies`", file=sys.stderr)
            return 2
        # The same checked, audited path as /bind: the shell holds the right to bind chats.
        change = await bindings.bind(Principal.shell(), body_id, chat_id, confirmed=confirmed)
    if change.outcome is Outcome.CONFIRM:
        if change.old_chat_id is not None:
            print(f"{body_id} is served by chat {change.old_chat_id} now; it would move", file=sys.stderr)
        if change.old_body_id is not None:
            print(f"chat {chat_id} serves {change.old_body_id} now; it would stop", file=sys.stderr)
        print("nothing changed: repeat with --yes to confirm", file=sys.stderr)
        return 2
    print(f"chat {chat_id} is the operator chat of {body_id}")
    return 0


async def _comms(settings: Settings, chat_id: int, *, off: bool) -> int:
    from bot.services.chats import chat_bindings
    from bot.services.staff.roles import Principal

    async with database(settings) as db:
        bindings = await chat_bindings(db)
        if off:
            await bindings.unbind_comms(Principal.shell(), chat_id)
        else:
            await bindings.bind_comms(Principal.shell(), chat_id)
    print(f"chat {chat_id} is {'no longer a' if off else 'a'} comms chat")
    return 0


async def _contacts(
    settings: Settings, sector_id: str, level: str, user_id: str | None, name: str | None
) -> int:
    from bot.services.reports.block_contacts import set_block_contact

    async with database(settings) as db:
        try:
            await set_block_contact(db, sector_id, level, user_id, name=name)
        except ValueError as error:
            print(str(error), file=sys.stderr)
            return 2
    print(f"{level} of {sector_id}: {user_id or 'cleared'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
