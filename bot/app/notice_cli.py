"""`python -m bot notice ...`: plan and steer notices from scripts; the running bot delivers them.

The shell is no person, so a notice sent from here names two people of the staff registry: its
author (`--author`, who holds `comms`) and, for a notice to everyone or to more recipients than
NOTICE_APPROVAL_THRESHOLD, its approver (`--approved-by`, someone else holding `comms` or `admin`).
Both are checked against the registry as it is now and every step is audited in their names.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.app.command_database import database
from bot.core.clock import SystemClock
from bot.core.config import Settings
from bot.services.catalog import Catalog
from bot.services.notices.content import Audience, NoticeDraft, NoticeKind, malformed_report_numbers
from bot.services.notices.service import NoticeService, NoticeStateError
from bot.services.staff.registry import StaffService
from bot.services.staff.roles import NotAllowed, Principal, Right


def add_notice_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `notice` subcommands."""
    notice = commands.add_parser("notice", help="targeted notices: send, status, pause, resume, cancel, list")
    actions = notice.add_subparsers(dest="action", required=True)
    send = actions.add_parser("send", help="plan a notice for an audience (the running bot delivers it)")
    send.add_argument("--kind", choices=[k.value for k in NoticeKind], default="info")
    send.add_argument("--text", required=True, help="the text; for a fact-check, the facts")
    send.add_argument("--claim", help="fact-check: the false claim being spread")
    send.add_argument("--source", help="fact-check: where the facts come from")
    send.add_argument("--photo", help="a photo URL (or a Telegram file id)")
    send.add_argument("--everyone", action="store_true", help="every subscriber")
    send.add_argument("--municipality", action="append", default=[], help="municipality id (repeatable)")
    send.add_argument("--sector", action="append", default=[], help="sector id (repeatable)")
    send.add_argument("--platform", action="append", default=[], choices=["tg", "vk"])
    send.add_argument(
        "--report", action="append", default=[], help="report number: its reporter (repeatable)"
    )
    send.add_argument("--at", help='local time to start, "YYYY-MM-DD HH:MM"')
    send.add_argument(
        "--author", help="Telegram user id of the registry member (role comms) who wrote it; required"
    )
    send.add_argument(
        "--approved-by",
        dest="approved_by",
        help="Telegram user id of a second member (comms or admin); required for --everyone or above "
        "NOTICE_APPROVAL_THRESHOLD recipients",
    )
    send.add_argument("--dry-run", action="store_true", help="only count the recipients")
    for name in ("status", "pause", "resume", "cancel"):
        actions.add_parser(name, help=f"{name} a notice").add_argument("notice_id", type=int)
    actions.add_parser("list", help="the latest notices")


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 2


async def run_notice_command(settings: Settings, args: argparse.Namespace) -> int:
    """One notice action; 2 with a one-line reason when the input is wrong or not allowed."""
    tz = ZoneInfo(settings.timezone)
    clock = SystemClock()
    async with database(settings) as db:
        catalog = await Catalog.load(db)
        staff = StaffService(db, clock, catalog.staff_scopes())
        service = NoticeService(db, clock, tz, staff, approval_threshold=settings.notice_approval_threshold)
        if args.action == "send":
            return await _send(service, staff, catalog, args, tz)
        if args.action == "list":
            for notice in await service.recent():
                print(f"{notice.id}\t{notice.status}\t{notice.kind}\t{notice.recipients}\t{notice.text[:60]}")
            return 0
        notice_id = int(args.notice_id)
        if await service.get(notice_id) is None:
            return _fail(f"no notice {notice_id}")
        if args.action == "status":
            stats = await service.stats(notice_id)
            for name in (
                "status",
                "total",
                "sent",
                "failed",
                "unreachable",
                "waiting",
                "paused",
                "cancelled",
                "rate_per_minute",
                "eta_seconds",
            ):
                print(f"{name}={getattr(stats, name)}")
            return 0
        shell = Principal.shell()
        if args.action == "pause":
            done = await service.pause(notice_id, shell)
        elif args.action == "resume":
            done = await service.resume(notice_id, shell)
        else:
            done = await service.cancel(notice_id, shell)
        if not done:
            return _fail(f"notice {notice_id} cannot be {args.action}d now")
        print(f"notice {notice_id}: {args.action}d")
        return 0


