"""All citizen dialogs, registered once: the runner of every messenger dispatches on this."""

from __future__ import annotations

from dialogs import intake, menu
from dialogs.engine import Dialogs


def build_dialogs() -> Dialogs:
    """A fresh registry with the intake steps, the menu scopes and commands."""
    dialogs = Dialogs()
    for step_class in intake.INTAKE_STEPS:
        dialogs.add_step(step_class())
    menu.register(dialogs)
    return dialogs
