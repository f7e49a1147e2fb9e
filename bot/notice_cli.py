"""`python -m bot notice ...`: plan and steer notices from scripts; the running bot delivers them."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.catalog import Catalog
from bot.clock import SystemClock
from bot.config import Settings
from bot.notices import Audience, NoticeDraft, NoticeKind, NoticeService
from storage.models import Report


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 2


async def run_notice_command(settings: Settings, args: argparse.Namespace) -> int:
    """One notice action; 2 with a one-line reason when the input is wrong."""
    from bot.__main__ import database

    tz = ZoneInfo(settings.timezone)
    async with database(settings) as db:
        service = NoticeService(db, SystemClock(), tz)
        if args.action == "send":
            catalog = await Catalog.load(db)
            unknown = [m for m in args.municipality if catalog.municipality_name(m) is None and m != "*"]
            unknown += [s for s in args.sector if s not in catalog.sectors and s != "*"]
            if unknown:
                return _fail(
                    f"unknown municipality or sector: {', '.join(unknown)} (see `bodies` / `sectors`)"
                )
            if args.report:
                async with db.session() as session:
                    found = set(
                        await session.scalars(select(Report.number).where(Report.number.in_(args.report)))
                    )
                missing = [number for number in args.report if number not in found]
                if missing:
                    return _fail(f"unknown report number: {', '.join(missing)}")
            audience = Audience(
                everyone=args.everyone,
                municipalities=tuple(args.municipality),
                sectors=tuple(args.sector),
                platforms=tuple(args.platform),
                reports=tuple(args.report),
            )
            if audience.is_empty():
                return _fail("no audience: give --everyone, --municipality, --sector or --report")
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
            draft = NoticeDraft(
                NoticeKind(args.kind), args.text, audience, args.claim, args.source, args.photo, send_at
            )
            notice_id = await service.create(draft, args.author)
            planned = await service.confirm(notice_id)
            print(f"notice {notice_id}: {planned} recipients queued")
            return 0
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
        steer = {"pause": service.pause, "resume": service.resume, "cancel": service.cancel}[args.action]
        if not await steer(notice_id):
            return _fail(f"notice {notice_id} cannot be {args.action}d now")
        print(f"notice {notice_id}: {args.action}d")
        return 0
