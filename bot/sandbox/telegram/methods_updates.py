"""Bot API methods about the bot itself: getMe, getUpdates, commands (setWebhook: webhook.py)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from bot.sandbox.telegram.errors import _ApiError, _bad
from bot.sandbox.telegram.records import ApiCall, _as_int
from bot.sandbox.telegram.state import TelegramState


class UpdateMethods(TelegramState):
    """Bot API methods about the bot itself: getMe, getUpdates, commands (setWebhook: webhook.py)."""

    async def _get_me(self, call: ApiCall) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, call: ApiCall) -> Any:
        if self.webhook is not None:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete it first",
            )
        params = call.params
        offset = _as_int(params.get("offset") or 0, "offset")
        limit = min(max(_as_int(params.get("limit") or 100, "limit"), 1), 100)
        timeout = float(params.get("timeout") or 0)
        self._poll_generation += 1
        generation = self._poll_generation
        self._signal.fire()
        if offset > 0:
            self._queue = [(i, u) for i, u in self._queue if i >= offset]
        elif offset < 0:
            self._queue = self._queue[offset:]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise _ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            batch = self._queue[:limit]
            if batch or self._closing or loop.time() >= deadline:
                for update_id, _ in batch:
                    self._delivered_at.setdefault(update_id, len(self.calls))
                if batch:
                    self._signal.fire()
                return [update for _, update in batch]
            await self._signal.wait(deadline - loop.time())

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope")
        scope_type = str(scope.get("type", "default")) if isinstance(scope, dict) else "default"
        return scope_type, str(params.get("language_code") or "")

    async def _set_my_commands(self, call: ApiCall) -> Any:
        commands = call.params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("commands must be an array of at most 100 BotCommand")
        for command in commands:
            if not isinstance(command, dict) or not re.fullmatch(
                r"[a-z0-9_]{1,32}", str(command.get("command"))
            ):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(call.params)] = commands
        return True
