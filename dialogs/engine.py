"""The dialog runner: one Inbound in, a list of Views out, state persisted between the two.

Written once for every messenger. A step is a small object with a prompt and two reactions (to
input and to its own buttons); the runner does what is common: consent gate, flood control,
expiry, stale-button checks, back and cancel, and keeping the state. The pieces dialogs are made
of live in `dialogs.steps` and are re-exported here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bot.core.i18n import pick_language
from bot.core.messages import Ask, Inbound, InboundKind, Text, View
from bot.services.citizens.accounts import CitizenInfo
from bot.services.citizens.flood import FloodVerdict
from dialogs.steps import (
    BACK,
    CANCEL,
    CommandHandler,
    Context,
    Dialogs,
    DialogServices,
    GlobalHandler,
    Reply,
    Step,
    Transition,
    start_dialog,
)
from storage.db import TRANSIENT_ERRORS
from storage.unit import commit_unit

__all__ = [
    "BACK",
    "CANCEL",
    "CommandHandler",
    "Context",
    "DialogRunner",
    "DialogServices",
    "Dialogs",
    "GlobalHandler",
    "Reply",
    "Step",
    "Transition",
    "start_dialog",
]

log = logging.getLogger(__name__)

# The state remembers the last update it applied, so that update is never applied twice.
APPLIED = "applied"


class DialogRunner:
    """Turns each Inbound into Views, keeping each citizen's updates strictly one after another."""

    def __init__(
        self, services: DialogServices, dialogs: Dialogs, retry_delays: tuple[float, ...] = (0.5, 1.5, 3.0)
    ) -> None:
        self.services = services
        self.dialogs = dialogs
        # Filing is idempotent and state is written last, so a retried update never doubles anything.
        self.retry_delays = retry_delays

    async def handle(self, inbound: Inbound) -> Reply:
        """React to one thing a citizen did; a store briefly down is retried, then apologised for.

        An update from the inbound queue (it has a `key`) is not apologised for: the error goes
        up, and the queue tries it again once storage is back.
        """
        if inbound.key and self.services.replies is not None:
            return await self._handle_once(inbound)
        for delay in (*self.retry_delays, None):
            try:
                return await self._handle_once(inbound)
            except TRANSIENT_ERRORS as error:
                if delay is None:
                    log.error("storage unavailable, update from %s not handled: %r", inbound.state_key, error)
                    return Reply(pick_language(inbound.language_hint), [View.of("service-unavailable")])
                log.warning("storage error, retrying in %.1fs: %r", delay, error)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _handle_once(self, inbound: Inbound) -> Reply:
        services = self.services
        if self.dialogs.staff:
            # Staff are vouched for by the registry, not rate-limited like citizens.
            async with services.state.lock(inbound.state_key):
                return await self._handle_committed(inbound)
        verdict = await services.flood.hit(inbound.state_key)
        if verdict is FloodVerdict.DROP:
            return Reply(pick_language(inbound.language_hint), [])
        if verdict is FloodVerdict.WARN:
            citizen = await self._citizen(inbound)
            lang = citizen.language if citizen else self._language(inbound)
            seconds = int(services.flood.window_seconds) + 1
            flood = Reply(lang, [View.of("flood-warning", seconds=seconds)])
            return await self._queued(inbound, flood, known=citizen is not None)
        async with services.state.lock(inbound.state_key):
            return await self._handle_committed(inbound)

    async def _handle_committed(self, inbound: Inbound) -> Reply:
        reply = await self._handle_locked(inbound)
        # The update's unit of work (when the inbound worker opened one) is committed while the
        # citizen's lock is still held: their next update, in any process, sees all of this one.
        await commit_unit()
        return reply

    async def _queued(self, inbound: Inbound, reply: Reply, *, known: bool) -> Reply:
        """The reply put in the outbox under the update's key, when this runner queues citizens' replies."""
        replies = self.services.replies
        if self.dialogs.staff or replies is None or not inbound.key:
            return reply
        await replies.queue(inbound, reply.lang, reply.views, unknown_citizen=not known)
        return replace(reply, queued=True)

    async def _handle_locked(self, inbound: Inbound) -> Reply:
        services = self.services
        staff = self.dialogs.staff
        citizen = await self._citizen(inbound)
        lang = citizen.language if citizen else self._language(inbound)
        state = (await services.state.get(inbound.state_key)) if citizen or staff else None
        if inbound.key and state and state.get(APPLIED) == inbound.key:
            # Processed before a crash, up to its stored state: its reply is already queued.
            return Reply(lang, [], queued=True)
        ctx = Context(inbound, services, citizen, lang, dict(state or {}), services.clock.now(), self.dialogs)
        if staff and self.dialogs.gate is not None:
            refused = await self.dialogs.gate(ctx)
            if refused is not None:
                return Reply(lang, refused)
        before: list[View] = []
        if not staff and ctx.state.get("step") and self._expired(ctx):
            step = self.dialogs.steps.get(str(ctx.state["step"]))
            key = step.expired_key if step is not None else "dialog-expired"
            if key is not None:
                before.append(View.of(key))
            ctx.state.clear()
        previous_step = ctx.state.get("step")
        views = before + await self._dispatch(ctx)
        views = self._close_native_keyboard(previous_step, ctx, views)
        # Queued before the state is stored: redone after a crash, the update finds its reply queued.
        reply = await self._queued(inbound, Reply(ctx.lang, views), known=not self._ungated(ctx))
        if inbound.key:
            ctx.state[APPLIED] = inbound.key
        await self._persist(ctx, state)
        return reply

    async def _citizen(self, inbound: Inbound) -> CitizenInfo | None:
        if self.dialogs.staff:
            return None
        return await self.services.citizens.find(inbound.platform, inbound.user_id)

    def _language(self, inbound: Inbound) -> str:
        return self.dialogs.language if self.dialogs.staff else pick_language(inbound.language_hint)

    def _ungated(self, ctx: Context) -> bool:
        """A citizen who has not consented yet (staff audiences have no consent gate)."""
        return ctx.citizen is None and not self.dialogs.staff

    def _expired(self, ctx: Context) -> bool:
        updated = float(ctx.state.get("updated", 0.0))
        return ctx.now.timestamp() - updated > self.services.dialog_ttl.total_seconds()

    async def _persist(self, ctx: Context, before: Mapping[str, Any] | None) -> None:
        key = ctx.inbound.state_key
        if self._ungated(ctx):
            # Nothing is stored about anyone who has not consented (or who just asked to be forgotten).
            if before:
                await self.services.state.delete(key)
            return
        if ctx.state.get("step"):
            ctx.state["updated"] = ctx.now.timestamp()
            await self.services.state.set(key, ctx.state)
        elif before:
            await self.services.state.delete(key)

    async def _dispatch(self, ctx: Context) -> list[View]:
        inbound = ctx.inbound
        dialogs = self.dialogs
        if inbound.kind is InboundKind.COMMAND:
            command = inbound.command
            if self._ungated(ctx) and command not in dialogs.open_commands:
                return await self._consent(ctx)
            handler = dialogs.commands.get(command)
            if handler is None:
                return [View.of("unknown-command", command=command[:32])]
            return await handler(ctx)

        step = self._current_step(ctx)
        if inbound.kind is InboundKind.TEXT and step is not None and step.typed_buttons:
            pressed = await self._typed_button(ctx, step, inbound.text)
            if pressed is not None:
                ctx.inbound = inbound = replace(inbound, kind=InboundKind.BUTTON, button=pressed)

        if inbound.kind is InboundKind.BUTTON:
            scope, _, value = inbound.button.partition(":")
            if self._ungated(ctx) and scope not in dialogs.open_scopes:
                return await self._consent(ctx)
            global_handler = dialogs.scopes.get(scope)
            if global_handler is not None:
                return await global_handler(ctx, value)
            if step is None or not step.owns(scope):
                return await self._outdated(ctx, step)
            if value == CANCEL:
                return await self._cancel(ctx)
            if value == BACK:
                return await self._back(ctx, step)
            return await self._apply(ctx, step, await step.on_button(ctx, value))

        if self._ungated(ctx):
            return await self._consent(ctx)
        if step is None:
            if dialogs.on_idle is not None:
                handled = await dialogs.on_idle(ctx)
                if handled is not None:
                    return handled
            return self._idle(ctx)
        return await self._apply(ctx, step, await step.on_input(ctx))

    def _current_step(self, ctx: Context) -> Step | None:
        name = ctx.state.get("step")
        if not name:
            return None
        step = self.dialogs.steps.get(str(name))
        if step is None:
            # A deploy removed or renamed the step the citizen was on: start clean, don't crash.
            log.warning("dropping state at unknown step %s", name)
            ctx.state.clear()
        return step

    async def _typed_button(self, ctx: Context, step: Step, text: str) -> str | None:
        # Native reply keyboards (and people) send a button's label as plain text.
        wanted = text.strip().casefold()
        if not wanted or len(wanted) > 64:
            return None
        views = await step.prompt(ctx)
        for button in (b for view in views for b in view.all_buttons()):
            if ctx.label(button.label).strip().casefold() == wanted:
                return button.id
        return None

    async def _apply(self, ctx: Context, step: Step, transition: Transition) -> list[View]:
        views = list(transition.views)
        if transition.done:
            ctx.state.clear()
            if transition.menu and self.dialogs.main_menu is not None:
                views.append(self.dialogs.main_menu(ctx))
            return views
        if transition.goto is not None:
            trail: list[str] = ctx.state.setdefault("trail", [])
            if transition.goto != step.name:
                trail.append(step.name)
            ctx.state["step"] = transition.goto
            if transition.prompt:
                views += await self.dialogs.steps[transition.goto].prompt(ctx)
        return views

    async def _back(self, ctx: Context, step: Step) -> list[View]:
        trail: list[str] = ctx.state.setdefault("trail", [])
        if not trail:
            return await step.prompt(ctx)
        ctx.state["step"] = trail.pop()
        return await self.dialogs.steps[ctx.state["step"]].prompt(ctx)

    async def _cancel(self, ctx: Context) -> list[View]:
        ctx.state.clear()
        views = [View.of("dialog-cancelled")]
        if self.dialogs.main_menu is not None:
            views.append(self.dialogs.main_menu(ctx))
        return views

    async def _outdated(self, ctx: Context, step: Step | None) -> list[View]:
        views = [View.of("button-outdated")]
        if step is not None:
            views += await step.prompt(ctx)
        elif self.dialogs.main_menu is not None:
            views.append(self.dialogs.main_menu(ctx))
        return views

    async def _consent(self, ctx: Context) -> list[View]:
        if self.dialogs.consent_prompt is None:
            return []
        return await self.dialogs.consent_prompt(ctx)

    def _idle(self, ctx: Context) -> list[View]:
        key = "idle-unsupported" if ctx.inbound.kind is InboundKind.UNSUPPORTED else "idle-hint"
        views = [View.of(key)]
        if self.dialogs.main_menu is not None:
            views.append(self.dialogs.main_menu(ctx))
        return views

    def _close_native_keyboard(self, previous: Any, ctx: Context, views: list[View]) -> list[View]:
        # A location/contact request keyboard stays on screen until a message removes it; only a
        # message without inline buttons can carry that removal.
        was_asking = previous in self.dialogs.steps and self.dialogs.steps[previous].ask is not Ask.NONE
        now_step = ctx.state.get("step")
        still_asking = now_step in self.dialogs.steps and self.dialogs.steps[now_step].ask is not Ask.NONE
        if not was_asking or still_asking or not views or any(v.remove_keyboard for v in views):
            return views
        if not views[0].buttons and views[0].ask is Ask.NONE:
            return [replace(views[0], remove_keyboard=True), *views[1:]]
        return [View((Text("keyboard-closed"),), remove_keyboard=True), *views]
