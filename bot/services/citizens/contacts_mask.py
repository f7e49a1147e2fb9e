"""Masking phone numbers and e-mail addresses in free text (a forgotten citizen's reports keep their
words for the body that must answer, but nothing that reaches the person)."""

from __future__ import annotations

import re

PHONE_MASK = "***"
EMAIL_MASK = "***@***"

# Russian numbers as people type them: +7 / 8 / 7, then a 3-digit code (maybe in brackets) and
# 7 digits, with any spaces and dashes between: "+7 (912) 000-00-01", "8-912-000 00 01",
# "79120000001". Masking a long number that only looks like a phone is the safe mistake.
_SEP = r"[\s\-\u2010-\u2015.]*"
_PHONE = re.compile(
    rf"(?<!\d)(?:\+{_SEP}7|8|7){_SEP}\(?{_SEP}\d{{3}}{_SEP}\)?(?:{_SEP}\d){{7}}(?!\d)",
)
_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")


def mask_contacts(text: str) -> str:
    """`text` with every e-mail address and Russian phone number replaced by a placeholder."""
    # E-mails first: a phone-like run of digits inside an address must not split it.
    return _PHONE.sub(PHONE_MASK, _EMAIL.sub(EMAIL_MASK, text))
