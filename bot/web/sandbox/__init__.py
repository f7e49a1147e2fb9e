"""The sandbox page: a citizen's phone, a body's operator chat and the comms chat, on 127.0.0.1."""

from __future__ import annotations

from bot.web.sandbox.page import sandbox_page

__all__ = ["sandbox_page"]
