"""Updates in and calls out: the getUpdates queue, executing a recorded call, pressing buttons,
waiting for the bot's replies, and what tests inspect (webhook delivery: webhook.py)."""

from __future__ import annotations

import asyncio
import bisect
import time
from abc import abstractmethod
from collections.abc import Callable
from typing import Any

from bot.sandbox.signal import Signal
from bot.sandbox.telegram.errors import _ApiError
from bot.sandbox.telegram.markup import _inline_buttons
from bot.sandbox.telegram.records import ApiCall, SentMessage, UploadedFile
from bot.sandbox.telegram.state import TelegramState, _Chat

# How long replies() waits, after a press was only answered, for the messages it causes.
PRESS_GRACE = 2.0


class UpdateQueue(TelegramState):
    """Updates, calls and waiting on top of the state."""

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for ``getUpdates`` (its ``update_id`` is assigned here); returns the id."""
        update_id = self._allocate_update_id()
        update = {**update, "update_id": update_id}
        self._updates[update_id] = update
        self._enqueue_for_polling(update_id, update)
        return update_id

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail (e.g. 429 with ``retry_after``, 403, 400)."""
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        queue = self._failures.setdefault(method.lower(), [])
        queue.extend(_ApiError(error_code, description, parameters) for _ in range(times))

    async def wait_activity(self, timeout: float) -> None:  # noqa: ASYNC109 - a bounded wait
        """Wait until the server records or answers a call or gets an update (at most ``timeout``)."""
        await self._signal.wait(timeout)

    def calls_of(self, method: str) -> list[ApiCall]:
        """All calls of ``method`` (case-insensitive), in order."""
        return [c for c in self.calls if c.method.lower() == method.lower()]

    async def wait_for(
        self,
        predicate: Callable[[ApiCall], bool],
        timeout: float = 15.0,  # noqa: ASYNC109 - a deadline for the predicate, not for one await
        since: int = 0,
    ) -> ApiCall:
        """The first answered call at index >= ``since`` matching ``predicate`` (waits up to ``timeout``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for call in self.calls[since:]:
                if call.done and predicate(call):
                    return call
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = ", ".join(f"{c.method}({c.ok})" for c in self.calls[since:][-15:])
                raise AssertionError(
                    f"no matching API call within {timeout} s; calls since {since}: {recent}"
                )
            await self._signal.wait(remaining)

    def sent_to(self, chat_id: int) -> list[SentMessage]:
        """Messages the bot sent in that chat (latest content, deleted ones flagged), in order."""
        chat = self._chats.get(chat_id)
        return list(chat.sent) if chat else []

    def unanswered_callbacks(self) -> list[str]:
        """Ids of pushed callback queries the bot never answered (the client spinner keeps spinning)."""
        return [qid for qid, answered in self._callback_queries.items() if not answered]

    def pending_updates(self) -> int:
        """How many updates wait in the queue (not confirmed by ``offset`` yet)."""
        return len(self._queue)

    async def _execute(
        self,
        method: str,
        params: dict[str, Any],
        files: dict[str, UploadedFile],
        via_webhook_reply: bool = False,
    ) -> tuple[int, dict[str, Any]]:
        call = ApiCall(
            method=method,
            params=params,
            files=files,
            index=len(self.calls),
            via_webhook_reply=via_webhook_reply,
            at=time.time(),
        )
        self.calls.append(call)
        self._touch(call)
        status = 200
        body: dict[str, Any]
        try:
            failures = self._failures.get(method.lower())
            if failures:
                raise failures.pop(0)
            handler = self._handlers.get(method.lower())
            if handler is None:
                raise _ApiError(404, "Not Found: method not found")
            result = await handler(call)
        except _ApiError as error:
            call.ok, call.error_code, call.description = False, error.code, error.description
            body = {"ok": False, "error_code": error.code, "description": error.description}
            if error.parameters:
                body["parameters"] = error.parameters
            status = error.code
        except Exception as exc:  # a bug in the fake itself: make it loud but keep the Bot API shape
            call.ok, call.error_code, call.description = False, 500, f"Internal Server Error: {exc!r}"
            body = {"ok": False, "error_code": 500, "description": call.description}
            status = 500
        else:
            call.ok, call.result = True, result
            body = {"ok": True, "result": result}
        finally:
            if call.ok is None:  # cancelled (client went away) or crashed
                call.ok, call.description = False, "request was not answered"
            self._touch(call)
        return status, body

    def _touch(self, call: ApiCall) -> None:
        if call.method.lower() != "getupdates":
            self._last_activity = asyncio.get_running_loop().time()
        self._signal.fire()
        watched = self._chat_signals.get(str(call.params.get("chat_id")))
        if watched is not None:
            watched.fire()

    def _chat_signal(self, chat_id: int) -> Signal:
        """Fires on every call naming this chat: a wait for one chat's replies that is not woken
        by every other chat's (a load test has hundreds of citizens waiting at once)."""
        return self._chat_signals.setdefault(str(chat_id), Signal())

    def _allocate_update_id(self) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        return update_id

    def _enqueue_for_polling(self, update_id: int, update: Any) -> None:
        # Kept in id order: an update handed back from the webhook may be older than queued ones.
        bisect.insort(self._queue, (update_id, update), key=lambda entry: entry[0])
        self._signal.fire()

    @abstractmethod
    async def _deliver(self, update: dict[str, Any]) -> int:
        """Give a scripted update its id and send it the way the bot receives updates now
        (webhook or getUpdates); returns at once with the id, without waiting for the bot."""

    async def _push_callback(
        self, chat: _Chat, sender: dict[str, Any], message: dict[str, Any], data: str
    ) -> int:
        query_id = str(4_000_000_000_000_000_000 + next(self._counter))
        self._callback_queries[query_id] = False
        return await self._deliver(
            {
                "callback_query": {
                    "id": query_id,
                    "from": sender,
                    "message": message,
                    "chat_instance": chat.chat_instance,
                    "data": data,
                }
            }
        )

    def _find_button(
        self, chat: _Chat, text: str, contains: bool, thread_id: int | None = None
    ) -> tuple[SentMessage, dict[str, Any]]:
        visible: list[str] = []
        for sent in reversed(chat.sent):
            if sent.deleted or (thread_id is not None and sent.message_thread_id != thread_id):
                continue
            buttons = _inline_buttons(sent.reply_markup)
            if buttons:
                visible.append(f"#{sent.message_id}: {[b.get('text') for b in buttons]}")
            for button in buttons:
                label = str(button.get("text", ""))
                if label == text or (contains and text in label):
                    if "callback_data" not in button:
                        raise AssertionError(f"button {label!r} has no callback_data: {button}")
                    return sent, button
        shown = "; ".join(visible) or "none"
        raise AssertionError(f"no inline button {text!r} in chat {chat.id}; visible buttons: {shown}")

    async def _replies(
        self, chat_id: int, update_id: int | None, wait_seconds: float, settle: float
    ) -> list[SentMessage]:
        if update_id is None:
            raise AssertionError("nothing was sent yet, there is nothing to wait replies for")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        while update_id not in self._delivered_at:
            if loop.time() >= deadline:
                raise AssertionError(
                    f"update {update_id} was neither fetched with getUpdates nor POSTed to a webhook "
                    "(is polling running, or is the webhook set?)"
                )
            await self._signal.wait(deadline - loop.time())
        start = self._delivered_at[update_id]

        first_answer: list[float] = []

        def answered() -> bool:
            calls = [c.method.lower() for c in self.calls[start:] if c.method.lower() != "getupdates"]
            if any(method != "answercallbackquery" for method in calls):
                return True
            if not calls:
                return False
            # A press answered first (its spinner stopped): the messages it causes come from the
            # bot's outbox a moment later, so only a press with nothing else for a while is done.
            if not first_answer:
                first_answer.append(loop.time())
            return loop.time() - first_answer[0] >= PRESS_GRACE

        while not answered() and loop.time() < deadline:
            await self._signal.wait(min(deadline - loop.time(), PRESS_GRACE))
        if answered():
            while loop.time() < deadline:
                in_flight = any(not c.done and c.method.lower() != "getupdates" for c in self.calls[start:])
                quiet = loop.time() - self._last_activity
                if quiet >= settle and not in_flight:
                    break
                await asyncio.sleep(max(settle - quiet, 0.01))
        chat = self._chats.get(chat_id)
        if chat is None:
            return []
        return sorted((m for m in chat.sent if m.touched_at >= start), key=lambda m: m.message_id)
