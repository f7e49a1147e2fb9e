"""`python -m bot staff add|list|revoke`, `python -m bot audit` and `python -m bot route`: the server's
shell manages the registry (the first admin is created here), reads the audit trail and edits routing."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta

from bot.app.command_database import database
from bot.core.clock import SystemClock
from bot.core.config import Settings
from bot.services.catalog import Catalog
from bot.services.reference_edits import ReferenceEditRefused, ReferenceEdits
from bot.services.staff.audit import AuditQuery, audit_events, format_event
from bot.services.staff.registry import StaffService
from bot.services.staff.roles import Principal, Role, StaffError


def add_staff_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `staff` and `audit` subcommands."""
    staff = commands.add_parser("staff", help="the staff registry: add, list, revoke roles")
    actions = staff.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="grant a role (the first admin is created this way)")
    add.add_argument("user_id", help="Telegram user id")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument(
        "--scope", default="", help="body (operator), sector (head, curator) or municipality (mcu)"
    )
    add.add_argument("--name", default="", help="the person's name")
    add.add_argument("--position", default="", help="their position")
    actions.add_parser("list", help="every member and their active roles")
    revoke = actions.add_parser("revoke", help="revoke roles (all of them unless --role)")
    revoke.add_argument("user_id")
    revoke.add_argument("--role", choices=[r.value for r in Role])
    revoke.add_argument("--scope")
    audit = commands.add_parser("audit", help="print the audit trail")
    audit.add_argument("--since", help='"YYYY-MM-DD", "YYYY-MM-DD HH:MM" (UTC) or a number of days, e.g. 7d')
    audit.add_argument("--actor", help='who acted, e.g. "tg:12345" or "cli"')
    audit.add_argument("--report", type=int, help="internal report id")
    audit.add_argument("--action", help="one kind of event, e.g. phone_shown")
    audit.add_argument("--limit", type=int, default=500)
    route = commands.add_parser(
        "route", help="send a sector's reports (in one municipality, or '*' for all) to a body"
    )
    route.add_argument("sector_id")
    route.add_argument("municipality_id", help="a municipality id, or * for every municipality")
    route.add_argument("body_id")


def parse_since(value: str, now: datetime) -> datetime:
    """An absolute UTC date/time, or "Nd" days back."""
    if value.endswith("d") and value[:-1].isdigit():
        return now - timedelta(days=int(value[:-1]))
    for layout in ("%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, layout).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ValueError(f"--since {value!r}: expected YYYY-MM-DD[ HH:MM] or Nd")


async def run_staff_command(settings: Settings, args: argparse.Namespace) -> int:
    """One registry action from the shell; 2 with a one-line reason when it cannot be done."""
    shell = Principal.shell()
    async with database(settings) as db:
        catalog = await Catalog.load(db)
        staff = StaffService(db, SystemClock(), catalog.staff_scopes())
        try:
            if args.action == "add":
                added = await staff.add(
                    shell, args.user_id, args.role, args.scope, name=args.name, position=args.position
                )
                scope = f" of {args.scope}" if args.scope else ""
                print(f"{args.user_id}: {args.role}{scope} {'granted' if added else 'already held'}")
            elif args.action == "revoke":
                count = await staff.revoke(shell, args.user_id, args.role, args.scope)
                print(f"{args.user_id}: {count} role(s) revoked")
            else:
                for entry in await staff.members():
                    roles = ", ".join(f"{g.role}:{g.scope}" if g.scope else g.role for g in entry.roles)
                    print(f"{entry.platform_user_id}\t{entry.name or '-'}\t{entry.position or '-'}\t{roles}")
        except StaffError as error:
            print(str(error), file=sys.stderr)
            return 2
    return 0


async def run_audit_command(settings: Settings, args: argparse.Namespace) -> int:
    """Print audit rows, one per line, oldest first."""
    try:
        since = parse_since(args.since, datetime.now(UTC)) if args.since else None
    except ValueError as error:
        print(str(error), file=sys.stderr)
        return 2
    query = AuditQuery(
        since=since, actor=args.actor, report_id=args.report, action=args.action, limit=args.limit
    )
    async with database(settings) as db:
        for event in await audit_events(db, query):
            print(format_event(event))
    return 0


async def run_route_command(settings: Settings, args: argparse.Namespace) -> int:
    """Change one routing rule; running bots pick it up within REFERENCE_REFRESH_SECONDS."""
    municipality = None if args.municipality_id == "*" else args.municipality_id
    async with database(settings) as db:
        catalog = await Catalog.load(db)
        clock = SystemClock()
        edits = ReferenceEdits(db, catalog, StaffService(db, clock, catalog.staff_scopes()), clock)
        try:
            change = await edits.set_route(Principal.shell(), args.sector_id, municipality, args.body_id)
        except ReferenceEditRefused as error:
            print(f"{error}; see `python -m bot sectors` and `python -m bot bodies`", file=sys.stderr)
            return 2
    print(
        f"{change.sector_id} in {change.municipality_id or 'every municipality'}: "
        f"{change.old_body_id or '-'} -> {change.body_id} (reference version {change.version})"
    )
    return 0
