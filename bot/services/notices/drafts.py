"""A notice draft as the comms team wrote it: checked before it is stored, and its content as
stored (and hashed for approval)."""

from __future__ import annotations

from typing import Any

from bot.services.notices.content import (
    TEXT_LIMIT,
    NoticeDraft,
)


def check_draft(draft: NoticeDraft) -> None:
    """ValueError when a draft cannot become a notice."""
    if not draft.text.strip():
        raise ValueError("a notice needs a text")
    if draft.audience.is_empty():
        raise ValueError("a notice needs an audience")


def draft_content(draft: NoticeDraft) -> dict[str, Any]:
    """A draft's content as it is stored (and hashed for approval): kind, text, claim, source,
    photo, audience."""
    return {
        "kind": draft.kind.value,
        "text": draft.text.strip()[:TEXT_LIMIT],
        "claim": draft.claim.strip()[:TEXT_LIMIT] if draft.claim else None,
        "source": draft.source.strip()[:500] if draft.source else None,
        "photo": draft.photo,
        "audience": draft.audience.to_json(),
    }
