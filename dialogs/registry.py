"""All citizen dialogs, registered once: the runner of every messenger dispatches on this."""

from __future__ import annotations

from bot.core.buttons import Scope
from dialogs import follow_up, intake, linking, menu, notices_menu
from dialogs.engine import Dialogs


def build_dialogs() -> Dialogs:
    """A fresh registry: intake steps, menu scopes and commands, account linking, notice subscriptions."""
    dialogs = Dialogs()
    for step_class in intake.INTAKE_STEPS:
        dialogs.add_step(step_class())
    dialogs.add_step(follow_up.PickReportStep())
    dialogs.add_step(follow_up.RatingCommentStep())
    menu.register(dialogs)
    linking.register(dialogs)
    notices_menu.register(dialogs)
    dialogs.scopes[Scope.FEEDBACK] = follow_up.on_feedback
    dialogs.scopes[Scope.RATING] = follow_up.on_rate
    dialogs.on_idle = follow_up.follow_up
    return dialogs
