"""Block contacts: who heads and who curates each sector block (block_contacts.yaml, edited by
admins); escalations fall back to them when the staff registry names nobody."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.services.catalog import DATA_DIR
from storage.db import Database
from storage.models import BlockContact, Sector

log = logging.getLogger(__name__)

HEAD = "head"
CURATOR = "curator"
LEVELS = (HEAD, CURATOR)


@dataclass(frozen=True)
class BlockContactSpec:
    """A block contact as declared in block_contacts.yaml."""

    sector_id: str
    level: str
    name: str
    platform_user_id: str | None


def load_block_contacts(path: Path | None = None) -> list[BlockContactSpec]:
    """Block heads and curators as declared in bot/data/block_contacts.yaml."""
    raw = yaml.safe_load((path or DATA_DIR / "block_contacts.yaml").read_text(encoding="utf-8"))
    specs = []
    for item in raw["block_contacts"]:
        level = str(item["level"])
        if level not in LEVELS:
            raise ValueError(f"block contact level must be one of {LEVELS}, got {level!r}")
        user = item.get("platform_user_id")
        specs.append(
            BlockContactSpec(
                sector_id=str(item["sector"]),
                level=level,
                name=str(item["name"]),
                platform_user_id=str(user) if user not in (None, "") else None,
            )
        )
    return specs


async def seed_block_contacts(db: Database, path: Path | None = None) -> None:
    """Insert the (sector, level) contacts the database lacks; existing (maybe edited) rows stay."""
    specs = load_block_contacts(path)
    try:
        async with db.session() as session:
            sectors = set(await session.scalars(select(Sector.id)))
            have = {
                (s, level)
                for s, level in await session.execute(select(BlockContact.sector_id, BlockContact.level))
            }
            for spec in specs:
                if spec.sector_id not in sectors:
                    log.warning("block contact for unknown sector %s skipped", spec.sector_id)
                    continue
                if (spec.sector_id, spec.level) not in have:
                    session.add(
                        BlockContact(
                            sector_id=spec.sector_id,
                            level=spec.level,
                            name=spec.name,
                            platform_user_id=spec.platform_user_id,
                        )
                    )
    except IntegrityError:
        # Another process seeded the same rows at the same moment; theirs are as good as ours.
        log.info("block contacts were seeded concurrently")


async def set_block_contact(
    db: Database, sector_id: str, level: str, platform_user_id: str | None, name: str | None = None
) -> None:
    """Set who a sector block escalates to (for the CLI); an empty user id means topic notices only."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    user = platform_user_id.strip() if platform_user_id else None
    async with db.session() as session:
        if await session.get(Sector, sector_id) is None:
            raise ValueError(f"unknown sector {sector_id!r}")
        row = await session.scalar(
            select(BlockContact).where(BlockContact.sector_id == sector_id, BlockContact.level == level)
        )
        if row is None:
            default = next(
                (s.name for s in load_block_contacts() if (s.sector_id, s.level) == (sector_id, level)),
                f"{level}: {sector_id}",
            )
            session.add(
                BlockContact(sector_id=sector_id, level=level, name=name or default, platform_user_id=user)
            )
            return
        row.platform_user_id = user or None
        if name:
            row.name = name