def _audience(args: argparse.Namespace, catalog: Catalog) -> Audience | str:
    """The audience the arguments name, or why they name none."""
    unknown = [m for m in args.municipality if catalog.municipality_name(m) is None and m != "*"]
    unknown += [s for s in args.sector if s not in catalog.sectors and s != "*"]
    if unknown:
        return f"unknown municipality or sector: {', '.join(unknown)} (see `bodies` / `sectors`)"
    # By shape only: whether a report exists is not for this command to tell.
    malformed = malformed_report_numbers(args.report)
    if malformed:
        return f"not a report number: {', '.join(malformed)} (expected e.g. 26-000042)"
    audience = Audience(
        everyone=args.everyone,
        municipalities=tuple(args.municipality),
        sectors=tuple(args.sector),
        platforms=tuple(args.platform),
        reports=tuple(args.report),
    )
    if audience.is_empty():
        return "no audience: give --everyone, --municipality, --sector or --report"
    return audience


async def _send(
    service: NoticeService, staff: StaffService, catalog: Catalog, args: argparse.Namespace, tz: ZoneInfo
) -> int:
    audience = _audience(args, catalog)
    if isinstance(audience, str):
        return _fail(audience)
    if args.kind == "factcheck" and not (args.claim and args.source):
        return _fail("a fact-check needs --claim and --source")
    send_at = None
    if args.at:
        try:
            send_at = datetime.strptime(args.at, "%Y-%m-%d %H:%M").replace(tzinfo=tz)
        except ValueError:
            return _fail('--at must look like "2026-12-01 09:00" (local time)')
    count = await service.count(audience)
    print(f"recipients: {count}")
    if args.dry_run:
        return 0
    people = await _people(staff, args, audience, count, service)
    if isinstance(people, str):
        return _fail(people)
    author, approver = people
    draft = NoticeDraft(
        NoticeKind(args.kind), args.text, audience, args.claim, args.source, args.photo, send_at
    )
    try:
        notice_id = await service.create(draft, author, via="cli")
        confirmation = await service.confirm(notice_id, author, via="cli")
        if confirmation.awaiting:
            if approver is None:
                # More subscribers by now than a moment ago: it crossed the threshold.
                await service.cancel(notice_id, Principal.shell(), reason="needs approval")
                return _fail(f"notice {notice_id} now needs approval: give --approved-by; it was cancelled")
            confirmation = await service.approve(notice_id, approver, via="cli")
    except (NotAllowed, NoticeStateError) as error:
        return _fail(f"refused: {error}")
    if approver is not None and confirmation.status != "awaiting":
        print(f"approved by {approver.user_id}")
    print(f"notice {notice_id}: {confirmation.recipients} recipients queued")
    return 0


async def _people(
    staff: StaffService, args: argparse.Namespace, audience: Audience, count: int, service: NoticeService
) -> tuple[Principal, Principal | None] | str:
    """The author and (when given) the approver as registry members, or why they cannot be."""
    if not args.author:
        return "--author USER_ID is required: the Telegram user id of a staff member with the comms role"
    ids = [args.author] + ([args.approved_by] if args.approved_by else [])
    bad = [value for value in ids if not value.isdigit()]
    if bad:
        return f"not a Telegram user id: {', '.join(bad)}"
    if service.needs_approval(audience, count) and not args.approved_by:
        reach = "everyone" if audience.everyone else f"{count} recipients (more than {service.threshold})"
        return f"a notice to {reach} needs a second person's approval: give --approved-by USER_ID"
    if args.approved_by == args.author:
        return "--author and --approved-by must be two different people"
    names = {entry.platform_user_id: entry.name for entry in await staff.members()}
    author = Principal.telegram(args.author, names.get(args.author, ""))
    if await staff.may(author, Right.COMPOSE_NOTICE) is None:
        return f"--author {args.author} holds no comms role in the staff registry (see `staff list`)"
    if not args.approved_by:
        return author, None
    approver = Principal.telegram(args.approved_by, names.get(args.approved_by, ""))
    if await staff.may(approver, Right.APPROVE_NOTICE) is None:
        return f"--approved-by {args.approved_by} holds neither comms nor admin in the staff registry"
    return author, approver
