"""What a member types for the audience: municipality names and report numbers."""

from __future__ import annotations

import re

from bot.core.messages import Text
from bot.services.geo import MunicipalityDirectory

REPORT_NUMBER = re.compile(r"^(\d{2})-(\d{1,12})$")
SEND_AGAIN = Text("comms-send-again")


def resolve_municipalities(text: str, directory: MunicipalityDirectory) -> tuple[list[str], tuple[Text, ...]]:
    """Municipality ids for a typed list of names or ids, or ([], the problems to show)."""
    found: list[str] = []
    unknown: list[str] = []
    problems: list[Text] = []
    for piece in re.split(r"[,;\n]+", text):
        piece = piece.strip().strip(".")
        if not piece:
            continue
        direct = directory.get(piece) or directory.get(piece.lower())
        match = directory.by_text(piece)
        if direct is not None:
            chosen = direct.id
        elif match.best is not None:
            chosen = match.best.id
        elif match.candidates:
            options = ", ".join(c.name for c in match.candidates[:5])
            problems.append(Text("comms-municipalities-ambiguous", {"text": piece, "options": options}))
            continue
        else:
            unknown.append(piece)
            continue
        if chosen not in found:
            found.append(chosen)
    if unknown:
        problems.insert(0, Text("comms-municipalities-unknown", {"list": ", ".join(unknown)}))
    if problems or not found:
        return [], (*problems, SEND_AGAIN)
    return found, ()


def resolve_reports(text: str) -> tuple[list[str], tuple[Text, ...]]:
    """Report numbers ("26-000042", "26-42" or "№26-42"), checked by their shape only.

    Whether a number exists is never told: the preview shows only how many recipients there are
    in all, so typing numbers cannot map which reports exist."""
    numbers: list[str] = []
    malformed: list[str] = []
    for token in re.split(r"[\s,;]+", text):
        token = token.strip().lstrip("№#")
        if not token:
            continue
        match = REPORT_NUMBER.match(token)
        if match is None:
            malformed.append(token)
            continue
        number = f"{match.group(1)}-{int(match.group(2)):06d}"
        if number not in numbers:
            numbers.append(number)
    if malformed or not numbers:
        return [], (Text("comms-reports-malformed", {"list": ", ".join(malformed) or "—"}), SEND_AGAIN)
    return numbers, ()
